"""The recipients projection on MongoDB: members, participations, sessions, programmes.

Built from the other services' facts (no other service's database is ever read). An
instance lives as long as one transaction attempt: what it has read or locked in that
transaction is kept on it, and a retried attempt starts from a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne

from services.notifications.domain import Recipient
from services.notifications.records import (
    Interest,
    Member,
    Participation,
    ProgrammeVersion,
    SessionVersion,
)
from shared.links import Audience
from shared.mongo import Document
from shared.storage import Storage

ROSTER = {"_id": "roster"}
ROSTER_LOCK = {"$inc": {"version": 1}}
"""The write that serialises the transactions reading or changing the member list."""


class MongoRecipients:
    """Collections `members`, `participants`, `sessions`, `programmes` and `locks`."""

    def __init__(self, storage: Storage) -> None:
        self._members = storage.collection("members")
        self._participants = storage.collection("participants")
        self._sessions = storage.collection("sessions")
        self._programmes = storage.collection("programmes")
        self._interested = storage.collection("interested")
        self._experts = storage.collection("experts")
        self._locks = storage.collection("locks")
        self._roster_locked = False
        self._storage = storage
        self._locks_ns = storage.namespace("locks")
        self._members_ns = storage.namespace("members")
        self._known_members: dict[str, bool] = {}
        """Member ids read ahead (`prefetch_members`): True when stored (or kept back)."""
        self._upcoming: list[SessionVersion] | None = None
        self._programme_list: list[ProgrammeVersion] | None = None

    @staticmethod
    async def create_indexes(storage: Storage) -> None:
        """Indexes for the fan-outs and erasure."""
        members = storage.collection("members").raw
        await members.create_index([("left", ASCENDING)])
        await members.create_index("email_key")
        participants = storage.collection("participants").raw
        await participants.create_index([("session_id", ASCENDING), ("status", ASCENDING)])
        await participants.create_index("email_key")
        await participants.create_index("person", sparse=True)

    # --- members -----------------------------------------------------------------

    async def _lock_roster(self) -> None:
        """Serialise the transactions that change or read the member list.

        A registration and a session fan-out running at the same time would otherwise
        each miss the other (the new member neither in the fan-out nor invited late);
        both write this document, so the second gets a write conflict and is retried.
        Once per transaction is enough.
        """
        if not self._roster_locked:
            await self._locks.update_one(ROSTER, ROSTER_LOCK, upsert=True)
            self._roster_locked = True

    async def prefetch_members(self, member_ids: Sequence[str]) -> None:
        """Read at once whether these members are known (a batch of registrations)."""
        wanted = sorted(set(member_ids) - self._known_members.keys())
        if not wanted:
            return
        found = {d["_id"] async for d in self._members.find({"_id": {"$in": wanted}}, {"_id": 1})}
        self._known_members.update({member_id: member_id in found for member_id in wanted})

    async def add_member(self, member_id: str, recipient: Recipient) -> bool:
        if member_id in self._known_members:  # read ahead: kept back, written with the records
            await self._lock_roster()
            if self._known_members[member_id]:
                return False
            member = {"_id": member_id, **_person(recipient), "left": False, "erased": False}
            self._members.insert_later([member])
            self._known_members[member_id] = True
            return True
        known = {"$setOnInsert": {**_person(recipient), "left": False, "erased": False}}
        if not self._roster_locked:  # the lock and the member in one command (MongoDB 8)
            both = await self._storage.write_across(
                [
                    UpdateOne(ROSTER, ROSTER_LOCK, upsert=True, namespace=self._locks_ns),
                    UpdateOne({"_id": member_id}, known, upsert=True, namespace=self._members_ns),
                ]
            )
            if both is not None:
                self._roster_locked = True
                return both.update_results[1].upserted_id is not None
        await self._lock_roster()
        result = await self._members.update_one({"_id": member_id}, known, upsert=True)
        return result.upserted_id is not None

    async def member(self, member_id: str) -> Member | None:
        await self._storage.flush()
        doc = await self._members.find_one({"_id": member_id})
        return _member(doc) if doc else None

    async def mark_left(self, member_id: str, recipient: Recipient) -> None:
        await self._lock_roster()
        self._known_members.pop(member_id, None)
        known = await self.member(member_id)
        # The names known from the registration stay (member_left carries no last name).
        person = {k: v for k, v in _person(recipient).items() if v is not None}
        update: Document = {"left": True} if known and known.erased else {"left": True, **person}
        await self._members.update_one({"_id": member_id}, {"$set": update}, upsert=True)

    async def mark_erased(self, member_id: str) -> Member | None:
        self._known_members.pop(member_id, None)
        known = await self.member(member_id)
        await self._members.replace_one(
            {"_id": member_id}, {"left": True, "erased": True}, upsert=True
        )
        return known

    async def active_members(self) -> list[Recipient]:
        await self._lock_roster()
        await self._storage.flush()
        cursor = self._members.find({"left": False}).sort("_id", ASCENDING)
        return [_recipient(doc, audience="member") async for doc in cursor]

    # --- participations ------------------------------------------------------------

    async def save_participation(self, participation: Participation, *, as_of: datetime) -> bool:
        known = await self._participants.find_one({"_id": participation.participant_id})
        if known is not None and known["as_of"] > as_of:
            return False
        fields: Document = {
            "session_id": participation.session_id,
            "status": participation.status,
            "as_of": as_of,
        }
        if participation.reason is not None:
            fields["reason"] = participation.reason
        if participation.recipient is not None:
            fields.update(_person(participation.recipient))
        await self._participants.update_one(
            {"_id": participation.participant_id}, {"$set": fields}, upsert=True
        )
        return True

    async def participants(self, session_id: str, statuses: Sequence[str]) -> list[Recipient]:
        query = {"session_id": session_id, "status": {"$in": list(statuses)}}
        cursor = self._participants.find(query).sort("as_of", ASCENDING)
        return [_recipient(doc) async for doc in cursor if "email" in doc]

    async def withdraw_person(self, email_key: str, *, as_of: datetime) -> None:
        await self._participants.update_many(
            {"email_key": email_key, "as_of": {"$lte": as_of}},
            {"$set": {"status": "withdrawn", "reason": "member_left", "as_of": as_of}},
        )

    async def forget_participations(self, email_key: str) -> None:
        await self._participants.delete_many({"email_key": email_key})

    async def enrolled(self, session_id: str) -> int:
        query = {"session_id": session_id, "status": "enrolled"}
        return await self._participants.count_documents(query)

    async def forget_person(self, person: str) -> None:
        await self._participants.delete_many({"person": person})
        await self._interested.delete_one({"_id": person})
        await self._experts.delete_many({"person": person})

    # --- the interest list ----------------------------------------------------------

    async def save_interest(self, interest: Interest) -> None:
        person = interest.recipient
        doc = {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "topic_ids": list(interest.topic_ids),
        }
        await self._interested.replace_one({"_id": person.person}, doc, upsert=True)

    async def remove_interest(self, person: str) -> None:
        await self._interested.delete_one({"_id": person})

    async def experts(
        self, session_id: str, statuses: Sequence[str] = ("accepted",)
    ) -> list[Recipient]:
        query = {"session_id": session_id, "status": {"$in": list(statuses)}}
        cursor = self._experts.find(query).sort("_id", ASCENDING)
        return [_recipient(doc, audience="expert") async for doc in cursor]

    async def save_expert(self, session_id: str, expert: Recipient, status: str) -> None:
        doc = {**_person(expert), "session_id": session_id, "status": status}
        await self._experts.replace_one({"_id": f"{session_id}/{expert.person}"}, doc, upsert=True)

    async def interested_in(self, topic_id: str | None) -> list[Recipient]:
        query: Document = {"topic_ids": []}
        if topic_id is not None:
            query = {"$or": [{"topic_ids": []}, {"topic_ids": topic_id}]}
        cursor = self._interested.find(query).sort("_id", ASCENDING)
        return [_recipient(doc, audience="interested") async for doc in cursor]

    # --- sessions ----------------------------------------------------------------

    async def session(self, session_id: str) -> SessionVersion | None:
        doc = await self._sessions.find_one({"_id": session_id})
        return _session(doc) if doc else None

    async def save_session(self, version: SessionVersion) -> None:
        self._upcoming = None
        fields = {
            "data": version.data,
            "sequence": version.sequence,
            "starts_at": version.starts_at,
            "event_id": version.event_id,
            "event_type": version.event_type,
            "event_time": version.event_time,
        }
        update: Document = {"$set": fields}
        if version.cancelled:
            fields["cancelled"] = True
        else:
            update["$setOnInsert"] = {"cancelled": False}
        await self._sessions.update_one({"_id": version.session_id}, update, upsert=True)

    async def sessions(self, session_ids: Iterable[str]) -> dict[str, SessionVersion]:
        """Sessions by id (the sender reads them outside transactions)."""
        wanted = sorted(set(session_ids))
        if not wanted:  # a welcome, a rejection: no session to read
            return {}
        cursor = self._sessions.find({"_id": {"$in": wanted}})
        return {doc["_id"]: _session(doc) async for doc in cursor}

    async def upcoming_sessions(self, now: datetime) -> list[SessionVersion]:
        if self._upcoming is None:  # read once per transaction (a batch)
            await self._read_what_is_sent_late(now)
        assert self._upcoming is not None
        return [version for version in self._upcoming if version.starts_at > now]

    async def _read_what_is_sent_late(self, now: datetime) -> None:
        """The upcoming sessions, and the programmes unless read already: what a new
        member is sent late, in one command (`$unionWith`); a welcome asks for both."""
        pipeline: list[Document] = [
            {"$match": {"cancelled": False, "starts_at": {"$gt": now}}},
            {"$sort": {"starts_at": ASCENDING}},
            {"$unionWith": {"coll": "programmes", "pipeline": [{"$sort": {"_id": ASCENDING}}]}},
        ]
        sessions: list[SessionVersion] = []
        programmes: list[ProgrammeVersion] = []
        async for doc in await self._sessions.aggregate(pipeline):
            if isinstance(doc["_id"], int):  # a programme's id is its year
                programmes.append(_programme(doc))
            else:
                sessions.append(_session(doc))
        self._upcoming = sessions
        if self._programme_list is None:
            self._programme_list = programmes

    # --- programmes --------------------------------------------------------------

    async def programme(self, year: int) -> ProgrammeVersion | None:
        doc = await self._programmes.find_one({"_id": year})
        return _programme(doc) if doc else None

    async def save_programme(self, version: ProgrammeVersion) -> None:
        self._programme_list = None
        await self._programmes.replace_one(
            {"_id": version.year}, _programme_doc(version), upsert=True
        )

    async def current_programmes(self, year: int) -> list[ProgrammeVersion]:
        if self._programme_list is None:  # read once per transaction (a batch)
            cursor = self._programmes.find({}).sort("_id", ASCENDING)
            self._programme_list = [_programme(doc) async for doc in cursor]
        return [version for version in self._programme_list if version.year >= year]

    async def forget_author(self, author_id: str) -> None:
        query = {"data.topics.comments.author_id": author_id}
        async for doc in self._programmes.find(query):
            data = without_author(doc["data"], author_id)
            await self._programmes.update_one({"_id": doc["_id"]}, {"$set": {"data": data}})


def without_author(data: dict[str, Any], author_id: str) -> dict[str, Any]:
    """A programme's data without the comments of one author (by pseudonym)."""
    if "topics" not in data:
        return data
    topics = [
        {
            **topic,
            "comments": [c for c in topic.get("comments", []) if c.get("author_id") != author_id],
        }
        for topic in data.get("topics", [])
    ]
    return {**data, "topics": topics}


def _person(recipient: Recipient) -> Document:
    return {
        "email": recipient.email,
        "email_key": recipient.key,
        "person": recipient.person,
        "first_name": recipient.first_name,
        "last_name": recipient.last_name,
    }


def _recipient(doc: Document, *, audience: Audience | None = None) -> Recipient:
    return Recipient(doc["email"], doc.get("first_name"), doc.get("last_name"), audience)


def _member(doc: Document) -> Member:
    person = _recipient(doc) if doc.get("email") else None
    return Member(doc["_id"], person, bool(doc.get("left")), bool(doc.get("erased")))


def _session(doc: Document) -> SessionVersion:
    return SessionVersion(
        session_id=doc["_id"],
        sequence=int(doc["sequence"]),
        starts_at=doc["starts_at"],
        data=doc["data"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        event_time=doc["event_time"],
        cancelled=bool(doc.get("cancelled", False)),
    )


def _programme_doc(version: ProgrammeVersion) -> Document:
    return {
        "_id": version.year,
        "version": version.version,
        "data": version.data,
        "event_id": version.event_id,
        "event_type": version.event_type,
        "event_time": version.event_time,
    }


def _programme(doc: Document) -> ProgrammeVersion:
    return ProgrammeVersion(
        year=int(doc["_id"]),
        version=int(doc["version"]),
        data=doc["data"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        event_time=doc["event_time"],
    )
