"""The experts through Kafka: an invitation, an acceptance and the session's update naming
the expert, an answer from someone not invited refused (the rules themselves:
test_experts.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.flows import data, day_request, scheduling

pytestmark = pytest.mark.integration

EXPERT = "claire.dubois@inrae-exemple.fr"
EXPERT_EVENTS = ("expert_invited", "expert_accepted", "expert_response_rejected")


def answer(session_id: str, email: str, response: str = "accepted") -> dict[str, Any]:
    """expert_response_submitted data."""
    return {"session_id": session_id, "email": email, "response": response}


async def test_an_accepted_expert_is_named_in_the_session_update_and_a_stranger_is_refused(
    settings, publisher, tap
):
    clock = FakeClock(paris(2020, 1, 6, 9))
    reader = await tap("session_scheduled", "session_rescheduled", *EXPERT_EVENTS)
    async with scheduling(settings, clock):
        await publisher.event("session_schedule_requested", day_request(2020, 1, 21, "Lancement"))
        [session] = data(await reader.wait_for("session_scheduled", timeout=60))
        session_id = session["session_id"]
        invitation = {
            "session_id": session_id,
            "email": EXPERT,
            "first_name": "Claire",
            "last_name": "Dubois",
            "organisation": "INRAE",
            "expertise": "Restauration collective",
        }
        await publisher.event("expert_invitation_requested", invitation, subject=session_id)
        [invited] = data(await reader.wait_for("expert_invited"))
        for email in (EXPERT.upper(), "marc.petit@cerema-exemple.fr"):
            await publisher.event(
                "expert_response_submitted", answer(session_id, email), subject=session_id
            )
        [accepted] = data(await reader.wait_for("expert_accepted"))
        [update] = data(await reader.wait_for("session_rescheduled"))
        [refused] = data(await reader.wait_for("expert_response_rejected"))

    assert (invited["session_id"], invited["email"]) == (session_id, EXPERT)
    assert (accepted["email"], accepted["first_name"]) == (EXPERT, "Claire")
    assert (update["change"], update["sequence"]) == ("experts", 1)
    assert update["starts_at"] == update["previous_starts_at"] == session["starts_at"]
    assert update["experts"] == [
        {
            "first_name": "Claire",
            "last_name": "Dubois",
            "organisation": "INRAE",
            "expertise": "Restauration collective",
        }
    ]
    assert (refused["reason"], refused["email"]) == ("not_invited", "marc.petit@cerema-exemple.fr")
