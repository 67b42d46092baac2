"""Leaving the group, and erasure: afterwards the service holds no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from services.registration.app import create_app
from shared.contract import derived_id
from shared.settings import Settings
from tests.harness.data import registration
from tests.harness.services import running
from tests.registration.support import (
    database,
    session_data,
    session_known,
    signup,
    stored_texts,
    token,
)

pytestmark = pytest.mark.integration

CLOCK = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
EVENTS = (
    "member_registered",
    "registration_rejected",
    "participant_enrolled",
    "participant_withdrawn",
    "session_signup_rejected",
    "member_left",
    "member_erased",
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One place per session: a leaver's place goes to the waitlist."""
    return settings.model_copy(update={"session_capacity": 1})


def service(settings: Settings):
    return running(partial(create_app, clock=lambda: CLOCK), settings)


async def test_an_erased_member_leaves_no_personal_data_in_any_collection(
    settings, publisher, tap, mongo
):
    mark = token()
    email = f"Erwan.Quelennec-{mark}@Pnr-Exemple.fr"
    personal = {
        "email": email,
        "first_name": f"Erwan{mark}",
        "last_name": f"Quelennec{mark}",
        "organisation": f"PNR des Volcans {mark}",
    }
    other = f"other-{mark}@commune.fr"
    upcoming, past = f"s-{mark}", f"p-{mark}"
    reader = await tap("member_leave_requested", *EVENTS, dlq=True)
    async with service(settings):
        joined = await publisher.event(
            "registration_requested",
            registration(email, **{k: v for k, v in personal.items() if k != "email"}),
            subject=email.lower(),
        )
        for session_id, starts_at in (
            (upcoming, CLOCK + timedelta(days=5)),
            (past, CLOCK - timedelta(days=5)),
        ):
            await publisher.event(
                "session_scheduled",
                session_data(session_id, starts_at=starts_at),
                subject=session_id,
            )
        [registered] = await reader.wait_for("member_registered", timeout=60)
        await publisher.event(
            "registration_requested", registration(email.upper()), subject=email.lower()
        )
        await session_known(mongo, settings, upcoming)
        await session_known(mongo, settings, past)
        mine = signup(
            upcoming,
            email,
            first_name=personal["first_name"],
            last_name=personal["last_name"],
            organisation=personal["organisation"],
        )
        await publisher.event("session_signup_requested", mine, subject=upcoming)
        await publisher.event("session_signup_requested", signup(upcoming, other), subject=upcoming)
        await publisher.event(
            "session_signup_requested", {**mine, "session_id": past}, subject=past
        )
        await reader.wait_for("participant_enrolled", count=2, timeout=60)
        await reader.wait_for("session_signup_rejected", timeout=60)
        await reader.wait_for("registration_rejected", timeout=60)
        before = await stored_texts(mongo, settings)

        bad = {"email": f"{email}>", "erase": True}
        await publisher.event("member_leave_requested", bad, subject=email.lower())
        leave = await publisher.event(
            "member_leave_requested", {"email": email.lower(), "erase": True}, subject=email.lower()
        )
        [erased] = await reader.wait_for("member_erased", timeout=60)
        [letter] = await reader.wait_for_dlq("member_leave_requested")
        await reader.wait_for("participant_enrolled", lambda e: e["data"]["promoted"], timeout=60)
        # Redeliveries after the erasure publish nothing and store nothing personal; the
        # marker behind them on the same partitions proves they were consumed.
        await publisher.again(leave)
        await publisher.again(joined)
        marker = await publisher.event(
            "registration_requested", registration(other), subject=email.lower()
        )
        await reader.wait_for(
            "member_registered",
            lambda e: e["id"] == derived_id(marker["id"], "member_registered"),
            timeout=60,
        )
        after = await stored_texts(mongo, settings)
        tombstone = await database(mongo, settings)["erased_members"].find_one({})

    member_id = registered["data"]["member_id"]
    assert erased["data"] == {"member_id": member_id}
    [left] = reader.events("member_left")
    assert left["data"]["erase"] is True
    assert [e["data"]["email"] for e in reader.events("participant_withdrawn")] == [email]
    assert len(reader.events("member_erased")) == 1
    assert len(reader.events("member_registered")) == 2  # the member's, then the marker's
    # The scan sees stored event bodies too: the inbox kept the sign-up's outputs.
    assert personal["last_name"].lower() in before["processed_events"]
    for value in personal.values():
        leaks = [name for name, text in after.items() if value.lower() in text]
        assert leaks == [], f"{value!r} still stored in {leaks}"
    assert tombstone["_id"] == member_id
    assert b"data.email: not a valid address" in letter.headers["x-dlq-error"]
    assert set(tombstone) == {"_id", "erased_at"}
