"""Session rules, pure: what may be scheduled, moved or cancelled, and when to remind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from services.scheduling.cadence import MAX_DURATION, PARIS, Slot, holiday_during

RejectionReason = Literal[
    "unknown_session",
    "past_session",
    "cancelled_session",
    "too_long",
    "ends_before_start",
    "public_holiday",
    "overlap",
    "no_slot",
]
Status = Literal["scheduled", "cancelled"]
ReminderKind = Literal["J-7", "J-1"]

REMINDERS: tuple[tuple[ReminderKind, timedelta], ...] = (
    ("J-7", timedelta(days=7)),
    ("J-1", timedelta(days=1)),
)


@dataclass(frozen=True)
class Session:
    """A webconference: one question, one slot; `sequence` counts its changes."""

    session_id: str
    title: str
    question: str
    slot: Slot
    join_url: str
    topic_id: str | None = None
    sequence: int = 0
    status: Status = "scheduled"
    programme_year: int | None = None
    """The programme (year) a session was planned by; None for a requested session."""
    pinned: bool = False
    """Moved by hand: a new programme version keeps its slot."""
    cancel_reason: str | None = None

    @property
    def live(self) -> bool:
        """Not cancelled."""
        return self.status == "scheduled"

    @property
    def year(self) -> int:
        """The local year it takes place in."""
        return self.slot.year

    def started(self, now: datetime) -> bool:
        """True once its start is reached."""
        return self.slot.starts_at <= now


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused; `detail` is in French, for the coordinators."""

    reason: RejectionReason
    detail: str


def _when(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def check_slot(slot: Slot, *, now: datetime, others: Iterable[Session]) -> Rejection | None:
    """The rules every new slot obeys; `others` are the sessions it must not overlap."""
    if slot.ends_at <= slot.starts_at:
        return Rejection("ends_before_start", "La fin doit être après le début.")
    if slot.duration > MAX_DURATION:
        return Rejection("too_long", "Une session dure deux heures au plus.")
    if slot.starts_at <= now:
        return Rejection("past_session", f"Le créneau du {_when(slot.starts_at)} est passé.")
    holiday = holiday_during(slot)
    if holiday is not None:
        day, name = holiday
        return Rejection("public_holiday", f"Le {day:%d/%m/%Y} est férié ({name}).")
    for other in others:
        if other.live and slot.overlaps(other.slot):
            return Rejection(
                "overlap",
                f"Chevauche la session « {other.title[:80]} » du {_when(other.slot.starts_at)}.",
            )
    return None


def schedule(session: Session, *, now: datetime, others: Iterable[Session]) -> Session | Rejection:
    """A requested session, if its slot obeys the rules."""
    return check_slot(session.slot, now=now, others=others) or session


def reschedule(
    session: Session | None, slot: Slot, *, now: datetime, others: Iterable[Session]
) -> Session | Rejection:
    """The session moved to `slot` (sequence + 1, pinned); unchanged if it is the same slot."""
    refused = _changeable(session, now=now)
    if refused is not None:
        return refused
    assert session is not None
    if slot == session.slot:
        return session
    others = [o for o in others if o.session_id != session.session_id]
    rejection = check_slot(slot, now=now, others=others)
    if rejection is not None:
        return rejection
    return replace(session, slot=slot, sequence=session.sequence + 1, pinned=True)


def cancel(session: Session | None, *, now: datetime, reason: str) -> Session | Rejection:
    """The session cancelled (sequence + 1, for the ICS CANCEL)."""
    refused = _changeable(session, now=now)
    if refused is not None:
        return refused
    assert session is not None
    return replace(session, status="cancelled", sequence=session.sequence + 1, cancel_reason=reason)


def _changeable(session: Session | None, *, now: datetime) -> Rejection | None:
    if session is None:
        return Rejection("unknown_session", "Cette session n'existe pas.")
    if not session.live:
        return Rejection("cancelled_session", "Cette session est annulée.")
    if session.started(now):
        return Rejection(
            "past_session", f"La session du {_when(session.slot.starts_at)} a déjà eu lieu."
        )
    return None


# --- reminders ---------------------------------------------------------------------


def reminder_due_at(kind: ReminderKind, starts_at: datetime) -> datetime:
    """Same local time, 7 days (J-7) or 1 day (J-1) before the start."""
    delta = dict(REMINDERS)[kind]
    return (starts_at.astimezone(PARIS) - delta).astimezone(PARIS)


def reminders_ahead(starts_at: datetime, *, now: datetime) -> list[tuple[ReminderKind, datetime]]:
    """The reminders of a session still to come (a session close at hand gets fewer)."""
    due = [(kind, reminder_due_at(kind, starts_at)) for kind, _ in REMINDERS]
    return [(kind, at) for kind, at in due if at > now]


ReminderOutcome = Literal["emit", "missed", "superseded"]


def reminder_outcome(kind: ReminderKind, starts_at: datetime, *, now: datetime) -> ReminderOutcome:
    """What a due reminder becomes when handled late (e.g. after an outage).

    A reminder for a session that has started is missed; a J-7 handled once the J-1
    is due is superseded by the J-1: participants get one reminder, not two at once.
    """
    if starts_at <= now:
        return "missed"
    if kind == "J-7" and reminder_due_at("J-1", starts_at) <= now:
        return "superseded"
    return "emit"
