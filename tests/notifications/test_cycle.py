"""Notifications of the session cycle, on both units of work: who is planned which email,
and when; the compte rendu rendered safely."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.notifications import cycle, handlers
from services.notifications.emails.rendering import paragraphs
from tests.harness.data import event
from tests.notifications.builders import enrolment
from tests.notifications.test_handlers import (
    COORDINATION,
    DEPS,
    SOON,
    join,
    planned,
    upcoming,
)


async def given_a_session_with_members_and_participants(backend) -> None:
    await join(backend, "member@cc-exemple.fr")
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    for email, status in (("guest@commune.fr", "enrolled"), ("waiting@commune.fr", "waitlisted")):
        signup = enrolment("s1", email, status=status)
        await backend.run(handlers.confirm_signup, event("participant_enrolled", signup), DEPS)


def attendance(*emails: str) -> dict[str, Any]:
    return {
        "session_id": "s1",
        "attendees": [{"email": e, "first_name": "Camille"} for e in emails],
        "unmatched": 1,
        "ends_at": (SOON + timedelta(hours=2)).isoformat(),
    }


async def test_attendees_are_thanked_once_the_session_ends_once_whatever_the_corrections(
    backend,
):
    await given_a_session_with_members_and_participants(backend)
    first = event("attendance_accepted", attendance("member@cc-exemple.fr", "guest@commune.fr"))
    corrected = event("attendance_accepted", attendance("member@cc-exemple.fr"))

    await backend.run(cycle.thank_attendees, first, DEPS)
    await backend.run(cycle.thank_attendees, corrected, DEPS)

    assert ("thanks", "pending") in await planned(backend, "member@cc-exemple.fr")
    thanks = [d for d in await planned(backend, "member@cc-exemple.fr") if d[0] == "thanks"]
    assert len(thanks) == 1
    assert ("thanks", "cancelled") in await planned(backend, "guest@commune.fr")


async def test_the_compte_rendu_goes_to_members_and_the_enrolled_and_needs_to_coordinators(
    backend,
):
    await given_a_session_with_members_and_participants(backend)
    report = {
        **upcoming("s1"),
        "report_version": 1,
        "summary": "Échanges riches.",
        "resources": [],
        "next_steps": [],
        "expertise_needs": ["Un juriste"],
    }
    await backend.run(cycle.share_report, event("session_report_shared", report), DEPS)

    assert ("session_report", "pending") in await planned(backend, "member@cc-exemple.fr")
    assert ("session_report", "pending") in await planned(backend, "guest@commune.fr")
    assert all(k != "session_report" for k, _ in await planned(backend, "waiting@commune.fr"))
    assert await planned(backend, COORDINATION) == [("expertise_needs", "pending")]


async def test_the_digest_and_later_questions_go_to_the_coordinators(backend):
    digest = {**upcoming("s1"), "questions": []}
    forwarded = {
        **upcoming("s1"),
        "asked": {"asked_by": "Camille Martin", "question": "?", "asked_at": SOON.isoformat()},
    }
    await backend.run(cycle.send_question_digest, event("question_digest_due", digest), DEPS)
    await backend.run(cycle.forward_question, event("session_question_forwarded", forwarded), DEPS)

    assert await planned(backend, COORDINATION) == [
        ("question_digest", "pending"),
        ("question_forward", "pending"),
    ]


async def test_a_refused_question_rating_or_attendance_is_explained(backend):
    await given_a_session_with_members_and_participants(backend)
    question = {
        "session_id": "s1",
        "email": "stranger@asso.org",
        "reason": "not_a_participant",
        "detail": "Réservé aux participant·es.",
    }
    rating = {**question, "reason": "not_an_attendee"}
    refused = {"session_id": "s1", "reason": "not_started", "detail": "Pas commencé."}
    await backend.run(
        cycle.explain_question_rejection, event("session_question_rejected", question), DEPS
    )
    await backend.run(cycle.explain_feedback_rejection, event("feedback_rejected", rating), DEPS)
    await backend.run(
        cycle.explain_attendance_rejection, event("attendance_rejected", refused), DEPS
    )

    assert await planned(backend, "stranger@asso.org") == [
        ("feedback_rejection", "pending"),
        ("question_rejection", "pending"),
    ]
    assert await planned(backend, COORDINATION) == [("attendance_rejection", "pending")]


def test_a_summary_is_plain_text_made_into_paragraphs_and_lists_never_html():
    html = paragraphs(
        "Intro <script>alert(1)</script>\nsuite\n\n- un <b>point</b>\n* deux\n\n"
        "<img src=x onerror=alert(1)>"
    )

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<li>un &lt;b&gt;point&lt;/b&gt;</li><li>deux</li>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<p ") == 2
