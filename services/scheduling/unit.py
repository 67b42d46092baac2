"""What the scheduling handlers and the session timer may ask of storage.

The handlers get a unit of work (`Unit`) bound to one transaction; the session timer
(reminders, digests and the experts' silences, timer.py) works outside transactions
with stores of its own (`DueTimers`, `DigestsToSend`, `SilentExperts`) and reads
sessions through `SessionReader`.
`repository.py` implements these on MongoDB; the tests have in-memory ones
(tests/fakes/scheduling.py), held to the same behaviour by the handler and timer tests
(tests/scheduling/test_handlers.py, test_cycle.py, test_timer.py), which run on both.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from services.scheduling.cadence import Slot
from services.scheduling.domain import Session, TimerKind
from services.scheduling.records import Digest, Invitation, Question, Report
from shared.unit_of_work import UnitOfWork

TimerEnd = Literal["done", "void", "missed", "superseded"]
"""How a claimed timer entry ends: published, or why not."""


@dataclass(frozen=True)
class TimerEntry:
    """A reminder, a digest or an expert's silence, due, claimed by one timer (`owner`)
    until its lease runs out."""

    entry_id: str
    session_id: str
    kind: TimerKind
    sequence: int
    due_at: datetime
    owner: str
    expert: str | None = None
    """The expert's pseudonym (an `expert_no_answer` entry)."""


class SessionReader(Protocol):
    """Sessions by id (what the session timer reads of them)."""

    async def find(self, session_id: str) -> Session | None:
        """The session, live or cancelled, if it exists."""
        ...


class Sessions(SessionReader, Protocol):
    """Every session, requested or planned by a programme, live or cancelled."""

    async def lock_calendar(self) -> None:
        """Serialise the transactions that change slots: two of them conflict, so the
        second one is retried on the first one's result and sees its session."""
        ...

    async def overlapping(self, slot: Slot) -> list[Session]:
        """The live sessions sharing some time with `slot`."""
        ...

    async def live_in_year(self, year: int) -> list[Session]:
        """The live sessions taking place in `year` or planned by its programme,
        earliest first."""
        ...

    async def save(self, session: Session) -> None:
        """Insert the session, or replace its stored state."""
        ...


class Programmes(Protocol):
    """The latest programme version applied, per year."""

    async def applied_version(self, year: int) -> int:
        """The latest version applied for `year` (0: none yet)."""
        ...

    async def applied(self, year: int, *, version: int, programme_id: str) -> None:
        """Record that this version of the year's programme was applied."""
        ...


class Timers(Protocol):
    """What the session timer must do for each session (its durable state): one entry
    per session, kind and sequence."""

    async def plan(
        self,
        session: Session,
        due: Sequence[tuple[TimerKind, datetime]],
        *,
        kinds: Collection[TimerKind],
    ) -> None:
        """Void the session's pending and claimed entries of `kinds`, then plan `due` (of
        those kinds) for its current sequence; entries of other kinds are left alone."""
        ...

    async def plan_no_answer(self, session: Session, expert: str, due_at: datetime | None) -> None:
        """Void the session's pending and claimed `expert_no_answer` entries of this expert
        (a pseudonym), then plan one due at `due_at` (None: none) for its current
        sequence."""
        ...

    async def forget_expert(self, expert: str) -> int:
        """Delete every entry of this expert (erasure); how many went."""
        ...


class Questions(Protocol):
    """The questions asked before the sessions."""

    async def add(self, question: Question) -> None:
        """Keep a question (its id is new)."""
        ...

    async def of_session(self, session_id: str) -> list[Question]:
        """The session's questions, in the order they were asked."""
        ...

    async def erase_person(self, person: str) -> int:
        """Delete every question asked by this pseudonym; how many went."""
        ...


class Digests(Protocol):
    """Per session: its questions counted, and whether its digest was taken."""

    async def find(self, session_id: str) -> Digest | None:
        """The session's digest state, if it has one yet."""
        ...

    async def count_question(self, session_id: str) -> Digest:
        """Count one more question (its number is `asked` in the result). It writes the
        state the timer takes the digest from: a transaction counting a question and
        the timer taking the digest never miss each other (the later one waits for, or
        conflicts with, the earlier), so each question is in the digest or forwarded."""
        ...


class Invitations(Protocol):
    """The experts invited to the sessions: one per session and person."""

    async def find(self, session_id: str, person: str) -> Invitation | None:
        """This person's invitation to the session, if any."""
        ...

    async def of_session(self, session_id: str) -> list[Invitation]:
        """The session's invitations, in the order they were sent."""
        ...

    async def of_person(self, person: str) -> list[Invitation]:
        """Every invitation of this pseudonym."""
        ...

    async def save(self, invitation: Invitation) -> None:
        """Insert the invitation, or replace its stored state."""
        ...

    async def erase_person(self, person: str) -> int:
        """Delete every invitation of this pseudonym; how many went."""
        ...


class Reports(Protocol):
    """The latest compte rendu of each session."""

    async def latest(self, session_id: str) -> Report | None:
        """The session's latest report, if any."""
        ...

    async def save(self, report: Report) -> None:
        """Keep this report as the session's latest."""
        ...


class DueTimers(Protocol):
    """The session timer's store of entries, outside transactions: each call stands
    alone."""

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> TimerEntry | None:
        """Take, atomically, the earliest entry due at `now` or whose claim expired at
        `wall_clock`; it is `owner`'s until `wall_clock + lease`. Two timers never get
        the same claim."""
        ...

    async def finish(self, entry: TimerEntry, end: TimerEnd) -> None:
        """Close the claim; no effect if it was lost (lease over) or voided meanwhile."""
        ...

    async def release(self, entry: TimerEntry) -> None:
        """Give the claim back (pending again), to be retried at the next poll."""
        ...


class DigestsToSend(Protocol):
    """The session timer's view of the digests, outside transactions."""

    async def find(self, session_id: str) -> Digest | None:
        """The session's digest state, if it has one yet."""
        ...

    async def take(self, session_id: str, *, at: datetime) -> Digest:
        """Take the digest, atomically, with every question counted so far (a question
        counted later is forwarded); if it was taken before, it stays as it was taken.
        Returns the digest as stored."""
        ...

    async def questions(self, digest: Digest) -> list[Question]:
        """The questions the digest holds (numbered up to `included`, not erased), in
        the order they were asked."""
        ...

    async def published(self, session_id: str) -> None:
        """Confirm that the digest was published: no timer publishes it again."""
        ...


class SilentExperts(Protocol):
    """The session timer's view of the invitations, outside transactions."""

    async def find(self, session_id: str, person: str) -> Invitation | None:
        """This person's invitation to the session, if any."""
        ...

    async def told(self, session_id: str, person: str, *, at: datetime) -> None:
        """Record that the coordinators were told of their silence (if they are still
        silent): no entry is planned for it again."""
        ...


class Unit(UnitOfWork):
    """The scheduling service's unit of work."""

    sessions: Sessions
    programmes: Programmes
    timers: Timers
    questions: Questions
    digests: Digests
    reports: Reports
    invitations: Invitations
