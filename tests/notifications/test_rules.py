"""Pure rules: delivery keys, recipients, addresses, headers, SMTP outcomes, retries."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.domain import (
    Deferred,
    Recipient,
    Refused,
    RetryPolicy,
    address_problem,
    delivery_id,
    header_safe,
    is_newer_session,
    outcome_of_code,
    signup_kind,
    unique_recipients,
)
from shared.identity import email_key


def test_addresses_are_compared_trimmed_and_case_insensitively():
    assert email_key("  Camille.Martin@CC-Exemple.fr ") == "camille.martin@cc-exemple.fr"


def test_the_delivery_key_is_stable_and_distinguishes_cause_recipient_and_kind():
    key = delivery_id(cause_id="e1", recipient_key="a@b.fr", kind="welcome")
    assert key == delivery_id(cause_id="e1", recipient_key="a@b.fr", kind="welcome")
    assert (
        len(
            {
                key,
                delivery_id(cause_id="e2", recipient_key="a@b.fr", kind="welcome"),
                delivery_id(cause_id="e1", recipient_key="c@b.fr", kind="welcome"),
                delivery_id(cause_id="e1", recipient_key="a@b.fr", kind="reminder"),
            }
        )
        == 4
    )


def test_a_person_who_is_member_and_participant_is_one_recipient():
    member = Recipient("Camille@cc.fr", "Camille", "Martin")
    guest = Recipient("camille@CC.fr", "Cam", None)
    other = Recipient("dominique@asso.fr")
    assert unique_recipients([member, other, guest]) == [member, other]


def test_each_enrolment_status_has_its_email():
    assert signup_kind(status="enrolled", promoted=False) == "signup_confirmation"
    assert signup_kind(status="enrolled", promoted=True) == "signup_promotion"
    assert signup_kind(status="waitlisted", promoted=False) == "signup_waitlist"


def test_an_address_that_cannot_be_sent_to_is_explained():
    assert address_problem("camille@cc-exemple.fr") is None
    assert address_problem("pat@caprural.test") is None
    problem = address_problem("pas-une-adresse")
    assert problem is not None
    assert "n'est pas valide : il manque le signe @" in problem
    reserved = address_problem("camille@cc-exemple.local")  # one rule with registration's
    assert reserved is not None
    assert "réservé" in reserved


@settings(deadline=None)
@given(st.text(max_size=400))
def test_a_header_value_never_carries_a_line_break_and_stays_bounded(value):
    safe = header_safe(value, limit=120)
    assert not any(c in safe for c in "\r\n\x00\x0b\x0c\x85\u2028\u2029")
    assert len(safe) <= 120


def test_a_header_value_keeps_ordinary_text():
    assert header_safe("Invitation : Gouvernance – mardi") == "Invitation : Gouvernance – mardi"
    assert header_safe("a\r\nBcc: victim@example.org") == "a Bcc: victim@example.org"


def test_a_5xx_reply_is_permanent_and_anything_else_is_retried():
    assert outcome_of_code(550, "5.1.1 Mailbox unavailable") == Refused(
        "550 5.1.1 Mailbox unavailable"
    )
    assert isinstance(outcome_of_code(451, "try again later"), Deferred)
    assert isinstance(outcome_of_code(421, "closing"), Deferred)


def test_retries_back_off_exponentially_up_to_a_ceiling():
    policy = RetryPolicy(base_seconds=2, max_seconds=60, max_attempts=5)
    assert timedelta(seconds=1) <= policy.delay(1) <= timedelta(seconds=2)
    assert timedelta(seconds=4) <= policy.delay(3) <= timedelta(seconds=8)
    assert timedelta(seconds=30) <= policy.delay(40) <= timedelta(seconds=60)
    assert not policy.gives_up(4)
    assert policy.gives_up(5)


def test_a_session_version_replaces_the_projection_only_when_newer():
    assert is_newer_session(stored_sequence=None, incoming_sequence=0)
    assert is_newer_session(stored_sequence=0, incoming_sequence=1)
    assert not is_newer_session(stored_sequence=1, incoming_sequence=1)
    assert not is_newer_session(stored_sequence=2, incoming_sequence=1)
