"""The reminder timer: its state is in MongoDB, each due reminder claimed atomically.

It runs outside transactions, with a store of its own (`DueReminders`: claim, finish,
release) and a session reader, both built by the composition root (app.py). Every
instance polls; a claim hands a due reminder to one of them only. The claim is a lease
on the wall clock: an instance that dies after claiming leaves the reminder to another
once the lease expires, which re-publishes it with the same id (the id depends on the
session, kind and sequence only). Consumers deduplicate on that id, so a crash between
publishing and closing the claim costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.scheduling import events
from services.scheduling.domain import Session, reminder_outcome
from services.scheduling.unit import DueReminders, Reminder, ReminderEnd, SessionReader
from shared.clock import Clock, system_clock
from shared.kafka import Emission

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


class Publisher(Protocol):
    """Where the reminders go (the service's publisher)."""

    async def publish(self, emissions: Sequence[Emission]) -> None:
        """Publish the events (raises if they could not all be published)."""
        ...


@dataclass(frozen=True)
class ReminderTimer:
    """One instance's timer: what it reads and writes outside transactions, where it
    publishes, the business clock, and its name on the claims it takes."""

    reminders: DueReminders
    sessions: SessionReader
    publisher: Publisher
    clock: Clock
    owner: str
    poll_seconds: float
    wall_clock: Clock = system_clock
    """The real time, on which leases run (whatever the business clock says)."""


async def run_reminder_timer(timer: ReminderTimer) -> None:
    """Emit the due reminders every poll interval, for the life of the service."""
    while True:
        try:
            await emit_due_reminders(timer)
        except Exception:  # the timer outlives any outage: retried at the next poll
            logger.exception("reminder timer failed; retrying at the next poll")
        await asyncio.sleep(timer.poll_seconds)


async def emit_due_reminders(timer: ReminderTimer) -> int:
    """Claim and emit every reminder due now; return how many were published."""
    published = 0
    while True:
        reminder = await timer.reminders.claim_due(
            now=timer.clock(), owner=timer.owner, wall_clock=timer.wall_clock(), lease=LEASE
        )
        if reminder is None:
            return published
        session = await timer.sessions.find(reminder.session_id)
        end = _end(reminder, session, now=timer.clock())
        if end == "done" and session is not None:
            event = events.reminder_due(session, kind=reminder.kind, due_at=reminder.due_at)
            try:
                await timer.publisher.publish([Emission.of(event)])
            except BaseException:
                await timer.reminders.release(reminder)
                raise
            published += 1
            logger.info("%s reminder of session %s published", reminder.kind, session.session_id)
        else:
            logger.info("%s reminder of %s not sent: %s", reminder.kind, reminder.session_id, end)
        await timer.reminders.finish(reminder, end)


def _end(reminder: Reminder, session: Session | None, *, now: datetime) -> ReminderEnd:
    if session is None or not session.live or session.sequence != reminder.sequence:
        return "void"
    outcome = reminder_outcome(reminder.kind, session.slot.starts_at, now=now)
    return "done" if outcome == "emit" else outcome
