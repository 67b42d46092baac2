"""The registration service's unit of work in memory (repository.py's twin)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.registration.records import (
    Attendance,
    InterestedPerson,
    Member,
    Participant,
    Rating,
    SessionRecord,
)
from services.registration.unit import Unit
from tests.fakes.inbox import MemoryProcessedEvents


class MemoryMembers:
    def __init__(self) -> None:
        self.by_id: dict[str, Member] = {}
        self.erased: dict[str, datetime] = {}

    async def find(self, email_key: str) -> Member | None:
        return next((m for m in self.by_id.values() if m.email_key == email_key), None)

    async def is_active(self, email_key: str) -> bool:
        member = await self.find(email_key)
        return member is not None and member.status == "active"

    async def find_many(self, email_keys: Iterable[str]) -> dict[str, Member]:
        wanted = set(email_keys)
        return {m.email_key: m for m in self.by_id.values() if m.email_key in wanted}

    async def add(self, member: Member) -> None:
        if await self.find(member.email_key) is not None or member.member_id in self.by_id:
            raise DuplicateKeyError("members: email_key")
        self.by_id[member.member_id] = member

    async def rejoin(self, member: Member) -> None:
        if member.member_id in self.by_id:
            self.by_id[member.member_id] = member

    async def mark_left(self, member_id: str, *, at: datetime) -> None:
        if member_id in self.by_id:
            self.by_id[member_id] = replace(self.by_id[member_id], status="left")

    async def erase(self, member_id: str, *, at: datetime) -> None:
        self.by_id.pop(member_id, None)
        self.erased[member_id] = at


class MemorySessions:
    def __init__(self) -> None:
        self.by_id: dict[str, SessionRecord] = {}
        self.signups: dict[str, int] = {}

    async def find(self, session_id: str) -> SessionRecord | None:
        return self.by_id.get(session_id)

    async def find_many(self, session_ids: Iterable[str]) -> dict[str, SessionRecord]:
        return {i: self.by_id[i] for i in session_ids if i in self.by_id}

    async def save(self, record: SessionRecord) -> None:
        self.by_id[record.session_id] = record

    async def lock(self, session_id: str) -> tuple[int, SessionRecord] | None:
        if session_id not in self.by_id:
            return None
        self.signups[session_id] = self.signups.get(session_id, 0) + 1
        return self.signups[session_id], self.by_id[session_id]


class MemoryParticipants:
    def __init__(self) -> None:
        self.by_id: dict[str, Participant] = {}

    async def find(self, session_id: str, email_key: str) -> Participant | None:
        return next(
            (
                p
                for p in self.by_id.values()
                if p.session_id == session_id and p.email_key == email_key
            ),
            None,
        )

    async def count_places(self, session_id: str) -> tuple[int, int]:
        statuses = [p.status for p in self.by_id.values() if p.session_id == session_id]
        return statuses.count("enrolled"), statuses.count("waitlisted")

    async def add(self, participant: Participant) -> None:
        if await self.find(participant.session_id, participant.email_key):
            raise DuplicateKeyError("participants: session_id, email_key")
        self.by_id[participant.participant_id] = participant

    async def remove(self, participant_id: str) -> None:
        self.by_id.pop(participant_id, None)

    async def waitlist(self, session_id: str, *, limit: int) -> list[Participant]:
        waiting = [
            p
            for p in self.by_id.values()
            if p.session_id == session_id and p.status == "waitlisted"
        ]
        return sorted(waiting, key=lambda p: p.rank)[:limit]

    async def promote(self, participant_id: str) -> None:
        if participant_id in self.by_id:
            self.by_id[participant_id] = replace(self.by_id[participant_id], status="enrolled")

    async def of_person(self, email_key: str) -> list[Participant]:
        return [p for p in self.by_id.values() if p.email_key == email_key]

    async def of_session(self, session_id: str) -> list[Participant]:
        found = [p for p in self.by_id.values() if p.session_id == session_id]
        return sorted(found, key=lambda p: p.rank)

    async def clear_session(self, session_id: str) -> None:
        for participant in await self.of_session(session_id):
            del self.by_id[participant.participant_id]

    async def forget_person(self, email_key: str) -> None:
        for participant in await self.of_person(email_key):
            del self.by_id[participant.participant_id]


class MemoryInterested:
    def __init__(self) -> None:
        self.by_key: dict[str, InterestedPerson] = {}

    async def find(self, email_key: str) -> InterestedPerson | None:
        return self.by_key.get(email_key)

    async def save(self, person: InterestedPerson) -> None:
        self.by_key[person.email_key] = person

    async def remove(self, email_key: str) -> bool:
        return self.by_key.pop(email_key, None) is not None


class MemoryAttendances:
    def __init__(self) -> None:
        self.rows: list[Attendance] = []

    async def replace(self, session_id: str, attendees: list[Attendance]) -> None:
        self.rows = [a for a in self.rows if a.session_id != session_id] + list(attendees)

    async def attended(self, session_id: str, email_key: str) -> bool:
        return any(a.session_id == session_id and a.email_key == email_key for a in self.rows)

    async def anonymise(self, email_key: str) -> None:
        self.rows = [
            replace(a, email_key=None, email=None, first_name=None)
            if a.email_key == email_key
            else a
            for a in self.rows
        ]


class MemoryRatings:
    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Rating] = {}

    async def save(self, rating: Rating) -> None:
        self.by_key[(rating.session_id, rating.email_key or "")] = rating

    async def anonymise(self, email_key: str) -> None:
        for key, rating in list(self.by_key.items()):
            if rating.email_key == email_key:
                self.by_key[key] = replace(rating, email_key=None, comment=None)


class MemoryUnit(Unit):
    """Every repository in memory; the state lives as long as the unit."""

    def __init__(self) -> None:
        super().__init__(MemoryProcessedEvents())
        self.members = MemoryMembers()
        self.sessions = MemorySessions()
        self.participants = MemoryParticipants()
        self.interested = MemoryInterested()
        self.attendances = MemoryAttendances()
        self.ratings = MemoryRatings()
