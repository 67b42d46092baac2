"""Storage of the registration service on MongoDB (the only module that imports PyMongo).

Collections: `members` (one per address key), `erased_members` (tombstones), `sessions`
(the projection of the scheduling service's facts) and `participants` (one per person
and session). Every call runs in the unit of work's transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.registration.records import (
    Attendance,
    InterestedPerson,
    Member,
    Participant,
    Rating,
    SessionRecord,
)
from services.registration.unit import Unit
from shared.contract import CloudEvent
from shared.contract.registration import RegistrationRequestedData
from shared.identity import EmailAddress, check_address, person_key
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents


class MongoUnit(Unit):
    """The registration service's repositories, bound to one transaction."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self._members = MongoMembers(storage)
        self.members = self._members
        self.sessions = MongoSessions(storage)
        self.participants = MongoParticipants(storage)
        self.interested = MongoInterested(storage)
        self.attendances = MongoAttendances(storage)
        self.ratings = MongoRatings(storage)

    async def prepare(self, events: Sequence[CloudEvent[Any]]) -> None:
        """The members the batch's registrations name, read with one query."""
        addresses = [e.data.email for e in events if isinstance(e.data, RegistrationRequestedData)]
        keys = [a.key for a in map(check_address, addresses) if isinstance(a, EmailAddress)]
        await self._members.prefetch(keys)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """One member per address key; one place per person and session."""
    await db["members"].create_index("email_key", unique=True)
    participants = db["participants"]
    await participants.create_index(
        [("session_id", ASCENDING), ("email_key", ASCENDING)], unique=True
    )
    await participants.create_index(
        [("session_id", ASCENDING), ("status", ASCENDING), ("rank", ASCENDING)]
    )
    await participants.create_index("email_key")
    await db["attendances"].create_index([("session_id", ASCENDING), ("email_key", ASCENDING)])
    await db["attendances"].create_index("email_key")
    await db["ratings"].create_index("email_key")


class MongoMembers:
    """Members by address key. A batch of registrations reads its members with one query
    (`prefetch`) and adds the new ones with the batch's records (`insert_later`); reads
    see what was kept back, and any other change writes it first (`Storage.flush`)."""

    def __init__(self, storage: Storage) -> None:
        self._members = storage.collection("members")
        self._erased = storage.collection("erased_members")
        self._storage = storage
        self._known: dict[str, Member | None] = {}

    async def prefetch(self, email_keys: Iterable[str]) -> None:
        """Read the members of these keys at once (None for a key nobody has)."""
        wanted = sorted(set(email_keys) - self._known.keys())
        if wanted:
            found = await self.find_many(wanted)
            self._known.update({key: found.get(key) for key in wanted})

    async def find(self, email_key: str) -> Member | None:
        if email_key in self._known:
            return self._known[email_key]
        doc = await self._members.find_one({"email_key": email_key})
        return _member(doc) if doc else None

    async def is_active(self, email_key: str) -> bool:
        await self._storage.flush()
        query = {"email_key": email_key, "status": "active"}
        return await self._members.count_documents(query, limit=1) > 0

    async def find_many(self, email_keys: Iterable[str]) -> dict[str, Member]:
        await self._storage.flush()
        cursor = self._members.find({"email_key": {"$in": sorted(set(email_keys))}})
        return {doc["email_key"]: _member(doc) async for doc in cursor}

    async def add(self, member: Member) -> None:
        self._members.insert_later([_member_doc(member)])
        self._known[member.email_key] = member

    async def rejoin(self, member: Member) -> None:
        await self._changing()
        await self._members.replace_one({"_id": member.member_id}, _member_doc(member))

    async def mark_left(self, member_id: str, *, at: datetime) -> None:
        await self._changing()
        await self._members.update_one(
            {"_id": member_id}, {"$set": {"status": "left", "left_at": at}}
        )

    async def erase(self, member_id: str, *, at: datetime) -> None:
        await self._changing()
        await self._members.delete_one({"_id": member_id})
        await self._erased.replace_one(
            {"_id": member_id}, {"_id": member_id, "erased_at": at}, upsert=True
        )

    async def _changing(self) -> None:
        """Before a change to a stored member: what was kept back is written, and what
        was read ahead is read again when asked."""
        await self._storage.flush()
        self._known.clear()


class MongoSessions:
    def __init__(self, storage: Storage) -> None:
        self._sessions = storage.collection("sessions")

    async def find(self, session_id: str) -> SessionRecord | None:
        doc = await self._sessions.find_one({"_id": session_id})
        return _session(doc) if doc else None

    async def find_many(self, session_ids: Iterable[str]) -> dict[str, SessionRecord]:
        cursor = self._sessions.find({"_id": {"$in": sorted(set(session_ids))}})
        return {doc["_id"]: _session(doc) async for doc in cursor}

    async def save(self, record: SessionRecord) -> None:
        fields = {
            "starts_at": record.starts_at,
            "ends_at": record.ends_at,
            "sequence": record.sequence,
            "cancelled": record.cancelled,
        }
        await self._sessions.update_one({"_id": record.session_id}, {"$set": fields}, upsert=True)

    async def lock(self, session_id: str) -> tuple[int, SessionRecord] | None:
        doc = await self._sessions.find_one_and_update(
            {"_id": session_id}, {"$inc": {"signups": 1}}, return_document=ReturnDocument.AFTER
        )
        return (int(doc["signups"]), _session(doc)) if doc else None


class MongoParticipants:
    def __init__(self, storage: Storage) -> None:
        self._participants = storage.collection("participants")

    async def find(self, session_id: str, email_key: str) -> Participant | None:
        doc = await self._participants.find_one({"session_id": session_id, "email_key": email_key})
        return _participant(doc) if doc else None

    async def count_places(self, session_id: str) -> tuple[int, int]:
        counts = {"enrolled": 0, "waitlisted": 0}
        cursor = await self._participants.aggregate(
            [
                {"$match": {"session_id": session_id}},
                {"$group": {"_id": "$status", "n": {"$sum": 1}}},
            ]
        )
        async for row in cursor:
            counts[row["_id"]] = int(row["n"])
        return counts["enrolled"], counts["waitlisted"]

    async def add(self, participant: Participant) -> None:
        await self._participants.insert_one(_participant_doc(participant))

    async def remove(self, participant_id: str) -> None:
        await self._participants.delete_one({"_id": participant_id})

    async def waitlist(self, session_id: str, *, limit: int) -> list[Participant]:
        query = {"session_id": session_id, "status": "waitlisted"}
        cursor = self._participants.find(query).sort("rank", ASCENDING).limit(limit)
        return [_participant(doc) async for doc in cursor]

    async def promote(self, participant_id: str) -> None:
        await self._participants.update_one(
            {"_id": participant_id}, {"$set": {"status": "enrolled"}}
        )

    async def of_person(self, email_key: str) -> list[Participant]:
        return [_participant(d) async for d in self._participants.find({"email_key": email_key})]

    async def of_session(self, session_id: str) -> list[Participant]:
        cursor = self._participants.find({"session_id": session_id}).sort("rank", ASCENDING)
        return [_participant(doc) async for doc in cursor]

    async def clear_session(self, session_id: str) -> None:
        await self._participants.delete_many({"session_id": session_id})

    async def forget_person(self, email_key: str) -> None:
        await self._participants.delete_many({"email_key": email_key})


class MongoInterested:
    """Collection `interested`: `_id` is the address key."""

    def __init__(self, storage: Storage) -> None:
        self._interested = storage.collection("interested")

    async def find(self, email_key: str) -> InterestedPerson | None:
        doc = await self._interested.find_one({"_id": email_key})
        if doc is None:
            return None
        fields = {k: v for k, v in doc.items() if k != "_id"}
        fields["topic_ids"] = tuple(fields.get("topic_ids", ()))
        return InterestedPerson(email_key=email_key, **fields)

    async def save(self, person: InterestedPerson) -> None:
        doc = dataclasses.asdict(person)
        doc["_id"] = doc.pop("email_key")
        doc["topic_ids"] = list(person.topic_ids)
        await self._interested.replace_one({"_id": person.email_key}, doc, upsert=True)

    async def remove(self, email_key: str) -> bool:
        return (await self._interested.delete_one({"_id": email_key})).deleted_count > 0


class MongoAttendances:
    """Collection `attendances`: one document per session and person matched."""

    def __init__(self, storage: Storage) -> None:
        self._attendances = storage.collection("attendances")

    async def replace(self, session_id: str, attendees: list[Attendance]) -> None:
        await self._attendances.delete_many({"session_id": session_id})
        if attendees:
            docs = [dataclasses.asdict(a) for a in attendees]
            await self._attendances.insert_many(docs)

    async def attended(self, session_id: str, email_key: str) -> bool:
        query = {"session_id": session_id, "email_key": email_key}
        return await self._attendances.count_documents(query, limit=1) > 0

    async def anonymise(self, email_key: str) -> None:
        await self._attendances.update_many(
            {"email_key": email_key},
            {"$set": {"email_key": None, "email": None, "first_name": None}},
        )


class MongoRatings:
    """Collection `ratings`: `_id` is the session and the person."""

    def __init__(self, storage: Storage) -> None:
        self._ratings = storage.collection("ratings")

    async def save(self, rating: Rating) -> None:
        doc = dataclasses.asdict(rating)
        doc["_id"] = f"{rating.session_id}/{person_key(rating.email_key or '')}"
        await self._ratings.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def anonymise(self, email_key: str) -> None:
        await self._ratings.update_many(
            {"email_key": email_key}, {"$set": {"email_key": None, "comment": None}}
        )


def _member_doc(member: Member) -> Document:
    doc = dataclasses.asdict(member)
    doc["_id"] = doc.pop("member_id")
    doc["topics_of_interest"] = list(member.topics_of_interest)
    return doc


def _member(doc: Document) -> Member:
    fields = {k: v for k, v in doc.items() if k not in {"_id", "left_at"}}
    fields["topics_of_interest"] = tuple(fields.get("topics_of_interest", ()))
    return Member(member_id=doc["_id"], **fields)


def _session(doc: Document) -> SessionRecord:
    return SessionRecord(
        session_id=doc["_id"],
        starts_at=doc["starts_at"],
        ends_at=doc["ends_at"],
        sequence=int(doc.get("sequence", 0)),
        cancelled=bool(doc.get("cancelled", False)),
    )


def _participant_doc(participant: Participant) -> Document:
    doc = dataclasses.asdict(participant)
    doc["_id"] = doc.pop("participant_id")
    return doc


def _participant(doc: Document) -> Participant:
    fields: dict[str, Any] = {k: v for k, v in doc.items() if k != "_id"}
    return Participant(participant_id=doc["_id"], **fields)
