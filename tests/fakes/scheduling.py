"""The scheduling service's storage in memory (services/scheduling/repository.py's twin):
the unit of work, and the reminder timer's store sharing its reminders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from services.scheduling.cadence import Slot
from services.scheduling.domain import ReminderKind, Session
from services.scheduling.unit import Reminder, ReminderEnd, Unit
from tests.fakes.inbox import MemoryProcessedEvents


class MemorySessions:
    def __init__(self) -> None:
        self.by_id: dict[str, Session] = {}
        self.calendar_version = 0

    async def find(self, session_id: str) -> Session | None:
        return self.by_id.get(session_id)

    async def lock_calendar(self) -> None:
        self.calendar_version += 1

    async def overlapping(self, slot: Slot) -> list[Session]:
        return [s for s in self.by_id.values() if s.live and s.slot.overlaps(slot)]

    async def live_in_year(self, year: int) -> list[Session]:
        found = [
            s
            for s in self.by_id.values()
            if s.live and (s.year == year or s.programme_year == year)
        ]
        return sorted(found, key=lambda s: (s.slot.starts_at, s.session_id))

    async def save(self, session: Session) -> None:
        self.by_id[session.session_id] = session


class MemoryProgrammes:
    def __init__(self) -> None:
        self.versions: dict[int, tuple[int, str]] = {}

    async def applied_version(self, year: int) -> int:
        return self.versions[year][0] if year in self.versions else 0

    async def applied(self, year: int, *, version: int, programme_id: str) -> None:
        self.versions[year] = (version, programme_id)


@dataclass(frozen=True)
class StoredReminder:
    """A `reminders` document."""

    session_id: str
    kind: ReminderKind
    sequence: int
    due_at: datetime
    status: str = "pending"
    owner: str | None = None
    lease_until: datetime | None = None


class MemoryReminders:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredReminder] = {}

    async def plan(self, session: Session, due: Sequence[tuple[ReminderKind, datetime]]) -> None:
        for reminder_id, stored in self.by_id.items():
            if stored.session_id == session.session_id and stored.status in {"pending", "claimed"}:
                self.by_id[reminder_id] = replace(stored, status="void")
        for kind, at in due:
            reminder_id = f"{session.session_id}/{kind}/{session.sequence}"
            self.by_id[reminder_id] = StoredReminder(session.session_id, kind, session.sequence, at)


class MemoryDueReminders:
    """The timer's store, on the same reminders as the unit of work's."""

    def __init__(self, reminders: MemoryReminders) -> None:
        self._reminders = reminders

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> Reminder | None:
        claimable = [
            (reminder_id, stored)
            for reminder_id, stored in self._reminders.by_id.items()
            if (stored.status == "pending" and stored.due_at <= now)
            or (
                stored.status == "claimed"
                and stored.lease_until is not None
                and stored.lease_until < wall_clock
            )
        ]
        if not claimable:
            return None
        reminder_id, stored = min(claimable, key=lambda item: item[1].due_at)
        self._reminders.by_id[reminder_id] = replace(
            stored, status="claimed", owner=owner, lease_until=wall_clock + lease
        )
        # MongoDB gives its datetimes back in UTC: so does the twin (`due_at` is the
        # reminder event's `time`, and the bytes published must be the same).
        due_at = stored.due_at.astimezone(UTC)
        return Reminder(reminder_id, stored.session_id, stored.kind, stored.sequence, due_at, owner)

    async def finish(self, reminder: Reminder, end: ReminderEnd) -> None:
        stored = self._claimed(reminder)
        if stored is not None:
            self._reminders.by_id[reminder.reminder_id] = replace(
                stored, status=end, lease_until=None
            )

    async def release(self, reminder: Reminder) -> None:
        stored = self._claimed(reminder)
        if stored is not None:
            self._reminders.by_id[reminder.reminder_id] = replace(
                stored, status="pending", owner=None, lease_until=None
            )

    def _claimed(self, reminder: Reminder) -> StoredReminder | None:
        """The stored reminder if `reminder`'s owner still holds its claim."""
        stored = self._reminders.by_id.get(reminder.reminder_id)
        if stored is None or stored.status != "claimed" or stored.owner != reminder.owner:
            return None
        return stored


class MemoryUnit(Unit):
    """Every repository in memory; the state lives as long as the unit."""

    def __init__(self) -> None:
        super().__init__(MemoryProcessedEvents())
        self.sessions = MemorySessions()
        self.programmes = MemoryProgrammes()
        self.reminders = MemoryReminders()
