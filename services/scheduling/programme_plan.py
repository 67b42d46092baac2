"""The sessions of a published programme, pure: placed on the cadence, versions merged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.scheduling.cadence import Slot, cadence, default_launch, next_free_weekday
from services.scheduling.domain import Session


@dataclass(frozen=True)
class Topic:
    """A programme topic, in rank order."""

    topic_id: str
    title: str
    question: str


@dataclass(frozen=True)
class Placement:
    """A new session to create for a topic."""

    topic: Topic
    slot: Slot


@dataclass(frozen=True)
class ProgrammePlan:
    """What a programme version changes; an empty plan changes nothing."""

    scheduled: list[Placement] = field(default_factory=list)
    rescheduled: list[Session] = field(default_factory=list)
    cancelled: list[Session] = field(default_factory=list)
    unplaced: list[Topic] = field(default_factory=list)


def launch_of(year: int, requested: Iterable[Session]) -> Slot:
    """The year's launch: its earliest live requested session, else the default slot."""
    candidates = [
        s.slot for s in requested if s.live and s.programme_year is None and s.year == year
    ]
    return min(candidates, key=lambda slot: slot.starts_at, default=default_launch(year))


def plan_programme(
    *,
    topics: Sequence[Topic],
    launch: Slot,
    current: Sequence[Session],
    others: Sequence[Session],
    now: datetime,
    cancel_reason: str,
) -> ProgrammePlan:
    """Merge a programme version into the year's sessions.

    `current` holds the live sessions of the year's earlier versions, `others` the other
    live sessions (not to overlap). Held sessions (started) stay as they are and keep
    their topic; the other topics, in rank order, take the cadence's slots still ahead.
    A session keeps its id when its topic stays: it is rescheduled if its slot changes
    (unless it was moved by hand), cancelled if its topic is gone or finds no slot.
    A slot taken by another session moves to the same weekday a week later, as on a
    public holiday.
    """
    held = {s.topic_id for s in current if s.started(now)}
    ahead = {s.topic_id: s for s in current if not s.started(now)}
    slots = [slot for slot in cadence(launch) if slot.starts_at > now]
    pending = [t for t in _unique(topics) if t.topic_id not in held]
    pinned = [s.slot for s in ahead.values() if s.pinned and _has(pending[: len(slots)], s)]
    taken = [s.slot for s in others if s.live] + pinned

    plan = ProgrammePlan()
    kept: set[str] = set()
    for index, topic in enumerate(pending):
        existing = ahead.get(topic.topic_id)
        if existing is not None and existing.pinned and index < len(slots):
            kept.add(topic.topic_id)
            _update(plan, existing, topic, existing.slot)
            continue
        slot = next_free_weekday(slots[index], taken=taken) if index < len(slots) else None
        if slot is None:
            plan.unplaced.append(topic)
            continue
        taken.append(slot)
        if existing is None:
            plan.scheduled.append(Placement(topic, slot))
        else:
            kept.add(topic.topic_id)
            _update(plan, existing, topic, slot)
    plan.cancelled.extend(
        replace(s, status="cancelled", sequence=s.sequence + 1, cancel_reason=cancel_reason)
        for t, s in ahead.items()
        if t not in kept
    )
    return plan


def _update(plan: ProgrammePlan, session: Session, topic: Topic, slot: Slot) -> None:
    if (session.slot, session.title, session.question) == (slot, topic.title, topic.question):
        return
    plan.rescheduled.append(
        replace(
            session,
            slot=slot,
            title=topic.title,
            question=topic.question,
            sequence=session.sequence + 1,
        )
    )


def _has(topics: Sequence[Topic], session: Session) -> bool:
    return any(t.topic_id == session.topic_id for t in topics)


def _unique(topics: Sequence[Topic]) -> list[Topic]:
    seen: set[str] = set()
    unique = []
    for topic in topics:
        if topic.topic_id not in seen:
            seen.add(topic.topic_id)
            unique.append(topic)
    return unique
