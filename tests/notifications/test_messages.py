"""MIME messages: alternatives, the invitation parts, safe headers, stable Message-ID."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.charset import Charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from services.notifications.domain import Recipient, header_safe
from services.notifications.emails import Composer, mime
from services.notifications.emails.letters import letter_for
from services.notifications.emails.mime import WIRE, build_message, message_id
from services.notifications.emails.rendering import RenderedEmail, Renderer
from services.notifications.emails.samples import (
    CAMILLE,
    ORGANIZER,
    SAMPLE_LINKS,
    WHEN,
    sample_cause,
    sample_data,
    sample_delivery,
)
from services.notifications.emails.samples import session as sample_session
from services.notifications.records import SessionVersion
from shared.contract.scheduling import SessionData
from shared.links import Link
from tests.notifications.builders import html_part, text_part

DATE = datetime(2020, 1, 10, 9, 30, tzinfo=UTC)
FROM = "Cap Rural <pat@caprural.org>"


def message_for(kind, recipient=CAMILLE):
    email = Renderer().render(letter_for(sample_cause(kind)), recipient)
    built = build_message(email, mail_from=FROM, recipient=recipient, delivery_id="d-1", date=DATE)
    return message_from_bytes(built, policy=policy.default)


def test_an_invitation_has_text_html_and_calendar_alternatives_and_an_ics_attachment():
    message = message_for("session_invitation")
    assert message.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in message.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    attachment = next(p for p in message.walk() if p.get_content_type() == "application/ics")
    assert attachment.get_filename() == "invitation.ics"
    assert b"METHOD:REQUEST" in attachment.get_payload(decode=True)


def test_a_welcome_is_text_and_html_only():
    message = message_for("welcome")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_headers_say_who_what_and_are_stable_per_delivery():
    message = message_for("welcome")
    assert message["From"] == FROM
    assert message["To"] == "Camille Martin <camille.martin@cc-exemple.fr>"
    assert message["Subject"] == "Bienvenue dans le groupe d'échange PAT/SAT"
    assert message["Message-ID"] == "<d-1@caprural.org>" == message_id("d-1", FROM)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "fr"


def test_line_breaks_in_a_name_never_make_a_new_header():
    intruder = Recipient("camille@cc-exemple.fr", "Eve\r\nBcc: victim@example.org", "X\nY")
    raw = Renderer().render(letter_for(sample_cause("welcome")), intruder)
    built = build_message(raw, mail_from=FROM, recipient=intruder, delivery_id="d", date=DATE)
    wire = built
    headers = wire.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers
    parsed = message_from_bytes(wire, policy=policy.default)
    assert parsed["Bcc"] is None
    assert "victim@example.org" in parsed["To"]  # as text of the display name, harmless
    assert parsed["To"].addresses[0].addr_spec == "camille@cc-exemple.fr"


def test_every_line_on_the_wire_is_short_and_crlf_terminated():
    email = Renderer().render(letter_for(sample_cause("session_update")), CAMILLE)
    wire = build_message(email, mail_from=FROM, recipient=CAMILLE, delivery_id="d", date=DATE)
    assert all(len(line) <= 78 for line in wire.split(b"\r\n"))
    assert b"\n" not in wire.replace(b"\r\n", b"")
    assert wire.isascii()


COMPAT32 = policy.compat32.clone(linesep="\r\n", max_line_length=78)


@examples(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["Subject", "To", "Content-Type", "X-Caprural-Kind"]),
    value=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=120),
)
@example(name="Subject", value="0\x1e0")  # a record separator splits a line for compat32
@example(name="Subject", value="a\tb")
def test_the_wire_policy_folds_every_header_as_compat32_does(name, value):
    assert WIRE.fold_binary(name, value) == COMPAT32.fold_binary(name, value)


@examples(max_examples=300, deadline=None)
@given(
    value=st.text(alphabet="<>:/.-_=?&%~aZ9", max_size=400)  # links
    | st.text(alphabet="<>:/.-_=?&%;, ~aZ9", max_size=400),
    name=st.sampled_from(["List-Unsubscribe", "To", "X"]),
)
@example(value="<https://pat.caprural.org/l/" + "a" * 200 + ">", name="List-Unsubscribe")
def test_the_wire_policy_folds_a_long_link_as_compat32_does(value, name):
    assert WIRE.fold_binary(name, value) == COMPAT32.fold_binary(name, value)


@examples(max_examples=200, deadline=None)
@given(value=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=300))
def test_the_wire_policy_folds_an_encoded_subject_as_compat32_does(value):
    def subject() -> Any:  # a Header, as build_message sets it (typed str by typeshed)
        return Header(value, "utf-8", header_name="Subject")

    assert WIRE.fold_binary("Subject", subject()) == COMPAT32.fold_binary("Subject", subject())


def test_the_wire_policy_folds_the_headers_of_the_messages_as_compat32_does():
    for kind in ("session_invitation", "welcome"):
        email = Renderer().render(letter_for(sample_cause(kind)), CAMILLE)
        built = build_message(email, mail_from=FROM, recipient=CAMILLE, delivery_id="d", date=DATE)
        parsed = message_from_bytes(built, policy=policy.compat32)
        for part in parsed.walk():
            for name, value in part.items():
                assert WIRE.fold_binary(name, value) == COMPAT32.fold_binary(name, value)


def stdlib_message(email, *, mail_from, recipient, delivery_id, date, boundaries):
    """The reference: the same message built with the email package's classes and its
    generator (what build_message did before it wrote the bytes itself)."""
    utf8 = Charset("utf-8")
    alternatives = MIMEMultipart("alternative", boundary=next(boundaries))
    alternatives.attach(MIMEText(email.text, "plain", utf8))  # type: ignore[arg-type]
    alternatives.attach(MIMEText(email.html, "html", utf8))  # type: ignore[arg-type]
    message = alternatives
    if email.calendar is not None and email.calendar_method is not None:
        calendar = MIMEText(email.calendar.decode("utf-8"), "calendar", utf8)  # type: ignore[arg-type]
        calendar.set_param("method", email.calendar_method)
        alternatives.attach(calendar)
        name = "annulation.ics" if email.calendar_method == "CANCEL" else "invitation.ics"
        attachment = MIMEApplication(email.calendar, "ics")
        attachment.add_header("Content-Disposition", "attachment", filename=name)
        message = MIMEMultipart("mixed", boundary=next(boundaries))
        message.attach(alternatives)
        message.attach(attachment)
    sender = parseaddr(mail_from)
    message["From"] = formataddr((header_safe(sender[0], limit=120), sender[1]), "utf-8")
    message["To"] = formataddr(
        (header_safe(recipient.display_name, limit=120), header_safe(recipient.email, limit=254)),
        "utf-8",
    )
    message["Subject"] = Header(header_safe(email.subject), "utf-8", header_name="Subject")  # type: ignore[assignment]
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(delivery_id, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "fr"
    message["X-Caprural-Kind"] = email.kind
    if email.unsubscribe:
        message["List-Unsubscribe"] = f"<{header_safe(email.unsubscribe, limit=2000)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message.as_bytes(policy=COMPAT32)


def built_and_reference(monkeypatch, email, recipient=CAMILLE):
    """build_message's bytes and the email package's, with the same boundaries."""
    boundaries = [f"=_{index:024x}" for index in range(2)]
    made = iter(boundaries)
    monkeypatch.setattr(mime, "_boundary", lambda: next(made))
    built = build_message(email, mail_from=FROM, recipient=recipient, delivery_id="d", date=DATE)
    reference = stdlib_message(
        email,
        mail_from=FROM,
        recipient=recipient,
        delivery_id="d",
        date=DATE,
        boundaries=iter(boundaries),
    )
    return built, reference


def test_every_kind_of_email_is_byte_for_byte_what_the_email_package_writes(monkeypatch):
    for kind in sorted(sample_data()):
        email = Renderer().render(letter_for(sample_cause(kind)), CAMILLE)
        built, reference = built_and_reference(monkeypatch, email)
        assert built == reference, kind


@examples(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=400),
    html=st.text(max_size=400),
    subject=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=150),
    name=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=60),
    calendar=st.one_of(st.none(), st.binary(max_size=300)),
    method=st.sampled_from(["REQUEST", "CANCEL"]),
    unsubscribe=st.one_of(st.none(), st.text(max_size=200)),
)
def test_a_message_is_byte_for_byte_what_the_email_package_writes(
    text, html, subject, name, calendar, method, unsubscribe
):
    if calendar is not None:  # an .ics is UTF-8 text, sent as such and attached
        calendar = calendar.decode("utf-8", "replace").encode("utf-8")
    email = RenderedEmail(
        kind="welcome",
        subject=subject,
        text=text,
        html=html,
        calendar=calendar,
        calendar_method=method if calendar is not None else None,
        unsubscribe=unsubscribe,
    )
    recipient = Recipient(email="camille@cc-exemple.fr", first_name=name or None)
    with pytest.MonkeyPatch.context() as patched:
        built, reference = built_and_reference(patched, email, recipient)
    assert built == reference


# --- one-click links -------------------------------------------------------------------


def composed(kind, *, audience=None):
    """The message the sender would send for a sample delivery of `kind`."""
    delivery, content = sample_delivery(kind)
    assert delivery.recipient is not None
    delivery = replace(delivery, recipient=replace(delivery.recipient, audience=audience))
    composer = Composer(mail_from=ORGANIZER, clock=lambda: WHEN, links=SAMPLE_LINKS)
    known = SessionVersion(
        session_id="2020-01-lancement",
        sequence=0,
        starts_at=WHEN,
        data=SessionData(**sample_session()).model_dump(mode="json"),
        event_id="e",
        event_type="session_scheduled",
        event_time=WHEN,
    )
    message, _ = composer.compose(delivery, content, known)
    assert isinstance(message, bytes)
    return message_from_bytes(message, policy=policy.default)


def links_in(message):
    """Every link to the gateway in the plain text, read back as what it does."""
    found = {}
    for word in text_part(message).split():
        if "/l/" in word:
            link = SAMPLE_LINKS.read(word.rsplit("/l/", 1)[1])
            assert isinstance(link, Link), link
            found[link.action] = (link, word)
    return found


def test_a_member_s_invitation_can_unsubscribe_in_one_click_and_bring_a_question():
    message = composed("session_invitation", audience="member")

    links = links_in(message)
    assert set(links) == {"unsubscribe", "question"}
    unsubscribe, url = links["unsubscribe"]
    assert (unsubscribe.audience, unsubscribe.email) == ("member", CAMILLE.email)
    assert message["List-Unsubscribe"].strip() == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert links["question"][0].session_id == "2020-01-lancement"
    assert "quitter le groupe" in html_part(message)


def test_an_answer_to_the_person_s_own_action_has_no_list_unsubscribe():
    welcome = composed("welcome")
    place = composed("signup_confirmation")

    assert welcome["List-Unsubscribe"] is None
    assert place["List-Unsubscribe"] is None
    assert set(links_in(place)) == {"cancel"}
    assert links_in(place)["cancel"][0].session_id == "2020-01-lancement"


def test_the_same_email_sent_again_makes_the_same_requests():
    first, _ = links_in(composed("signup_confirmation"))["cancel"]
    again, _ = links_in(composed("signup_confirmation"))["cancel"]

    assert first.event_id == again.event_id


def test_an_announcement_signs_the_interested_person_up_in_one_click():
    message = composed("session_announcement", audience="interested")

    links = links_in(message)
    assert set(links) == {"signup", "unsubscribe"}
    signup, _ = links["signup"]
    assert (signup.first_name, signup.last_name) == ("Camille", "Martin")
    assert links["unsubscribe"][0].audience == "interested"
    assert "Il reste 12 places." in text_part(message)


def test_a_confirmation_link_confirms_what_the_form_asked():
    links = links_in(composed("confirmation_link"))

    confirm, _ = links["confirm_signup"]
    assert (confirm.session_id, confirm.email) == ("2020-01-lancement", CAMILLE.email)
    assert (confirm.first_name, confirm.last_name) == ("Camille", "Martin")
