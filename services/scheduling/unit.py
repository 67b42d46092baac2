"""What the scheduling handlers and the reminder timer may ask of storage.

The handlers get a unit of work (`Unit`) bound to one transaction; the reminder timer
works outside transactions with a store of its own (`DueReminders`) and reads sessions
through `SessionReader`. `repository.py` implements these on MongoDB; the tests have
in-memory ones (tests/fakes/scheduling.py), held to the same behaviour by
tests/scheduling/test_handlers.py and tests/scheduling/test_timer.py, which run on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from services.scheduling.cadence import Slot
from services.scheduling.domain import ReminderKind, Session
from shared.unit_of_work import UnitOfWork

ReminderEnd = Literal["done", "void", "missed", "superseded"]
"""How a claimed reminder ends: published, or why not."""


@dataclass(frozen=True)
class Reminder:
    """A reminder claimed by one timer (`owner`) until its lease runs out."""

    reminder_id: str
    session_id: str
    kind: ReminderKind
    sequence: int
    due_at: datetime
    owner: str


class SessionReader(Protocol):
    """Sessions by id (all the reminder timer reads)."""

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


class Reminders(Protocol):
    """The reminders planned for the sessions (the timer's durable state)."""

    async def plan(self, session: Session, due: Sequence[tuple[ReminderKind, datetime]]) -> None:
        """Void the session's pending and claimed reminders, then plan `due` for its
        current sequence (nothing due: the session only loses its reminders)."""
        ...


class DueReminders(Protocol):
    """The reminder timer's store, outside transactions: each call stands alone."""

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> Reminder | None:
        """Take, atomically, the earliest reminder due at `now` or whose claim expired
        at `wall_clock`; it is `owner`'s until `wall_clock + lease`. Two timers never
        get the same claim."""
        ...

    async def finish(self, reminder: Reminder, end: ReminderEnd) -> None:
        """Close the claim; no effect if it was lost (lease over) or voided meanwhile."""
        ...

    async def release(self, reminder: Reminder) -> None:
        """Give the claim back (pending again), to be retried at the next poll."""
        ...


class Unit(UnitOfWork):
    """The scheduling service's unit of work."""

    sessions: Sessions
    programmes: Programmes
    reminders: Reminders
