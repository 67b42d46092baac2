"""Sign-ups end to end: places, waitlist, promotion, refusals, the sessions projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from services.registration.app import create_app
from shared.settings import Settings
from tests.harness.services import running
from tests.registration.support import (
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
