"""The reminder timer: its state is in MongoDB, each due reminder claimed atomically.

Every instance polls; `find_one_and_update` hands a due reminder to one of them only.
The claim is a lease on the wall clock: an instance that dies after claiming leaves
the reminder to another once the lease expires, which re-publishes it with the same
id (the id depends on the session, kind and sequence only). Consumers deduplicate
on that id, so a crash between publishing and closing the claim costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from services.scheduling import events
from services.scheduling.domain import Session, reminder_outcome
from services.scheduling.handlers import Deps
from services.scheduling.repository import Reminder, ReminderEnd
from shared.kafka import Emission

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


async def run_reminder_timer(deps: Deps) -> None:
    """Emit the due reminders every poll interval, for the life of the service."""
    while True:
        try:
            await emit_due_reminders(deps)
        except Exception:  # the timer outlives any outage: retried at the next poll
            logger.exception("reminder timer failed; retrying at the next poll")
        await asyncio.sleep(deps.reminder_poll_seconds)


async def emit_due_reminders(deps: Deps) -> int:
    """Claim and emit every reminder due now; return how many were published."""
    published = 0
    while True:
        reminder = await deps.repository.claim_due(
            now=deps.clock(), owner=deps.instance_id, wall_clock=datetime.now(UTC), lease=LEASE
        )
        if reminder is None:
            return published
        session = await deps.repository.get(reminder.session_id)
        end = _outcome(reminder, session, now=deps.clock())
        if end == "done" and session is not None:
            event = events.reminder_due(session, kind=reminder.kind, due_at=reminder.due_at)
            try:
                await deps.publish([Emission.of(event)])
            except BaseException:
                await deps.repository.release(reminder)
                raise
            published += 1
            logger.info("%s reminder of session %s published", reminder.kind, session.session_id)
        else:
            logger.info("%s reminder of %s not sent: %s", reminder.kind, reminder.session_id, end)
        await deps.repository.finish(reminder, end)


def _outcome(reminder: Reminder, session: Session | None, *, now: datetime) -> ReminderEnd:
    if session is None or not session.live or session.sequence != reminder.sequence:
        return "void"
    outcome = reminder_outcome(reminder.kind, session.slot.starts_at, now=now)
    return "done" if outcome == "emit" else outcome
