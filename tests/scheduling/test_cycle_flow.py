"""The session cycle through Kafka: questions in, one digest out when due, a later question
forwarded, the compte rendu shared as version 1 then 2, a report for an unknown session
dead-lettered (the rules themselves: test_cycle.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.kafka import eventually
from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.flows import data, day_request, scheduling

pytestmark = pytest.mark.integration

CYCLE_EVENTS = ("question_digest_due", "session_question_forwarded", "session_report_shared")


def accepted(
    session_id: str, text: str, email: str = "camille.martin@cc-exemple.fr"
) -> dict[str, Any]:
    """session_question_accepted data."""
    return {"session_id": session_id, "email": email, "asked_by": "Camille M.", "question": text}


def report(session_id: str, summary: str) -> dict[str, Any]:
    """session_report_published data."""
    return {"session_id": session_id, "summary": summary, "next_steps": ["Relire le guide"]}


async def test_questions_go_out_in_one_digest_then_one_by_one_and_reports_in_versions(
    settings, publisher, tap, mongo
):
    clock = FakeClock(paris(2020, 1, 6, 9))
    reader = await tap("session_scheduled", *CYCLE_EVENTS, "session_report_published", dlq=True)
    questions = mongo[settings.database_name("scheduling")]["questions"]
    async with scheduling(settings, clock):
        await publisher.event("session_schedule_requested", day_request(2020, 1, 21, "Lancement"))
        [session] = data(await reader.wait_for("session_scheduled", timeout=60))
        session_id = session["session_id"]
        for text in ("Comment associer les cantines ?", "Quel budget ?"):
            await publisher.event(
                "session_question_accepted", accepted(session_id, text), subject=session_id
            )

        async def both_kept() -> bool:
            return bool(await questions.count_documents({"session_id": session_id}) == 2)

        await eventually(both_kept, message="the two questions kept")
        clock.set(paris(2020, 1, 18, 10))  # 72 hours before the start
        [digest] = await reader.wait_for("question_digest_due")
        await publisher.event(
            "session_question_accepted", accepted(session_id, "Et après ?"), subject=session_id
        )
        [forwarded] = data(await reader.wait_for("session_question_forwarded"))

        clock.set(paris(2020, 1, 21, 12, 30))  # the session is over
        await publisher.event("session_report_published", report("no-such-session", "Perdu"))
        for summary in ("Premier compte rendu.", "Compte rendu complété."):
            await publisher.event(
                "session_report_published", report(session_id, summary), subject=session_id
            )
        shared = data(await reader.wait_for("session_report_shared", count=2))
        [dead] = await reader.wait_for_dlq("session_report_published")

    assert digest["subject"] == session_id
    assert [q["question"] for q in digest["data"]["questions"]] == [
        "Comment associer les cantines ?",
        "Quel budget ?",
    ]
    assert len(reader.events("question_digest_due")) == 1  # once, though the timer polled on
    assert (forwarded["session_id"], forwarded["asked"]["question"]) == (session_id, "Et après ?")
    assert [(r["report_version"], r["summary"]) for r in shared] == [
        (1, "Premier compte rendu."),
        (2, "Compte rendu complété."),
    ]
    assert shared[0]["next_steps"] == ["Relire le guide"]
    assert dead.headers["x-dlq-error"] == b"data.session_id: unknown session 'no-such-session'"
