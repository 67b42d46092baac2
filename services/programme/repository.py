"""Storage of the programme service on MongoDB (the only module that imports PyMongo).

Collections: `topics` (with their proposers and contributions), `members` (the
projection of the registration service's events), `ballots` (one per voter, by address
key) and `programmes` (every published version, with the anonymous ballots it counted).
Every call runs in the unit of work's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.programme.domain import Ballot, Comment, Member, MemberState, Proposer, Topic
from services.programme.ranking import Candidate, ProgrammeVersion, Ranked
from services.programme.unit import Unit
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents


class MongoUnit(Unit):
    """The programme service's repositories, bound to one transaction."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.topics = MongoTopics(storage)
        self.members = MongoMembers(storage)
        self.ballots = MongoBallots(storage)
        self.programmes = MongoProgrammes(storage)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """One topic per title key (racing instances converge); one version number per year."""
    topics = db["topics"]
    await topics.create_index("key", unique=True)
    await topics.create_index("proposers.email_key")
    await topics.create_index("comments.email_key")
    await db["members"].create_index("email_key", sparse=True)
    await db["programmes"].create_index([("year", ASCENDING), ("version", ASCENDING)], unique=True)


class MongoTopics:
    def __init__(self, storage: Storage) -> None:
        self._topics = storage.collection("topics")

    async def find(self, topic_id: str) -> Topic | None:
        doc = await self._topics.find_one({"_id": topic_id})
        return _topic(doc) if doc else None

    async def find_by_title(self, key: str) -> Topic | None:
        doc = await self._topics.find_one({"key": key})
        return _topic(doc) if doc else None

    async def all(self) -> list[Topic]:
        return [_topic(doc) async for doc in self._topics.find({})]

    async def existing(self, topic_ids: Iterable[str]) -> set[str]:
        cursor = self._topics.find({"_id": {"$in": list(set(topic_ids))}}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def add(self, topic: Topic) -> None:
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
                "comments": [_comment_doc(c) for c in topic.comments],
            }
        )

    async def add_proposer(self, topic: Topic, proposer: Proposer) -> None:
        update: Document = {"$min": {"proposed_at": proposer.proposed_at}}
        if not topic.proposed_by(proposer.email_key):
            update["$push"] = {"proposers": _proposer_doc(proposer)}
        await self._topics.update_one({"_id": topic.topic_id}, update)

    async def add_comment(self, topic_id: str, comment: Comment) -> None:
        await self._topics.update_one(
            {"_id": topic_id}, {"$push": {"comments": _comment_doc(comment)}}
        )

    async def forget_person(self, email_key: str) -> None:
        await self._topics.update_many(
            {"proposers.email_key": email_key},
            {"$pull": {"proposers": {"email_key": email_key}}},
        )
        await self._topics.update_many(
            {"comments.email_key": email_key},
            {"$pull": {"comments": {"email_key": email_key}}},
        )


class MongoMembers:
    def __init__(self, storage: Storage) -> None:
        self._members = storage.collection("members")

    async def find(self, member_id: str) -> Member | None:
        doc = await self._members.find_one({"_id": member_id})
        return _member(doc) if doc else None

    async def save(self, member: Member) -> None:
        doc: Document = {
            "_id": member.member_id,
            "status": member.state.status,
            "since": member.state.since,
        }
        if member.email_key is not None:
            doc["email_key"] = member.email_key
        if member.name is not None:
            doc["name"] = member.name
        await self._members.replace_one({"_id": member.member_id}, doc, upsert=True)

    async def is_active(self, email_key: str) -> bool:
        query = {"email_key": email_key, "status": "active"}
        return await self._members.count_documents(query, limit=1) > 0

    async def names(self) -> dict[str, str]:
        cursor = self._members.find({"name": {"$exists": True}}, {"email_key": 1, "name": 1})
        return {doc["email_key"]: doc["name"] async for doc in cursor}

    async def forget_person(self, email_key: str) -> None:
        await self._members.delete_many({"email_key": email_key})


class MongoBallots:
    def __init__(self, storage: Storage) -> None:
        self._ballots = storage.collection("ballots")

    async def find(self, email_key: str) -> Ballot | None:
        doc = await self._ballots.find_one({"_id": email_key})
        return _ballot(doc) if doc else None

    async def save(self, ballot: Ballot) -> None:
        await self._ballots.replace_one(
            {"_id": ballot.email_key},
            {
                "_id": ballot.email_key,
                "ranking": list(ballot.ranking),
                "cast_at": ballot.cast_at,
                "event_id": ballot.event_id,
            },
            upsert=True,
        )

    async def remove(self, email_key: str) -> None:
        await self._ballots.delete_one({"_id": email_key})

    async def all(self) -> list[Ballot]:
        return [_ballot(doc) async for doc in self._ballots.find({})]


class MongoProgrammes:
    def __init__(self, storage: Storage) -> None:
        self._programmes = storage.collection("programmes")

    async def latest(self, year: int) -> ProgrammeVersion | None:
        doc = await self._programmes.find_one({"year": year}, sort=[("version", DESCENDING)])
        return _programme(doc) if doc else None

    async def add(self, programme: ProgrammeVersion) -> None:
        await self._programmes.update_many(
            {"year": programme.year, "current": True}, {"$set": {"current": False}}
        )
        await self._programmes.insert_one(
            {
                "_id": programme.programme_id,
                "year": programme.year,
                "version": programme.version,
                "event_id": programme.event_id,
                "current": True,
                "ranking": [
                    {"topic_id": r.topic_id, "rank": r.rank, "score": r.score}
                    for r in programme.ranking
                ],
                "ballots": [list(ballot) for ballot in programme.ballots],
                "candidates": [
                    {"topic_id": c.topic_id, "proposed_at": c.proposed_at}
                    for c in programme.candidates
                ],
            }
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


def _comment_doc(comment: Comment) -> Document:
    return {
        "event_id": comment.event_id,
        "email_key": comment.email_key,
        "comment": comment.comment,
        "at": comment.at,
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


def _member(doc: Document) -> Member:
    return Member(
        member_id=doc["_id"],
        state=MemberState(doc["status"], doc["since"]),
        email_key=doc.get("email_key"),
        name=doc.get("name"),
    )


def _ballot(doc: Document) -> Ballot:
    return Ballot(
        email_key=doc["_id"],
        ranking=tuple(doc["ranking"]),
        cast_at=doc["cast_at"],
        event_id=doc.get("event_id", ""),
    )


def _programme(doc: Document) -> ProgrammeVersion:
    return ProgrammeVersion(
        programme_id=doc["_id"],
        year=int(doc["year"]),
        version=int(doc["version"]),
        event_id=doc.get("event_id", ""),
        candidates=tuple(Candidate(c["topic_id"], c["proposed_at"]) for c in doc["candidates"]),
        ballots=tuple(tuple(ballot) for ballot in doc["ballots"]),
        ranking=tuple(
            Ranked(r["topic_id"], int(r["rank"]), int(r["score"])) for r in doc["ranking"]
        ),
    )
