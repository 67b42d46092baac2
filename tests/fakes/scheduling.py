"""The scheduling service's storage in memory (services/scheduling/repository.py's twin):
the unit of work, and the session timer's stores sharing its entries, digests,
questions and invitations."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from services.scheduling.cadence import Slot
from services.scheduling.domain import NO_ANSWER, Session, TimerKind
from services.scheduling.records import Digest, Invitation, Question, Report
from services.scheduling.unit import TimerEnd, TimerEntry, Unit
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
class StoredEntry:
    """A `reminders` document (a timer entry: a reminder, a digest or an expert's
    silence)."""

    session_id: str
    kind: TimerKind
    sequence: int
    due_at: datetime
    status: str = "pending"
    owner: str | None = None
    lease_until: datetime | None = None
    expert: str | None = None


class MemoryTimers:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredEntry] = {}

    async def plan(
        self,
        session: Session,
        due: Sequence[tuple[TimerKind, datetime]],
        *,
        kinds: Collection[TimerKind],
    ) -> None:
        for entry_id, stored in self.by_id.items():
            if (
                stored.session_id == session.session_id
                and stored.kind in kinds
                and stored.status in {"pending", "claimed"}
            ):
                self.by_id[entry_id] = replace(stored, status="void")
        for kind, at in due:
            if kind in kinds:
                entry_id = f"{session.session_id}/{kind}/{session.sequence}"
                self.by_id[entry_id] = StoredEntry(session.session_id, kind, session.sequence, at)

    async def plan_no_answer(self, session: Session, expert: str, due_at: datetime | None) -> None:
        for entry_id, stored in self.by_id.items():
            if (
                stored.session_id == session.session_id
                and stored.kind == NO_ANSWER
                and stored.expert == expert
                and stored.status in {"pending", "claimed"}
            ):
                self.by_id[entry_id] = replace(stored, status="void")
        if due_at is not None:
            entry_id = f"{session.session_id}/{NO_ANSWER}/{expert}/{session.sequence}"
            self.by_id[entry_id] = StoredEntry(
                session.session_id, NO_ANSWER, session.sequence, due_at, expert=expert
            )

    async def forget_expert(self, expert: str) -> int:
        gone = [i for i, stored in self.by_id.items() if stored.expert == expert]
        for entry_id in gone:
            del self.by_id[entry_id]
        return len(gone)


class MemoryDueTimers:
    """The timer's store of entries, on the same entries as the unit of work's."""

    def __init__(self, timers: MemoryTimers) -> None:
        self._timers = timers

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> TimerEntry | None:
        claimable = [
            (entry_id, stored)
            for entry_id, stored in self._timers.by_id.items()
            if (stored.status == "pending" and stored.due_at <= now)
            or (
                stored.status == "claimed"
                and stored.lease_until is not None
                and stored.lease_until < wall_clock
            )
        ]
        if not claimable:
            return None
        entry_id, stored = min(claimable, key=lambda item: item[1].due_at)
        self._timers.by_id[entry_id] = replace(
            stored, status="claimed", owner=owner, lease_until=wall_clock + lease
        )
        # MongoDB gives its datetimes back in UTC: so does the twin (`due_at` is the
        # reminder event's `time`, and the bytes published must be the same).
        due_at = stored.due_at.astimezone(UTC)
        return TimerEntry(
            entry_id,
            stored.session_id,
            stored.kind,
            stored.sequence,
            due_at,
            owner,
            expert=stored.expert,
        )

    async def finish(self, entry: TimerEntry, end: TimerEnd) -> None:
        stored = self._claimed(entry)
        if stored is not None:
            self._timers.by_id[entry.entry_id] = replace(stored, status=end, lease_until=None)

    async def release(self, entry: TimerEntry) -> None:
        stored = self._claimed(entry)
        if stored is not None:
            self._timers.by_id[entry.entry_id] = replace(
                stored, status="pending", owner=None, lease_until=None
            )

    def _claimed(self, entry: TimerEntry) -> StoredEntry | None:
        """The stored entry if `entry`'s owner still holds its claim."""
        stored = self._timers.by_id.get(entry.entry_id)
        if stored is None or stored.status != "claimed" or stored.owner != entry.owner:
            return None
        return stored


class MemoryQuestions:
    def __init__(self) -> None:
        self.by_id: dict[str, Question] = {}

    async def add(self, question: Question) -> None:
        if question.question_id in self.by_id:
            raise DuplicateKeyError(f"duplicate question {question.question_id}")
        self.by_id[question.question_id] = question

    async def of_session(self, session_id: str) -> list[Question]:
        found = [q for q in self.by_id.values() if q.session_id == session_id]
        return sorted(found, key=lambda q: (q.number, q.question_id))

    async def erase_person(self, person: str) -> int:
        gone = [i for i, q in self.by_id.items() if q.person == person]
        for question_id in gone:
            del self.by_id[question_id]
        return len(gone)


class MemoryDigests:
    def __init__(self) -> None:
        self.by_id: dict[str, Digest] = {}

    async def find(self, session_id: str) -> Digest | None:
        return self.by_id.get(session_id)

    async def count_question(self, session_id: str) -> Digest:
        digest = self.by_id.get(session_id) or Digest(session_id)
        self.by_id[session_id] = replace(digest, asked=digest.asked + 1)
        return self.by_id[session_id]


class MemoryDigestsToSend:
    """The timer's view of the digests, on the same digests and questions as the unit
    of work's."""

    def __init__(self, digests: MemoryDigests, questions: MemoryQuestions) -> None:
        self._digests = digests
        self._questions = questions

    async def find(self, session_id: str) -> Digest | None:
        return self._digests.by_id.get(session_id)

    async def take(self, session_id: str, *, at: datetime) -> Digest:
        digest = self._digests.by_id.get(session_id) or Digest(session_id)
        if not digest.sent:
            # MongoDB gives its datetimes back in UTC (the digest event's `time`).
            digest = replace(digest, sent_at=at.astimezone(UTC), included=digest.asked)
            self._digests.by_id[session_id] = digest
        return digest

    async def questions(self, digest: Digest) -> list[Question]:
        asked = await self._questions.of_session(digest.session_id)
        return [q for q in asked if q.number <= digest.included]

    async def published(self, session_id: str) -> None:
        digest = self._digests.by_id.get(session_id)
        if digest is not None:
            self._digests.by_id[session_id] = replace(digest, published=True)


class MemoryReports:
    def __init__(self) -> None:
        self.by_id: dict[str, Report] = {}

    async def latest(self, session_id: str) -> Report | None:
        return self.by_id.get(session_id)

    async def save(self, report: Report) -> None:
        self.by_id[report.session_id] = report


class MemoryInvitations:
    def __init__(self) -> None:
        self.by_id: dict[tuple[str, str], Invitation] = {}

    async def find(self, session_id: str, person: str) -> Invitation | None:
        return self.by_id.get((session_id, person))

    async def of_session(self, session_id: str) -> list[Invitation]:
        found = [i for i in self.by_id.values() if i.session_id == session_id]
        return sorted(found, key=lambda i: (i.invited_at, f"{i.session_id}/{i.person}"))

    async def of_person(self, person: str) -> list[Invitation]:
        found = [i for i in self.by_id.values() if i.person == person]
        return sorted(found, key=lambda i: f"{i.session_id}/{i.person}")

    async def save(self, invitation: Invitation) -> None:
        self.by_id[(invitation.session_id, invitation.person)] = invitation

    async def erase_person(self, person: str) -> int:
        gone = [k for k, i in self.by_id.items() if i.person == person]
        for key in gone:
            del self.by_id[key]
        return len(gone)


class MemorySilentExperts:
    """The timer's view of the invitations, on the same invitations as the unit of work's."""

    def __init__(self, invitations: MemoryInvitations) -> None:
        self._invitations = invitations

    async def find(self, session_id: str, person: str) -> Invitation | None:
        return self._invitations.by_id.get((session_id, person))

    async def told(self, session_id: str, person: str, *, at: datetime) -> None:
        invitation = self._invitations.by_id.get((session_id, person))
        if invitation is not None and invitation.status == "invited":
            # MongoDB gives its datetimes back in UTC: so does the twin.
            told = replace(invitation, no_answer_at=at.astimezone(UTC))
            self._invitations.by_id[(session_id, person)] = told


class MemoryUnit(Unit):
    """Every repository in memory; the state lives as long as the unit."""

    def __init__(self) -> None:
        super().__init__(MemoryProcessedEvents())
        self.sessions = MemorySessions()
        self.programmes = MemoryProgrammes()
        self.timers = MemoryTimers()
        self.questions = MemoryQuestions()
        self.digests = MemoryDigests()
        self.reports = MemoryReports()
        self.invitations = MemoryInvitations()
