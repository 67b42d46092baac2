"""A crash as the digest of questions goes out: the scheduling service is killed (SIGKILL)
the moment it takes a session's digest, then restarted. The session gets exactly one
`question_digest_due` id, with every question (a re-publication of that id is allowed:
consumers keep one).

The digest is made due on cue: a session is scheduled two hours ahead with
QUESTION_DIGEST_HOURS at one (plus whole days, should today be a public holiday), its
questions kept, then it is moved to start one hour and two seconds ahead: its digest is
due two seconds later. The kill comes as soon as MongoDB shows the digest taken, so
the claim is most often still held by the dead instance: the restarted one takes it
over once its lease is over. The timer's lease is shortened to 2 seconds by running the
service through this module (`python -m tests.reliability.test_digest_crash`, see
`main`), as tests/reliability/runner.py does for the notifications' delivery lease.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scheduling.app import create_app
from services.scheduling.cadence import Slot, holiday_during
from shared.contract import derived_id
from shared.service import run
from shared.settings import Settings
from tests.harness.kafka import Publisher, eventually
from tests.harness.services import ServiceProcess
from tests.reliability.conftest import Figures
from tests.reliability.probes import Stopwatch, copies_beyond_first, database, distinct_ids
from tests.reliability.stack import Stack

pytestmark = pytest.mark.reliability

MODULE = "tests.reliability.test_digest_crash"
LEASE_VARIABLE = "RELIABILITY_TIMER_LEASE_SECONDS"
LEASE_SECONDS = 2.0
QUESTIONS = ("Comment associer les cantines ?", "Quel budget ?", "Quels partenaires ?")
KEY = "coordination"


class ShortLeaseStack(Stack):
    """The scheduling service run by this module's `main`: a short timer lease."""

    def _spawn(self, name: str, index: int | None = None) -> ServiceProcess:
        assert name == "scheduling", name
        slot = self.instances.setdefault(name, [])
        number = len(slot) if index is None else index
        process = ServiceProcess(name, self.settings, log=self.logs / f"{name}-{number}.log")
        process.child.args = [sys.executable, "-m", MODULE]
        process.child.env = {
            **process.child.env,
            **self.env,
            LEASE_VARIABLE: str(LEASE_SECONDS),
        }
        process.child.start()
        if index is None:
            slot.append(process)
        else:
            slot[index] = process
        return process


def days_without_holiday() -> int:
    """Whole days ahead (0: today) with no public holiday from now to three hours later."""
    now = datetime.now(UTC)
    for days in range(15):
        start = now + timedelta(days=days)
        if holiday_during(Slot.of(start, start + timedelta(hours=3))) is None:
            return days
    raise AssertionError("a fortnight of holidays")


def slot(start: datetime) -> dict[str, str]:
    """A one-hour slot, to the second."""
    start = start.replace(microsecond=0)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}


async def digest_of(db: Any, session_id: str) -> dict[str, Any]:
    """The session's digest state (its questions counted, taken, published)."""
    return await db["digests"].find_one({"_id": session_id}) or {}


async def kill_once_taken(stack: Stack, db: Any, session_id: str) -> str:
    """SIGKILL scheduling as soon as the digest is taken; what MongoDB showed then."""
    deadline = asyncio.get_running_loop().time() + 60
    while "sent_at" not in await digest_of(db, session_id):
        assert asyncio.get_running_loop().time() < deadline, "the digest was never taken"
        await asyncio.sleep(0.002)
    stack.kill("scheduling")
    digest = await digest_of(db, session_id)
    entry = await db["reminders"].find_one(
        {"session_id": session_id, "kind": "digest", "sequence": 1}
    )
    state = "confirmed" if digest.get("published") else "not confirmed"
    return f"digest {state}, its claim {entry['status'] if entry else 'missing'}"


async def test_scheduling_killed_as_a_digest_is_taken_sends_one_digest(
    settings: Settings,
    publisher: Publisher,
    tap: Any,
    mongo: Any,
    figures: Figures,
    tmp_path: Any,
) -> None:
    clock = Stopwatch()
    days = days_without_holiday()
    env = {"QUESTION_DIGEST_HOURS": str(24 * days + 1), "REMINDER_POLL_SECONDS": "0.05"}
    stack = ShortLeaseStack(settings, tmp_path, env=env)
    reader = await tap("session_scheduled", "session_rescheduled", "question_digest_due")
    db = database(mongo, settings, "scheduling")
    await stack.start(["scheduling"])
    try:
        ahead = timedelta(days=days)
        request = {
            "title": "Gouvernance alimentaire",
            "question": "Quelles instances de gouvernance, et comment les animer ?",
            **slot(datetime.now(UTC) + ahead + timedelta(hours=2)),
        }
        await publisher.event("session_schedule_requested", request, subject=KEY)
        [scheduled] = await reader.wait_for("session_scheduled", timeout=60)
        session_id = scheduled["data"]["session_id"]
        for text in QUESTIONS:
            asked = {
                "session_id": session_id,
                "email": "camille.martin@cc-exemple.fr",
                "asked_by": "Camille Martin",
                "question": text,
            }
            await publisher.event("session_question_accepted", asked, subject=session_id)

        async def all_kept() -> bool:
            kept: int = await db["questions"].count_documents({"session_id": session_id})
            return kept == len(QUESTIONS)

        await eventually(all_kept, timeout=60, message="the questions kept")
        # Its digest is due 2 seconds from now (one hour plus `days` before its start).
        sooner = datetime.now(UTC) + ahead + timedelta(hours=1, seconds=2)
        moved = {"session_id": session_id, **slot(sooner)}
        await publisher.event("session_reschedule_requested", moved, subject=session_id)
        at_kill = await kill_once_taken(stack, db, session_id)
        seen_at_kill = len(reader.events("question_digest_due"))
        await stack.restart("scheduling")

        async def settled() -> bool:
            entries = db["reminders"].find({"session_id": session_id, "kind": "digest"})
            open_entries = [e async for e in entries if e["status"] in {"pending", "claimed"}]
            return bool((await digest_of(db, session_id)).get("published")) and not open_entries

        await eventually(settled, timeout=60, message="the digest published, its claim closed")
        await reader.wait_for("question_digest_due", timeout=30)
        await asyncio.sleep(1.0)  # a copy still on its way reaches the reader meanwhile
        alive = stack.all_alive()
    finally:
        await stack.stop()

    copies = reader.events("question_digest_due")
    ids = distinct_ids(reader, "question_digest_due")
    figures.record(
        "crash_digest",
        events_sent=2 + len(QUESTIONS),
        faults_injected=f"SIGKILL scheduling once its digest was taken ({at_kill}; "
        f"{seen_at_kill} digest(s) seen then)",
        digest_ids=len(ids),
        digest_republished=copies_beyond_first(reader, "question_digest_due"),
        questions_in_digest=len(copies[0]["data"]["questions"]) if copies else 0,
        seconds=clock.seconds(),
    )
    assert alive, stack.alive()
    assert ids == {derived_id(session_id, "question_digest_due", "digest")}
    assert all(copy["data"] == copies[0]["data"] for copy in copies)  # the same digest
    assert [q["question"] for q in copies[0]["data"]["questions"]] == list(QUESTIONS)
    assert copies[0]["data"]["sequence"] == 1  # the moved session's


def main() -> None:
    """The scheduling service exactly as `python -m services.scheduling` runs it, except
    for the timer's lease, read from RELIABILITY_TIMER_LEASE_SECONDS."""
    settings = Settings()
    lease = timedelta(seconds=float(os.environ[LEASE_VARIABLE]))
    run(create_app(settings, lease=lease), settings, service="scheduling")


if __name__ == "__main__":
    main()
