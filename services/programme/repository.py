"""Storage of the programme service (the only module that talks to MongoDB).

Collections: `topics` (with their proposers and comments), `members` (the projection
of the registration service's events), `ballots` (one per voter, by email key) and
`programmes` (every published version, with the anonymous ballots it counted).
Every call takes the session of the inbox transaction it runs in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.programme.domain import (
    Ballot,
    Comment,
    MemberState,
    Proposer,
    Topic,
)
from services.programme.ranking import Ranked
from shared.mongo import Document

Session = AsyncClientSession


class ProgrammeRepository:
    """Topics, members, ballots and programmes of one deployment."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._topics = db["topics"]
        self._members = db["members"]
        self._ballots = db["ballots"]
        self._programmes = db["programmes"]

    async def create_indexes(self) -> None:
        """The unique title key makes racing instances converge on one topic."""
        await self._topics.create_index("key", unique=True)
        await self._topics.create_index("proposers.email_key")
        await self._topics.create_index("comments.email_key")
        await self._members.create_index("email_key", sparse=True)
        await self._programmes.create_index(
            [("year", ASCENDING), ("version", ASCENDING)], unique=True
        )

    # --- topics --------------------------------------------------------------------

    async def topic_by_key(self, key: str, *, session: Session) -> Topic | None:
        """The topic whose title has this de-duplication key."""
        doc = await self._topics.find_one({"key": key}, session=session)
        return _topic(doc) if doc else None

    async def topic(self, topic_id: str, *, session: Session) -> Topic | None:
        """A topic by id."""
        doc = await self._topics.find_one({"_id": topic_id}, session=session)
        return _topic(doc) if doc else None

    async def topics(self, *, session: Session) -> list[Topic]:
        """Every topic."""
        return [_topic(doc) async for doc in self._topics.find({}, session=session)]

    async def existing_topic_ids(self, ids: Sequence[str], *, session: Session) -> set[str]:
        """Which of `ids` name a topic."""
        cursor = self._topics.find({"_id": {"$in": list(ids)}}, {"_id": 1}, session=session)
        return {doc["_id"] async for doc in cursor}

    async def insert_topic(self, topic: Topic, *, session: Session) -> None:
        """Store a new topic (DuplicateKeyError when its title key exists)."""
        await self._topics.insert_one(
            {
                "_id": topic.topic_id,
                "key": topic.key,
                "title": topic.title,
                "question": topic.question,
                "description": topic.description,
                "origin": topic.origin,
                "proposed_at": topic.proposed_at,
                "proposers": [_proposer_doc(p) for p in topic.proposers],
                "comments": [],
            },
            session=session,
        )

    async def add_proposer(self, topic: Topic, proposer: Proposer, *, session: Session) -> None:
        """Attach one more proposer; the topic's date becomes its earliest proposal."""
        update: Document = {"$min": {"proposed_at": proposer.proposed_at}}
        if not topic.proposed_by(proposer.email_key):
            update["$push"] = {"proposers": _proposer_doc(proposer)}
        await self._topics.update_one({"_id": topic.topic_id}, update, session=session)

    async def comment_authors(self) -> set[str]:
        """Email keys of everyone whose contribution a topic holds."""
        cursor = self._topics.find({}, {"comments.email_key": 1})
        return {c["email_key"] async for doc in cursor for c in doc.get("comments", [])}

    async def add_comment(self, topic_id: str, comment: Comment, *, session: Session) -> None:
        """Append a contribution (arrival order)."""
        await self._topics.update_one(
            {"_id": topic_id},
            {
                "$push": {
                    "comments": {
                        "event_id": comment.event_id,
                        "email_key": comment.email_key,
                        "comment": comment.comment,
                        "at": comment.at,
                    }
                }
            },
            session=session,
        )

    # --- members -------------------------------------------------------------------

    async def member(self, member_id: str, *, session: Session) -> MemberState | None:
        """The projection's state of a member id."""
        doc = await self._members.find_one({"_id": member_id}, session=session)
        return MemberState(doc["status"], doc["since"]) if doc else None

    async def member_email_key(self, member_id: str, *, session: Session) -> str | None:
        """The email key of a member id, if known (and not erased)."""
        doc = await self._members.find_one({"_id": member_id}, session=session)
        return doc.get("email_key") if doc else None

    async def save_member(
        self,
        member_id: str,
        state: MemberState,
        *,
        email_key: str,
        name: str | None,
        session: Session,
    ) -> None:
        """Record a member's state with what identifies them (the name, when given)."""
        fields: Document = {"status": state.status, "since": state.since, "email_key": email_key}
        if name is not None:
            fields["name"] = name
        await self._members.update_one(
            {"_id": member_id}, {"$set": fields}, upsert=True, session=session
        )

    async def is_active_member(self, email_key: str, *, session: Session) -> bool:
        """True when a member with this email key is in the group."""
        query = {"email_key": email_key, "status": "active"}
        return await self._members.count_documents(query, limit=1, session=session) > 0

    async def member_names(self, *, session: Session) -> dict[str, str]:
        """Display name by email key of every known (not erased) member."""
        cursor = self._members.find(
            {"name": {"$exists": True}}, {"email_key": 1, "name": 1}, session=session
        )
        return {doc["email_key"]: doc["name"] async for doc in cursor}

    # --- ballots -------------------------------------------------------------------

    async def ballot(self, email_key: str, *, session: Session) -> Ballot | None:
        """A voter's current ballot."""
        doc = await self._ballots.find_one({"_id": email_key}, session=session)
        return _ballot(doc) if doc else None

    async def save_ballot(self, ballot: Ballot, *, session: Session) -> None:
        """Store a ballot, replacing the voter's earlier one."""
        await self._ballots.replace_one(
            {"_id": ballot.email_key},
            {
                "_id": ballot.email_key,
                "ranking": list(ballot.ranking),
                "cast_at": ballot.cast_at,
                "event_id": ballot.event_id,
            },
            upsert=True,
            session=session,
        )

    async def delete_ballot(self, email_key: str, *, session: Session) -> None:
        """Withdraw a voter's ballot (the member left)."""
        await self._ballots.delete_one({"_id": email_key}, session=session)

    async def ballots(self, *, session: Session) -> list[Ballot]:
        """Every current ballot."""
        return [_ballot(doc) async for doc in self._ballots.find({}, session=session)]

    # --- programmes ----------------------------------------------------------------

    async def latest_version(self, year: int, *, session: Session) -> int:
        """The last version published for `year`, 0 when none."""
        doc = await self._programmes.find_one(
            {"year": year}, sort=[("version", DESCENDING)], session=session
        )
        return int(doc["version"]) if doc else 0

    async def insert_programme(
        self,
        *,
        programme_id: str,
        year: int,
        version: int,
        event_id: str,
        ranking: Sequence[Ranked],
        ballots: Sequence[Sequence[str]],
        candidates: Sequence[tuple[str, Any]],
        session: Session,
    ) -> None:
        """Store a version (what it counted, without names) and supersede the earlier ones."""
        await self._programmes.update_many(
            {"year": year, "current": True}, {"$set": {"current": False}}, session=session
        )
        await self._programmes.insert_one(
            {
                "_id": programme_id,
                "year": year,
                "version": version,
                "event_id": event_id,
                "current": True,
                "ranking": [
                    {"topic_id": r.topic_id, "rank": r.rank, "score": r.score} for r in ranking
                ],
                "ballots": sorted(list(b) for b in ballots),
                "candidates": [
                    {"topic_id": topic_id, "proposed_at": at} for topic_id, at in candidates
                ],
            },
            session=session,
        )

    # --- erasure -------------------------------------------------------------------

    async def erase_person(self, email_key: str, *, session: Session) -> None:
        """Remove a person's proposals' identity, contributions, ballot and member records."""
        await self._topics.update_many(
            {"proposers.email_key": email_key},
            {"$pull": {"proposers": {"email_key": email_key}}},
            session=session,
        )
        await self._topics.update_many(
            {"comments.email_key": email_key},
            {"$pull": {"comments": {"email_key": email_key}}},
            session=session,
        )
        await self._ballots.delete_one({"_id": email_key}, session=session)
        await self._members.delete_many({"email_key": email_key}, session=session)

    async def tombstone_member(
        self, member_id: str, state: MemberState, *, session: Session
    ) -> None:
        """Keep only that a member id was erased (so that a late event cannot revive it)."""
        await self._members.replace_one(
            {"_id": member_id},
            {"_id": member_id, "status": state.status, "since": state.since},
            upsert=True,
            session=session,
        )


def _proposer_doc(proposer: Proposer) -> Document:
    return {
        "email": proposer.email,
        "email_key": proposer.email_key,
        "name": proposer.name,
        "origin": proposer.origin,
        "event_id": proposer.event_id,
        "proposed_at": proposer.proposed_at,
    }


def _topic(doc: Document) -> Topic:
    return Topic(
        topic_id=doc["_id"],
        key=doc["key"],
        title=doc["title"],
        question=doc["question"],
        description=doc.get("description"),
        origin=doc["origin"],
        proposed_at=doc["proposed_at"],
        proposers=tuple(Proposer(**p) for p in doc.get("proposers", [])),
        comments=tuple(Comment(**c) for c in doc.get("comments", [])),
    )


def _ballot(doc: Document) -> Ballot:
    return Ballot(
        email_key=doc["_id"],
        ranking=tuple(doc["ranking"]),
        cast_at=doc["cast_at"],
        event_id=doc.get("event_id", ""),
    )
