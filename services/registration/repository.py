"""Storage of the registration service (the only module that talks to MongoDB).

Every write takes the Inbox's transaction session, so that a handler's effects and the
record of the event that caused them commit together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.registration.records import Member, Participant, SessionRecord
from shared.inbox import COLLECTION as PROCESSED_EVENTS
from shared.mongo import Document

Session = AsyncClientSession


class Repository:
    """Members, erased-member tombstones, the sessions projection and participants."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._members = db["members"]
        self._erased = db["erased_members"]
        self._sessions = db["sessions"]
        self._participants = db["participants"]
        self._processed = db[PROCESSED_EVENTS]

    async def create_indexes(self) -> None:
        """One member per address key; one place per person and session."""
        await self._members.create_index("email_key", unique=True)
        await self._participants.create_index(
            [("session_id", ASCENDING), ("email_key", ASCENDING)], unique=True
        )
        await self._participants.create_index(
            [("session_id", ASCENDING), ("status", ASCENDING), ("rank", ASCENDING)]
        )
        await self._participants.create_index("email_key")

    # --- members -------------------------------------------------------------------

    async def find_member(self, email_key: str, *, session: Session) -> Member | None:
        """The stored member (active or left) with this address key."""
        doc = await self._members.find_one({"email_key": email_key}, session=session)
        return _member(doc) if doc else None

    async def is_active_member(self, email_key: str, *, session: Session) -> bool:
        """True when this address belongs to an active member."""
        found = await self._members.count_documents(
            {"email_key": email_key, "status": "active"}, limit=1, session=session
        )
        return found > 0

    async def save_member(self, member: Member, *, rejoining: bool, session: Session) -> None:
        """Insert a new member, or replace the record of a former member joining again."""
        doc = _member_doc(member)
        if rejoining:
            await self._members.replace_one({"_id": member.member_id}, doc, session=session)
        else:
            await self._members.insert_one(doc, session=session)

    async def mark_left(self, member_id: str, *, at: datetime, session: Session) -> None:
        """The member left (their data is kept until an erasure is asked for)."""
        await self._members.update_one(
            {"_id": member_id}, {"$set": {"status": "left", "left_at": at}}, session=session
        )

    async def erase_member(self, member: Member, *, at: datetime, session: Session) -> None:
        """Delete every personal datum of the member; keep only the pseudonymous id."""
        await self._members.delete_one({"_id": member.member_id}, session=session)
        await self._participants.delete_many({"email_key": member.email_key}, session=session)
        await self._erased.replace_one(
            {"_id": member.member_id},
            {"_id": member.member_id, "erased_at": at},
            upsert=True,
            session=session,
        )

    # --- sessions ------------------------------------------------------------------

    async def find_session(self, session_id: str, *, session: Session) -> SessionRecord | None:
        """The known session, if any."""
        doc = await self._sessions.find_one({"_id": session_id}, session=session)
        return _session(doc) if doc else None

    async def sessions(self, ids: Iterable[str], *, session: Session) -> dict[str, SessionRecord]:
        """Known sessions among `ids`."""
        cursor = self._sessions.find({"_id": {"$in": list(ids)}}, session=session)
        return {doc["_id"]: _session(doc) async for doc in cursor}

    async def save_session(self, record: SessionRecord, *, session: Session) -> None:
        """Store the session's latest state (the caller decided it is newer)."""
        await self._sessions.update_one(
            {"_id": record.session_id},
            {
                "$set": {
                    "starts_at": record.starts_at,
                    "ends_at": record.ends_at,
                    "sequence": record.sequence,
                    "cancelled": record.cancelled,
                }
            },
            upsert=True,
            session=session,
        )

    async def lock_session(
        self, session_id: str, *, session: Session
    ) -> tuple[int, SessionRecord] | None:
        """The session with its next sign-up rank, or None when unknown.

        The increment makes concurrent changes to one session's places conflict, so
        that the transactions touching them run one after the other.
        """
        doc = await self._sessions.find_one_and_update(
            {"_id": session_id},
            {"$inc": {"signups": 1}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return (int(doc["signups"]), _session(doc)) if doc else None

    # --- participants --------------------------------------------------------------

    async def find_participant(
        self, session_id: str, email_key: str, *, session: Session
    ) -> Participant | None:
        """This person's place or waitlist position in the session, if any."""
        doc = await self._participants.find_one(
            {"session_id": session_id, "email_key": email_key}, session=session
        )
        return _participant(doc) if doc else None

    async def count_places(self, session_id: str, *, session: Session) -> tuple[int, int]:
        """(enrolled, waitlisted) in the session."""
        counts = {"enrolled": 0, "waitlisted": 0}
        cursor = await self._participants.aggregate(
            [
                {"$match": {"session_id": session_id}},
                {"$group": {"_id": "$status", "n": {"$sum": 1}}},
            ],
            session=session,
        )
        async for row in cursor:
            counts[row["_id"]] = int(row["n"])
        return counts["enrolled"], counts["waitlisted"]

    async def add_participant(self, participant: Participant, *, session: Session) -> None:
        """Hold a place or a waitlist position (unique per person and session)."""
        await self._participants.insert_one(_participant_doc(participant), session=session)

    async def remove_participant(self, participant_id: str, *, session: Session) -> None:
        """Give the place up: nothing of the person stays in the session."""
        await self._participants.delete_one({"_id": participant_id}, session=session)

    async def waitlist(self, session_id: str, *, limit: int, session: Session) -> list[Participant]:
        """The first `limit` people on the session's waitlist, in order."""
        cursor = (
            self._participants.find(
                {"session_id": session_id, "status": "waitlisted"}, session=session
            )
            .sort("rank", ASCENDING)
            .limit(limit)
        )
        return [_participant(doc) async for doc in cursor]

    async def promote(self, participant_id: str, *, session: Session) -> None:
        """Move a waitlisted person to a place."""
        await self._participants.update_one(
            {"_id": participant_id}, {"$set": {"status": "enrolled"}}, session=session
        )

    async def participations(self, email_key: str, *, session: Session) -> list[Participant]:
        """Every place or waitlist position this person holds."""
        cursor = self._participants.find({"email_key": email_key}, session=session)
        return [_participant(doc) async for doc in cursor]

    async def participants(self, session_id: str, *, session: Session) -> list[Participant]:
        """Everyone holding a place or a waitlist position in the session, in order."""
        cursor = self._participants.find({"session_id": session_id}, session=session).sort(
            "rank", ASCENDING
        )
        return [_participant(doc) async for doc in cursor]

    async def clear_session(self, session_id: str, *, session: Session) -> None:
        """Remove every participant of the session."""
        await self._participants.delete_many({"session_id": session_id}, session=session)

    # --- erasure tags ---------------------------------------------------------------

    async def tag_processed(self, event_id: str, keys: Iterable[str]) -> None:
        """Tag an inbox record with more personal-data keys, so `Inbox.forget` finds it.

        `Inbox.process` takes its keys before the work runs; the people a withdrawal
        promotes are only known after. Idempotent; the handler runs it before its
        offset is committed, so a crash in between re-tags on redelivery.
        """
        await self._processed.update_one(
            {"_id": event_id, "erased": {"$ne": True}},
            {"$addToSet": {"keys": {"$each": sorted(set(keys))}}},
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
