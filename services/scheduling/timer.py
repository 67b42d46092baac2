"""The session timer: J-7/J-1 reminders, the digest of questions and the notices of an
expert's silence, its state in MongoDB, each due entry claimed atomically.

It runs outside transactions, with stores of its own (`DueTimers`: claim, finish,
release; `DigestsToSend`; `SilentExperts`) and a session reader, built by the
composition root (app.py).
Every instance polls; a claim hands a due entry to one of them only. The claim is a
lease on the wall clock: an instance that dies after claiming leaves the entry to
another once the lease expires, which re-publishes it with the same id (a reminder's id
depends on the session, kind and sequence; a digest's on the session only). Consumers
deduplicate on that id, so a crash between publishing and closing the claim costs
nothing.

A digest is taken before it is published (`DigestsToSend.take`: from then on, questions
are forwarded one by one) and confirmed after; a digest taken but not confirmed is
published again, the same, by whichever timer next claims one of the session's digest
entries. A session therefore gets one digest id, whatever crashes and reschedules.

An expert's silence (`expert_no_answer`) is told for a live session that has not
started, of the entry's sequence, while the expert is still only invited and was not
told of before; once published, the invitation records it (`SilentExperts.told`) and
no entry is planned for it again. Its id depends on the session, the expert and the
kind: re-published after a crash, it keeps it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.scheduling import events
from services.scheduling.domain import ReminderKind, Session, reminder_outcome
from services.scheduling.unit import (
    DigestsToSend,
    DueTimers,
    SessionReader,
    SilentExperts,
    TimerEnd,
    TimerEntry,
)
from shared.clock import Clock, system_clock
from shared.contract import CloudEvent
from shared.kafka import Emission

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_DIGEST_QUESTIONS = 500
"""The contract's bound on a digest's questions (QuestionDigestDueData.questions)."""

Outcome = tuple[TimerEnd, CloudEvent[Any] | None]
"""How a claimed entry ends, and the event to publish first (if any)."""


class Publisher(Protocol):
    """Where the reminders and digests go (the service's publisher)."""

    async def publish(self, emissions: Sequence[Emission]) -> None:
        """Publish the events (raises if they could not all be published)."""
        ...


@dataclass(frozen=True)
class SessionTimer:
    """One instance's timer: what it reads and writes outside transactions, where it
    publishes, the business clock, and its name on the claims it takes."""

    entries: DueTimers
    sessions: SessionReader
    digests: DigestsToSend
    experts: SilentExperts
    publisher: Publisher
    clock: Clock
    owner: str
    poll_seconds: float
    wall_clock: Clock = system_clock
    """The real time, on which leases run (whatever the business clock says)."""
    lease: timedelta = LEASE
    """How long a claim stays its owner's: after a crash, how long until another
    instance takes the entry over (longer than publishing one event takes)."""


async def run_timer(timer: SessionTimer) -> None:
    """Emit the due reminders, digests and notices of silence every poll interval, for
    the life of the service."""
    while True:
        try:
            await emit_due(timer)
        except Exception:  # the timer outlives any outage: retried at the next poll
            logger.exception("session timer failed; retrying at the next poll")
        await asyncio.sleep(timer.poll_seconds)


async def emit_due(timer: SessionTimer) -> int:
    """Claim and emit every reminder, digest and notice of silence due now; return how
    many were published."""
    published = 0
    while True:
        entry = await timer.entries.claim_due(
            now=timer.clock(), owner=timer.owner, wall_clock=timer.wall_clock(), lease=timer.lease
        )
        if entry is None:
            return published
        session = await timer.sessions.find(entry.session_id)
        now = timer.clock()
        if entry.kind == "digest":
            end, event = await _digest(timer, entry, session, now=now)
        elif entry.kind == "expert_no_answer":
            end, event = await _no_answer(timer, entry, session, now=now)
        else:
            end, event = _reminder(entry, entry.kind, session, now=now)
        if event is not None:
            try:
                await timer.publisher.publish([Emission.of(event)])
            except BaseException:
                await timer.entries.release(entry)
                raise
            if entry.kind == "digest":
                await timer.digests.published(entry.session_id)
            elif entry.kind == "expert_no_answer" and entry.expert is not None:
                await timer.experts.told(entry.session_id, entry.expert, at=now)
            published += 1
            logger.info("%s of session %s published", entry.kind, entry.session_id)
        else:
            logger.info("%s of session %s not sent: %s", entry.kind, entry.session_id, end)
        await timer.entries.finish(entry, end)


def _reminder(
    entry: TimerEntry, kind: ReminderKind, session: Session | None, *, now: datetime
) -> Outcome:
    """A J-7 or J-1: sent for the live session of its sequence, unless late (missed once
    the session has started, superseded by the J-1)."""
    if session is None or not session.live or session.sequence != entry.sequence:
        return "void", None
    outcome = reminder_outcome(kind, session.slot.starts_at, now=now)
    if outcome != "emit":
        return outcome, None
    return "done", events.reminder_due(session, kind=kind, due_at=entry.due_at)


async def _digest(
    timer: SessionTimer, entry: TimerEntry, session: Session | None, *, now: datetime
) -> Outcome:
    """The digest of a live session that has not started: taken now with every question
    so far, or as it was taken before if it was never confirmed (a re-run after a crash:
    the same id, the same questions); nothing once published."""
    if session is None or not session.live:
        return "void", None
    if session.started(now):
        return "missed", None
    digest = await timer.digests.find(session.session_id)
    if digest is not None and digest.published:
        return "void", None  # sent before (an earlier entry of a rescheduled session)
    if digest is None or not digest.sent:
        if session.sequence != entry.sequence:
            return "void", None  # re-planned meanwhile: the new entry sends it
        digest = await timer.digests.take(session.session_id, at=now)
    assert digest.sent_at is not None
    questions = await timer.digests.questions(digest)
    if len(questions) > MAX_DIGEST_QUESTIONS:
        logger.warning(
            "session %s: %d questions, the digest holds the first %d",
            session.session_id,
            len(questions),
            MAX_DIGEST_QUESTIONS,
        )
    kept = questions[:MAX_DIGEST_QUESTIONS]
    return "done", events.digest_due(session, kept, sent_at=digest.sent_at)


async def _no_answer(
    timer: SessionTimer, entry: TimerEntry, session: Session | None, *, now: datetime
) -> Outcome:
    """An invited expert's silence, told once: for the live session of the entry's
    sequence, before it starts, while the expert has not answered (nor was told of)."""
    if session is None or not session.live or session.sequence != entry.sequence:
        return "void", None
    if session.started(now):
        return "missed", None
    if entry.expert is None:
        return "void", None
    invitation = await timer.experts.find(session.session_id, entry.expert)
    if invitation is None or invitation.status != "invited" or invitation.no_answer_at:
        return "void", None  # answered, erased, or told before
    return "done", events.expert_no_answer(invitation, due_at=entry.due_at)
