"""Sign-ups end to end: places, waitlist, promotion, refusals, the sessions projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from services.registration.app import create_app
from shared.settings import Settings
from tests.harness.data import registration
from tests.harness.services import running
from tests.registration.support import (
    database,
    session_data,
    session_known,
    signup,
    token,
)

pytestmark = pytest.mark.integration

CLOCK = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
SIGNUP_EVENTS = ("participant_enrolled", "participant_withdrawn", "session_signup_rejected")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Two places per session, so that the waitlist is quickly reached."""
    return settings.model_copy(update={"session_capacity": 2})


def service(settings: Settings):
    return running(partial(create_app, clock=lambda: CLOCK), settings)


def by_email(events: list[dict[str, Any]], email: str) -> list[dict[str, Any]]:
    return [e for e in events if e["data"]["email"].lower() == email.lower()]


async def test_sign_ups_fill_the_places_then_the_waitlist_and_a_withdrawal_promotes_the_first(
    settings, publisher, tap, mongo
):
    mark = token()
    session_id = f"s-{mark}"
    member, ana, bob, cleo = (f"{n}-{mark}@cc-exemple.fr" for n in ("member", "ana", "bob", "cleo"))
    reader = await tap("member_registered", *SIGNUP_EVENTS)
    async with service(settings):
        await publisher.event("registration_requested", registration(member))
        data = session_data(session_id, starts_at=CLOCK + timedelta(days=10))
        await publisher.event("session_scheduled", data, subject=session_id)
        await reader.wait_for("member_registered", timeout=60)
        await session_known(mongo, settings, session_id)
        for email in (member, ana, bob, cleo, ana.upper()):
            await publisher.event(
                "session_signup_requested", signup(session_id, email), subject=session_id
            )
        enrolled = await reader.wait_for("participant_enrolled", count=4, timeout=60)
        [again] = await reader.wait_for("session_signup_rejected", timeout=60)

        cancel = await publisher.event(
            "session_signup_cancelled",
            {"session_id": session_id, "email": ana.title()},
            subject=session_id,
        )
        [withdrawn] = await reader.wait_for("participant_withdrawn", timeout=60)
        await reader.wait_for("participant_enrolled", lambda e: e["data"]["promoted"], timeout=60)
        await publisher.again(cancel)
        await reader.wait_for("participant_withdrawn", count=2, timeout=60)
        await reader.wait_for("participant_enrolled", lambda e: e["data"]["promoted"], count=2)
        places = database(mongo, settings)["participants"]
        statuses = {d["email"]: d["status"] async for d in places.find({"session_id": session_id})}

    places_of = {email: by_email(enrolled, email)[0]["data"] for email in (member, ana, bob, cleo)}
    assert places_of[member]["status"] == "enrolled"
    assert places_of[member]["is_member"] is True
    assert places_of[ana]["status"] == "enrolled"
    assert places_of[ana]["is_member"] is False
    assert (places_of[bob]["status"], places_of[bob]["waitlist_position"]) == ("waitlisted", 1)
    assert (places_of[cleo]["status"], places_of[cleo]["waitlist_position"]) == ("waitlisted", 2)
    assert again["data"]["reason"] == "already_enrolled"
    assert again["subject"] == session_id

    assert withdrawn["data"]["participant_id"] == places_of[ana]["participant_id"]
    assert withdrawn["data"]["reason"] == "cancelled_by_participant"
    promoted = reader.events("participant_enrolled", lambda e: e["data"]["promoted"])
    assert {e["id"] for e in promoted} == {promoted[0]["id"]}  # redelivery: same event again
    assert promoted[0]["data"]["participant_id"] == places_of[bob]["participant_id"]
    assert promoted[0]["data"]["status"] == "enrolled"
    assert statuses == {member: "enrolled", bob: "enrolled", cleo: "waitlisted"}


async def test_sign_ups_for_unknown_past_or_cancelled_sessions_are_refused_with_their_reason(
    settings, publisher, tap, mongo
):
    mark = token()
    upcoming, past, cancelled, moved = (f"{n}-{mark}" for n in ("up", "past", "cancel", "moved"))
    guest = f"guest-{mark}@commune.fr"
    reader = await tap(*SIGNUP_EVENTS)
    async with service(settings):
        soon = CLOCK + timedelta(days=30)
        for session_id, starts_at in (
            (upcoming, soon),
            (past, CLOCK - timedelta(days=1)),
            (cancelled, soon),
            (moved, soon),
        ):
            data = session_data(session_id, starts_at=starts_at)
            await publisher.event("session_scheduled", data, subject=session_id)
        await session_known(mongo, settings, cancelled)
        await publisher.event(
            "session_signup_requested", signup(cancelled, guest), subject=cancelled
        )
        await reader.wait_for("participant_enrolled", timeout=60)
        cancel = session_data(cancelled, starts_at=soon, sequence=1, reason="Intervenant absent")
        await publisher.event("session_cancelled", cancel, subject=cancelled)
        reschedule = session_data(
            moved,
            starts_at=CLOCK - timedelta(hours=1),
            sequence=1,
            previous_starts_at=soon.isoformat(),
        )
        await publisher.event("session_rescheduled", reschedule, subject=moved)
        await session_known(mongo, settings, moved, sequence=1)
        stale = session_data(moved, starts_at=soon, sequence=0)  # a late, older fact
        await publisher.event("session_scheduled", stale, subject=moved)
        await session_known(mongo, settings, cancelled, cancelled=True)
        await session_known(mongo, settings, upcoming)
        await session_known(mongo, settings, past)

        requests = {
            "unknown": signup(f"nowhere-{mark}", guest),
            "past": signup(past, guest),
            "cancelled": signup(cancelled, guest),
            "moved": signup(moved, guest),
            "invalid_email": signup(upcoming, "guest@@commune.fr"),
            "markup_in_name": signup(upcoming, guest, last_name="<img src=x onerror=alert(1)>"),
        }
        for data in requests.values():
            await publisher.event("session_signup_requested", data)
        rejected = await reader.wait_for("session_signup_rejected", count=len(requests), timeout=60)
        [withdrawn] = await reader.wait_for("participant_withdrawn", timeout=60)
        projection = await database(mongo, settings)["sessions"].find_one({"_id": moved})

    reasons = {e["data"]["session_id"]: e["data"]["reason"] for e in rejected}
    assert reasons[f"nowhere-{mark}"] == "unknown_session"
    assert reasons[past] == "past_session"
    assert reasons[cancelled] == "cancelled_session"
    assert reasons[moved] == "past_session"
    assert sorted(e["data"]["reason"] for e in rejected if e["data"]["session_id"] == upcoming) == [
        "invalid",
        "invalid",
    ]
    assert all(e["data"]["detail"] for e in rejected)
    assert withdrawn["data"]["reason"] == "session_cancelled"
    assert withdrawn["data"]["email"] == guest
    assert projection["sequence"] == 1


async def test_bad_sign_ups_go_to_the_dlq_and_the_next_good_one_is_processed(
    settings, publisher, tap, mongo
):
    mark = token()
    session_id = f"s-{mark}"
    good = signup(session_id, f"good-{mark}@commune.fr")
    reader = await tap(
        "session_signup_requested", "session_signup_cancelled", *SIGNUP_EVENTS, dlq=True
    )
    async with service(settings):
        data = session_data(session_id, starts_at=CLOCK + timedelta(days=3))
        await publisher.event("session_scheduled", data, subject=session_id)
        await session_known(mongo, settings, session_id)
        bad = [
            {k: v for k, v in good.items() if k != "session_id"},
            {**good, "first_name": "Dominique\nBcc: x@example.org"},
            {**good, "last_name": "D" * 101},
            {**good, "organisation": 42},
        ]
        for data in bad:
            await publisher.event(
                "session_signup_requested", data, subject=session_id, validate=False
            )
        await publisher.raw("session_signup_requested", b"[]", key=session_id)
        await publisher.event(
            "session_signup_cancelled",
            {"session_id": session_id, "email": "no-at-sign"},
            subject=session_id,
        )
        await publisher.event("session_signup_requested", good, subject=session_id)
        [enrolled] = await reader.wait_for("participant_enrolled", timeout=60)
        await reader.wait_for_dlq("session_signup_requested", count=len(bad) + 1)
        [cancel_letter] = await reader.wait_for_dlq("session_signup_cancelled")

    assert enrolled["data"]["email"] == good["email"]
    assert b"data.email: not a valid address" in cancel_letter.headers["x-dlq-error"]
    assert reader.events("session_signup_rejected") == []
