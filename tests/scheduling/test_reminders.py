"""Durable J-7/J-1 reminders: emitted once when due, never when cancelled, re-planned on
change, claimed by one instance only, and surviving a restart."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.harness.kafka import eventually
from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.flows import data, day_request, scheduling

pytestmark = pytest.mark.integration


def reminders(reader: Any) -> list[tuple[str, str, int]]:
    """(session title, kind, sequence) of every reminder seen, in the order seen."""
    return [
        (r["title"], r["remind"], r["sequence"])
        for r in data(reader.events("session_reminder_due"))
    ]


async def test_two_instances_never_both_emit_a_reminder(settings, publisher, tap, mongo):
    clock = FakeClock(paris(2020, 1, 6, 9))
    reader = await tap("session_scheduled", "session_reminder_due")
    days = (17, 18, 19, 20, 21)
    async with scheduling(settings, clock), scheduling(settings, clock):
        for day in (*days, 28):
            await publisher.event(
                "session_schedule_requested", day_request(2020, 2, day, f"S{day}")
            )
        await reader.wait_for("session_scheduled", count=6, timeout=60)
        clock.set(paris(2020, 2, 14, 10))  # five J-7 due at once, for both timers
        await reader.wait_for("session_reminder_due", count=5)
        clock.set(paris(2020, 2, 21, 10))  # the J-1 are missed by now; the last J-7 is due
        await reader.wait_for("session_reminder_due", where=lambda e: e["data"]["title"] == "S28")
        stored = mongo[settings.database_name("scheduling")]["reminders"]
        expected = Counter({("J-7", "done"): 6, ("J-1", "missed"): 5, ("J-1", "pending"): 1})

        async def settled() -> bool:
            cursor = stored.find({"kind": {"$in": ["J-7", "J-1"]}})  # not the digests
            return Counter([(r["kind"], r["status"]) async for r in cursor]) == expected

        await eventually(settled, message="every claim closed")

    ids = Counter(e["id"] for e in reader.events("session_reminder_due"))
    assert len(ids) == 6
    assert set(ids.values()) == {1}
    assert sorted(reminders(reader)) == [(f"S{day}", "J-7", 0) for day in (*days, 28)]


async def test_a_reminder_due_while_the_service_was_stopped_is_emitted_once_after_a_restart(
    settings, publisher, tap
):
    clock = FakeClock(paris(2020, 1, 6, 9))
    reader = await tap("session_scheduled", "session_reminder_due")
    async with scheduling(settings, clock):
        await publisher.event("session_schedule_requested", day_request(2020, 1, 21, "Lancement"))
        await reader.wait_for("session_scheduled", timeout=60)

    clock.set(paris(2020, 1, 14, 10, 30))
    async with scheduling(settings, clock):
        [reminder] = data(await reader.wait_for("session_reminder_due", timeout=60))
        clock.set(paris(2020, 1, 20, 10))
        await reader.wait_for("session_reminder_due", count=2)

    assert (reminder["remind"], reminder["title"]) == ("J-7", "Lancement")
    assert reminders(reader) == [("Lancement", "J-7", 0), ("Lancement", "J-1", 0)]
