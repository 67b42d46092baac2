"""Session rules, pure: what may be scheduled, moved or cancelled, when to remind, when the
digest of questions is due, which sessions a compte rendu may be shared for, and the
experts: who may be invited or answer, when an unanswered invitation is told, and the
session's experts once one accepts or changes their mind."""

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
TimerKind = Literal["J-7", "J-1", "digest", "expert_no_answer"]
"""What the session timer plans: a session's two reminders and its digest (one entry per
session, kind and sequence), and the notice of an expert's silence (one per session,
expert and sequence)."""
REMINDER_KINDS: tuple[TimerKind, ...] = ("J-7", "J-1")
TIMER_KINDS: tuple[TimerKind, ...] = ("J-7", "J-1", "digest")
"""The kinds planned per session (`Timers.plan`); the experts' are planned one by one."""
NO_ANSWER: TimerKind = "expert_no_answer"
NO_ANSWER_AHEAD = timedelta(days=7)
"""An invited expert still silent this long before the session: the coordinators are told."""
MAX_EXPERTS_SHOWN = 20
"""The contract's bound on a session's `experts` (SessionData.experts)."""

REMINDERS: tuple[tuple[ReminderKind, timedelta], ...] = (
    ("J-7", timedelta(days=7)),
    ("J-1", timedelta(days=1)),
)


@dataclass(frozen=True)
class SessionExpert:
    """An expert who accepted to contribute to a session, as members read them, and their
    pseudonym (what erasure finds them by; never their address)."""

    person: str
    first_name: str
    last_name: str
    organisation: str
    expertise: str


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
    experts: tuple[SessionExpert, ...] = ()
    """The experts who accepted, in the order they did."""

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


SessionRefusal = Literal["unknown_session", "cancelled_session", "past_session"]


def _session_refusal(
    session: Session | None, *, now: datetime
) -> tuple[SessionRefusal, str] | None:
    """Why nothing may change about this session any more (None: it may), in French."""
    if session is None:
        return "unknown_session", "Cette session n'existe pas."
    if not session.live:
        return "cancelled_session", "Cette session est annulée."
    if session.started(now):
        return "past_session", f"La session du {_when(session.slot.starts_at)} a déjà eu lieu."
    return None


def _changeable(session: Session | None, *, now: datetime) -> Rejection | None:
    refused = _session_refusal(session, now=now)
    return Rejection(*refused) if refused else None


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


# --- the timer: reminders and the digest of questions ------------------------------


def digest_due_at(starts_at: datetime, *, ahead: timedelta) -> datetime:
    """When the digest of a session's questions is due: `ahead` (QUESTION_DIGEST_HOURS)
    before its start."""
    return (starts_at - ahead).astimezone(PARIS)


def timers_ahead(
    session: Session, *, now: datetime, digest_ahead: timedelta, digest_sent: bool
) -> list[tuple[TimerKind, datetime]]:
    """What the timer must plan for a session: nothing once cancelled; the reminders
    still ahead; its digest unless already sent and as long as the session has not
    started (due at once when its moment has passed: scheduled at short notice)."""
    if not session.live:
        return []
    due: list[tuple[TimerKind, datetime]] = list(reminders_ahead(session.slot.starts_at, now=now))
    if not digest_sent and not session.started(now):
        due.append(("digest", digest_due_at(session.slot.starts_at, ahead=digest_ahead)))
    return due


# --- the compte rendu --------------------------------------------------------------


def report_refusal(session: Session | None, session_id: str, *, now: datetime) -> str | None:
    """Why a compte rendu cannot be shared for this session (None: it can), for the
    dead-letter queue: the session must exist, not be cancelled, and have started."""
    if session is None:
        return f"data.session_id: unknown session {session_id!r}"
    if not session.live:
        return f"data.session_id: session {session_id!r} was cancelled"
    if not session.started(now):
        starts = session.slot.starts_at.isoformat()
        return f"data.session_id: session {session_id!r} has not started yet (it starts {starts})"
    return None


# --- experts -----------------------------------------------------------------------

ExpertRefusalReason = Literal[
    "unknown_session", "cancelled_session", "past_session", "invalid", "not_invited"
]


@dataclass(frozen=True)
class ExpertRefusal:
    """Why an invitation or an answer is refused; `detail` is in French (for the
    coordinators, or for whoever answered)."""

    reason: ExpertRefusalReason
    detail: str


def expert_refusal(session: Session | None, *, now: datetime) -> ExpertRefusal | None:
    """Experts are invited to, and answer for, a known session that is neither cancelled
    nor started (None: it is one)."""
    refused = _session_refusal(session, now=now)
    return ExpertRefusal(*refused) if refused else None


def not_invited(address: str) -> ExpertRefusal:
    """An answer from an address no invitation to the session was sent to."""
    shown = address if len(address) <= 120 else address[:117] + "..."
    return ExpertRefusal(
        "not_invited",
        f"Aucune invitation à intervenir à cette session n'a été adressée à « {shown} ».",
    )


def no_answer_due(session: Session, *, now: datetime) -> datetime | None:
    """When an invited expert's silence is told: 7 days before the start, same local time,
    or now when that is past and the session has not started; None for a cancelled or
    started session."""
    if not session.live or session.started(now):
        return None
    due = (session.slot.starts_at.astimezone(PARIS) - NO_ANSWER_AHEAD).astimezone(PARIS)
    return max(due, now.astimezone(PARIS))


def with_experts(session: Session, experts: tuple[SessionExpert, ...]) -> Session:
    """The session naming other experts: a change (sequence + 1, the ICS update)."""
    return replace(session, experts=experts, sequence=session.sequence + 1)


def accepted(session: Session, expert: SessionExpert) -> tuple[SessionExpert, ...]:
    """The session's experts once `expert` accepts: added last (order of acceptance)."""
    others = tuple(e for e in session.experts if e.person != expert.person)
    return (*others, expert)


def without(session: Session, person: str) -> tuple[SessionExpert, ...]:
    """The session's experts without this person (a change of mind, an erasure)."""
    return tuple(e for e in session.experts if e.person != person)
