"""Scheduling handlers: `verb_object(event, uow, deps) -> events to publish`.

Each one checks its request with the pure rules (domain.py, programme_plan.py), reads
and writes through the unit of work's repositories, and returns the events it emits;
the inbox runs it once per event id, in a transaction (shared/inbox.py). Every change
to a session re-plans its reminders in the same transaction.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.scheduling import domain, events
from services.scheduling.cadence import Slot
from services.scheduling.domain import Rejection, Session, reminders_ahead
from services.scheduling.programme_plan import ProgrammePlan, Topic, launch_of, plan_programme
from services.scheduling.timer import ReminderTimer
from services.scheduling.unit import Unit
from shared.clock import Clock
from shared.contract import CloudEvent, derived_id
from shared.contract.programme import ProgrammePublished
from shared.contract.scheduling import (
    SessionCancelRequested,
    SessionRescheduleRequested,
    SessionScheduleRequested,
)

logger = logging.getLogger(__name__)

Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides storage, and the reminder timer (the service's
    background task), built once by the composition root."""

    clock: Clock
    webconference_base_url: str
    timer: ReminderTimer

    def new_join_url(self) -> str:
        """A webconference room with an unguessable name."""
        return f"{self.webconference_base_url.rstrip('/')}/pat-{secrets.token_urlsafe(18)}"


# --- requests --------------------------------------------------------------------------


async def schedule_session(event: SessionScheduleRequested, uow: Unit, deps: Deps) -> Emitted:
    """Schedule a session (two hours at most, ahead, off holidays, no overlap) or reject it."""
    request = event.data
    now = deps.clock()
    candidate = Session(
        session_id=derived_id(event.id, "session"),
        topic_id=request.topic_id,
        title=request.title,
        question=request.question,
        slot=Slot.of(request.starts_at, request.ends_at),
        join_url=request.join_url or deps.new_join_url(),
    )
    await uow.sessions.lock_calendar()
    others = await uow.sessions.overlapping(candidate.slot)
    outcome = domain.schedule(candidate, now=now, others=others)
    if isinstance(outcome, Rejection):
        return [_rejected(outcome, event, now=now)]
    await _store(outcome, uow=uow, now=now)
    return [events.scheduled(outcome, cause_id=event.id, now=now)]


async def reschedule_session(event: SessionRescheduleRequested, uow: Unit, deps: Deps) -> Emitted:
    """Move a future session to a slot that obeys the rules (sequence + 1), or reject it."""
    request = event.data
    now = deps.clock()
    slot = Slot.of(request.starts_at, request.ends_at)
    await uow.sessions.lock_calendar()
    existing = await uow.sessions.find(request.session_id)
    others = await uow.sessions.overlapping(slot)
    outcome = domain.reschedule(existing, slot, now=now, others=others)
    if isinstance(outcome, Rejection):
        return [_rejected(outcome, event, now=now, session_id=request.session_id)]
    if existing is None or outcome == existing:
        return []  # the same slot: nothing changes, nothing to tell
    await _store(outcome, uow=uow, now=now)
    previous = existing.slot.starts_at
    return [events.rescheduled(outcome, previous_starts_at=previous, cause_id=event.id, now=now)]


async def cancel_session(event: SessionCancelRequested, uow: Unit, deps: Deps) -> Emitted:
    """Cancel a future session and its reminders (sequence + 1), or reject the request."""
    request = event.data
    now = deps.clock()
    existing = await uow.sessions.find(request.session_id)
    outcome = domain.cancel(existing, now=now, reason=request.reason)
    if isinstance(outcome, Rejection):
        return [_rejected(outcome, event, now=now, session_id=request.session_id)]
    await _store(outcome, uow=uow, now=now)
    return [events.cancelled(outcome, cause_id=event.id, now=now)]


# --- the programme ---------------------------------------------------------------------


async def apply_programme(event: ProgrammePublished, uow: Unit, deps: Deps) -> Emitted:
    """Place the programme's topics on the bimonthly cadence; a newer version updates them."""
    programme = event.data
    now = deps.clock()
    await uow.sessions.lock_calendar()
    if programme.version <= await uow.programmes.applied_version(programme.year):
        logger.info("programme %s v%d already superseded", programme.year, programme.version)
        return []
    sessions = await uow.sessions.live_in_year(programme.year)
    current = [s for s in sessions if s.programme_year == programme.year]
    others = [s for s in sessions if s.programme_year != programme.year]
    plan = plan_programme(
        topics=[Topic(t.topic_id, t.title, t.question) for t in programme.topics],
        launch=launch_of(programme.year, others),
        current=current,
        others=others,
        now=now,
        cancel_reason=f"Retirée du programme {programme.year} (version {programme.version}).",
    )
    emitted = await _carry_out(plan, current=current, cause=event, uow=uow, deps=deps, now=now)
    await uow.programmes.applied(
        programme.year, version=programme.version, programme_id=programme.programme_id
    )
    return emitted


async def _carry_out(
    plan: ProgrammePlan,
    *,
    current: list[Session],
    cause: ProgrammePublished,
    uow: Unit,
    deps: Deps,
    now: datetime,
) -> Emitted:
    """Store a programme's plan; its events, cancellations first (they free slots)."""
    year = cause.data.year
    emitted: Emitted = []
    for session in plan.cancelled:
        await _store(session, uow=uow, now=now)
        emitted.append(events.cancelled(session, cause_id=cause.id, now=now))
    previous = {s.session_id: s.slot.starts_at for s in current}
    for session in plan.rescheduled:
        await _store(session, uow=uow, now=now)
        was = previous[session.session_id]
        emitted.append(
            events.rescheduled(session, previous_starts_at=was, cause_id=cause.id, now=now)
        )
    for placement in plan.scheduled:
        session = Session(
            session_id=derived_id(cause.id, "session", placement.topic.topic_id),
            topic_id=placement.topic.topic_id,
            title=placement.topic.title,
            question=placement.topic.question,
            slot=placement.slot,
            join_url=deps.new_join_url(),
            programme_year=year,
        )
        await _store(session, uow=uow, now=now)
        emitted.append(events.scheduled(session, cause_id=cause.id, now=now))
    for topic in plan.unplaced:
        detail = f"Plus de créneau libre en {year} pour « {topic.title[:80]} »."
        emitted.append(
            events.rejected(
                Rejection("no_slot", detail),
                request_type="programme_published",
                cause_id=cause.id,
                now=now,
                topic_id=topic.topic_id,
            )
        )
    return emitted


# --- helpers ---------------------------------------------------------------------------


async def _store(session: Session, *, uow: Unit, now: datetime) -> None:
    """Save the session and re-plan its reminders (none once cancelled)."""
    await uow.sessions.save(session)
    due = reminders_ahead(session.slot.starts_at, now=now) if session.live else []
    await uow.reminders.plan(session, due)


def _rejected(
    rejection: Rejection,
    cause: SessionScheduleRequested | SessionRescheduleRequested | SessionCancelRequested,
    *,
    now: datetime,
    session_id: str | None = None,
) -> CloudEvent[Any]:
    return events.rejected(
        rejection,
        request_type=cause.type,
        cause_id=cause.id,
        now=now,
        session_id=session_id,
        cause_subject=cause.subject,
    )
