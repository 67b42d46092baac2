"""Registration's part of the session cycle, on both units of work: who may ask a
question, who attended, who may rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.registration import cycle, handlers
from services.registration.handlers import Deps
from tests.harness.data import event, registration
from tests.registration.support import session_data, signup
from tests.registration.test_handlers import NOW

LATER = NOW + timedelta(days=10, hours=1)  # during the session scheduled in 10 days
AFTER = NOW + timedelta(days=11)


def deps(at=NOW) -> Deps:
    return Deps(clock=lambda: at, capacity=2)


async def given_a_session_with_a_member_and_a_guest(backend) -> None:
    await backend.run(
        handlers.register_member,
        event("registration_requested", registration("member@cc-exemple.fr")),
        deps(),
    )
    data = session_data("s1", starts_at=NOW + timedelta(days=10))
    await backend.run(handlers.track_session, event("session_scheduled", data), deps())
    request = event("session_signup_requested", signup("s1", "guest@commune.fr"))
    await backend.run(handlers.sign_up, request, deps())


async def ask(backend, email: str, *, session_id: str = "s1", at=NOW) -> Any:
    data = {"session_id": session_id, "email": email, "question": "Comment associer les élus ?"}
    [outcome] = await backend.run(
        cycle.accept_question, event("session_question_submitted", data), deps(at)
    )
    return outcome


async def test_members_and_the_session_s_participants_may_bring_a_question(backend):
    await given_a_session_with_a_member_and_a_guest(backend)

    from_member = await ask(backend, "MEMBER@cc-exemple.fr")
    from_guest = await ask(backend, "guest@commune.fr")

    assert from_member.type == from_guest.type == "session_question_accepted"
    assert from_member.data.asked_by == "Camille Martin"
    assert from_guest.data.asked_by == "Dominique Durand"
    assert from_guest.data.question == "Comment associer les élus ?"


@pytest.mark.parametrize(
    ("email", "session_id", "when", "reason"),
    [
        ("stranger@asso.org", "s1", NOW, "not_a_participant"),
        ("member@cc-exemple.fr", "nowhere", NOW, "unknown_session"),
        ("member@cc-exemple.fr", "s1", AFTER, "past_session"),
        ("pas-une-adresse", "s1", NOW, "invalid"),
    ],
)
async def test_a_question_from_elsewhere_is_refused_with_its_reason(
    backend, email, session_id, when, reason
):
    await given_a_session_with_a_member_and_a_guest(backend)

    refused = await ask(backend, email, session_id=session_id, at=when)

    assert (refused.type, refused.data.reason) == ("session_question_rejected", reason)
    assert refused.data.detail


async def record(backend, *addresses: str, at=LATER) -> Any:
    data = {"session_id": "s1", "attendees": list(addresses)}
    [outcome] = await backend.run(
        cycle.record_attendance, event("attendance_recorded", data), deps(at)
    )
    return outcome


async def test_attendance_matches_members_and_participants_and_counts_the_others(backend):
    await given_a_session_with_a_member_and_a_guest(backend)

    accepted = await record(
        backend, "Member@CC-Exemple.fr", "guest@commune.fr", "visitor@ailleurs.org", "x"
    )

    assert accepted.type == "attendance_accepted"
    assert sorted(a.email for a in accepted.data.attendees) == [
        "guest@commune.fr",
        "member@cc-exemple.fr",
    ]
    assert accepted.data.unmatched == 2
    assert accepted.data.ends_at == NOW + timedelta(days=10, hours=2)


async def test_attendance_before_the_session_starts_is_refused_and_recorded_again_replaces(
    backend,
):
    await given_a_session_with_a_member_and_a_guest(backend)

    early = await record(backend, "guest@commune.fr", at=NOW)
    await record(backend, "guest@commune.fr")
    corrected = await record(backend, "member@cc-exemple.fr")

    assert (early.type, early.data.reason) == ("attendance_rejected", "not_started")
    assert [a.email for a in corrected.data.attendees] == ["member@cc-exemple.fr"]
    async with backend.unit() as uow:
        assert not await uow.attendances.attended("s1", "guest@commune.fr")
        assert await uow.attendances.attended("s1", "member@cc-exemple.fr")


async def rate(backend, email: str, rating: int = 4) -> Any:
    data = {"session_id": "s1", "email": email, "rating": rating, "comment": "Merci"}
    return await backend.run(cycle.record_feedback, event("feedback_submitted", data), deps(AFTER))


async def test_only_those_who_attended_rate_the_session(backend):
    await given_a_session_with_a_member_and_a_guest(backend)
    await record(backend, "guest@commune.fr")

    kept = await rate(backend, "GUEST@commune.fr", 5)
    again = await rate(backend, "guest@commune.fr", 3)  # the latest rating counts
    [refused] = await rate(backend, "member@cc-exemple.fr")

    assert kept == again == []
    assert (refused.type, refused.data.reason) == ("feedback_rejected", "not_an_attendee")


async def test_an_erased_attendee_stays_a_count_without_a_name(backend):
    await given_a_session_with_a_member_and_a_guest(backend)
    await record(backend, "member@cc-exemple.fr")
    await rate(backend, "member@cc-exemple.fr", 5)

    leave = {"email": "member@cc-exemple.fr", "erase": True}
    await backend.run(handlers.leave_group, event("member_leave_requested", leave), deps(AFTER))

    async with backend.unit() as uow:
        assert not await uow.attendances.attended("s1", "member@cc-exemple.fr")
