"""Handlers: parse, apply the rules, store; each returns the Step the batch consumer
runs in its transaction (shared/consumer.py), which then publishes the events."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.scheduling import domain, events
from services.scheduling.cadence import Slot
from services.scheduling.domain import Rejection, Session, reminders_ahead
from services.scheduling.programme import ProgrammePlan, Topic, launch_of, plan_programme
from services.scheduling.repository import Repository
from shared.contract import CloudEvent, derived_id
from shared.contract.programme import ProgrammePublished
from shared.contract.scheduling import (
    SessionCancelRequested,
    SessionRescheduleRequested,
    SessionScheduleRequested,
)
from shared.inbox import Step
from shared.kafka import Emission

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Publish = Callable[[Sequence[Emission]], Awaitable[None]]
Emitted = list[CloudEvent[Any]]


def system_clock() -> datetime:
    """The real time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """What the handlers and the reminder timer need, built once at start-up."""

    repository: Repository
    publish: Publish
    clock: Clock
    webconference_base_url: str
    instance_id: str
    reminder_poll_seconds: float

    def new_join_url(self) -> str:
        """A webconference room with an unguessable name."""
        return f"{self.webconference_base_url.rstrip('/')}/pat-{secrets.token_urlsafe(18)}"


async def schedule_session(event: SessionScheduleRequested, deps: Deps) -> Step:
    """Schedule a session (two hours at most, ahead, off holidays, no overlap) or reject it."""
    request = event.data

    async def work(tx: AsyncClientSession) -> Emitted:
        now, repository = deps.clock(), deps.repository
        await repository.lock_calendar(session=tx)
        candidate = Session(
            session_id=derived_id(event.id, "session"),
            topic_id=request.topic_id,
            title=request.title,
            question=request.question,
            slot=Slot.of(request.starts_at, request.ends_at),
            join_url=request.join_url or deps.new_join_url(),
        )
        others = await repository.overlapping(candidate.slot, session=tx)
        outcome = domain.schedule(candidate, now=now, others=others)
        if isinstance(outcome, Rejection):
            return [_rejected(outcome, event, now=now)]
        await _store(repository, outcome, now=now, tx=tx)
        return [events.scheduled(outcome, cause_id=event.id, now=now)]

    return Step(event, work)


async def reschedule_session(event: SessionRescheduleRequested, deps: Deps) -> Step:
    """Move a future session to a slot that obeys the rules (sequence + 1), or reject it."""
    request = event.data

    async def work(tx: AsyncClientSession) -> Emitted:
        now, repository = deps.clock(), deps.repository
        await repository.lock_calendar(session=tx)
        slot = Slot.of(request.starts_at, request.ends_at)
        existing = await repository.get(request.session_id, session=tx)
        others = await repository.overlapping(slot, session=tx)
        outcome = domain.reschedule(existing, slot, now=now, others=others)
        if isinstance(outcome, Rejection):
            return [_rejected(outcome, event, now=now, session_id=request.session_id)]
        if existing is None or outcome == existing:
            return []  # the same slot: nothing changes, nothing to tell
        await _store(repository, outcome, now=now, tx=tx)
        previous = existing.slot.starts_at
        return [
            events.rescheduled(outcome, previous_starts_at=previous, cause_id=event.id, now=now)
        ]

    return Step(event, work)


async def cancel_session(event: SessionCancelRequested, deps: Deps) -> Step:
    """Cancel a future session and its reminders (sequence + 1), or reject the request."""
    request = event.data

    async def work(tx: AsyncClientSession) -> Emitted:
        now, repository = deps.clock(), deps.repository
        existing = await repository.get(request.session_id, session=tx)
        outcome = domain.cancel(existing, now=now, reason=request.reason)
        if isinstance(outcome, Rejection):
            return [_rejected(outcome, event, now=now, session_id=request.session_id)]
        await _store(repository, outcome, now=now, tx=tx)
        return [events.cancelled(outcome, cause_id=event.id, now=now)]

    return Step(event, work)


async def apply_programme(event: ProgrammePublished, deps: Deps) -> Step:
    """Place the programme's topics on the bimonthly cadence; a newer version updates them."""
    programme = event.data

    async def work(tx: AsyncClientSession) -> Emitted:
        now, repository = deps.clock(), deps.repository
        await repository.lock_calendar(session=tx)
        applied = await repository.programme_version(programme.year, session=tx)
        if programme.version <= applied:
            logger.info("programme %s v%d already superseded", programme.year, programme.version)
            return []
        sessions = await repository.live_in_year(programme.year, session=tx)
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
        emitted = await _apply(plan, current=current, cause=event, deps=deps, now=now, tx=tx)
        await repository.save_programme_version(
            programme.year,
            version=programme.version,
            programme_id=programme.programme_id,
            session=tx,
        )
        return emitted

    return Step(event, work)


async def _apply(
    plan: ProgrammePlan,
    *,
    current: list[Session],
    cause: ProgrammePublished,
    deps: Deps,
    now: datetime,
    tx: AsyncClientSession,
) -> Emitted:
    """Store a programme plan; return its events (cancellations first)."""
    year = cause.data.year
    emitted: Emitted = []
    for session in plan.cancelled:
        await _store(deps.repository, session, now=now, tx=tx)
        emitted.append(events.cancelled(session, cause_id=cause.id, now=now))
    previous = {s.session_id: s.slot.starts_at for s in current}
    for session in plan.rescheduled:
        await _store(deps.repository, session, now=now, tx=tx)
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
        await _store(deps.repository, session, now=now, tx=tx)
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


async def _store(
    repository: Repository, session: Session, *, now: datetime, tx: AsyncClientSession
) -> None:
    """Save the session and re-plan its reminders (none once cancelled)."""
    await repository.save(session, session=tx)
    due = reminders_ahead(session.slot.starts_at, now=now) if session.live else []
    await repository.plan_reminders(session, due, session=tx)


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
