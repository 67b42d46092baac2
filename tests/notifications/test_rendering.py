"""Rendering every kind of email: French subjects, well-formed HTML, escaping, clear errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import get_args

import pytest

from services.notifications.domain import Recipient
from services.notifications.emails.letters import Cause, LetterError, letter_for
from services.notifications.emails.rendering import Renderer, RenderError, environment
from services.notifications.emails.samples import CAMILLE, sample_cause
from shared.contract.notifications import EmailKind
from shared.contract.programme import Person, TopicAcceptedData
from tests.notifications.wellformed import assert_well_formed

KINDS: tuple[EmailKind, ...] = get_args(EmailKind)
SUBJECTS = {
    "welcome": "Bienvenue dans le groupe d'échange PAT/SAT",
    "session_invitation": (
        "Invitation : Webconférence de lancement – mardi 21 janvier 2020, 10h-12h"
    ),
    "reminder": "Rappel : Webconférence de lancement demain – mardi 21 janvier 2020, 10h-12h",
    "leave_confirmation": "Vous avez quitté le groupe d'échange PAT/SAT",
}
WITH_CALENDAR = {
    "session_invitation": "REQUEST",
    "session_update": "REQUEST",
    "session_cancellation": "CANCEL",
    "signup_confirmation": "REQUEST",
    "signup_promotion": "REQUEST",
    "expert_confirmation": "REQUEST",
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_well_formed_html_and_plain_text_in_french(renderer, kind):
    email = renderer.render(letter_for(sample_cause(kind)), CAMILLE)
    root = assert_well_formed(email.html)
    assert root.attrib["lang"] == "fr"
    assert email.text.startswith("Bonjour Camille,\n\n")
    assert "Bonjour Camille," in email.html
    assert "L'équipe de Cap Rural" in email.text
    assert "{{" not in email.text + email.html
    assert email.subject
    assert "\n" not in email.subject
    assert email.calendar_method == WITH_CALENDAR.get(kind)
    assert (email.calendar is not None) == (kind in WITH_CALENDAR)
    if kind in SUBJECTS:
        assert email.subject == SUBJECTS[kind]


def test_the_rejection_explains_the_rule_and_how_to_join_single_sessions(renderer):
    email = renderer.render(letter_for(sample_cause("rejection")), CAMILLE)
    assert "chef·fes de projet" in email.text
    assert "séance par séance" in email.text
    assert "réservé aux chargés de mission" in email.text  # the detail from the event


def test_the_invitation_gives_the_question_the_slot_and_the_link(renderer):
    email = renderer.render(letter_for(sample_cause("session_invitation")), CAMILLE)
    assert "Quelles questions voulons-nous traiter ensemble en 2020 ?" in email.text
    assert "mardi 21 janvier 2020, 10h-12h" in email.html
    assert 'href="https://visio.caprural.org/pat/2020-01-lancement"' in email.html


def test_markup_in_event_data_is_escaped_in_html_and_kept_in_text(renderer):
    cause = sample_cause("topic_notice")
    hostile = TopicAcceptedData(
        topic_id="t1",
        title='<script>alert("x")</script> & co',
        question="<img src=x onerror=alert(1)>?",
        proposed_by=Person(email="a@b.fr", name="Eve <b>bold</b>"),
        origin="member",
    )
    email = renderer.render(letter_for(replace(cause, data=hostile)), CAMILLE)
    assert "<script>" not in email.html
    assert "<img" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in email.html
    assert "Eve &lt;b&gt;bold&lt;/b&gt;" in email.html
    assert '<script>alert("x")</script> & co' in email.text
    assert_well_formed(email.html)


def test_a_recipient_without_a_first_name_is_greeted_plainly(renderer):
    email = renderer.render(letter_for(sample_cause("topic_notice")), Recipient("c@caprural.org"))
    assert email.text.startswith("Bonjour,\n")


def test_a_sign_up_email_without_its_session_is_a_clear_error():
    cause = replace(sample_cause("signup_confirmation"), session=None)
    with pytest.raises(LetterError, match="needs the session"):
        letter_for(cause)


def test_a_letter_made_from_the_wrong_data_is_a_clear_error():
    cause: Cause = replace(sample_cause("welcome"), kind="reminder")
    with pytest.raises(LetterError, match="SessionReminderDueData"):
        letter_for(cause)


def broken_renderer(tmp_path: Path, html: str, text: str = "Bonjour {{ x }}") -> Renderer:
    (tmp_path / "welcome.html").write_text(html, encoding="utf-8")
    (tmp_path / "welcome.txt").write_text(text, encoding="utf-8")
    return Renderer(environment(tmp_path))


def test_a_template_using_a_missing_variable_is_an_error_not_an_empty_email(tmp_path):
    renderer = broken_renderer(tmp_path, "<p>{{ member.nickname }}</p>")
    with pytest.raises(RenderError, match=r"welcome\.html.*nickname"):
        renderer.render(letter_for(sample_cause("welcome")), CAMILLE)


def test_a_template_rendering_nothing_is_an_error(tmp_path):
    renderer = broken_renderer(tmp_path, "{% if false %}x{% endif %}  \n")
    with pytest.raises(RenderError, match="empty body"):
        renderer.render(letter_for(sample_cause("welcome")), CAMILLE)


def test_a_template_with_a_syntax_error_stops_the_service_at_start(tmp_path):
    renderer = broken_renderer(tmp_path, "<p>{% if %}</p>")
    with pytest.raises(RenderError, match=r"welcome\.html"):
        renderer.check(["welcome"])


def test_every_kind_has_both_templates(renderer):
    renderer.check(list(KINDS))
