"""Storage of the gateway on MongoDB (the only module that imports PyMongo).

Collections: `sessions` (the projection of the scheduling service's facts), `places`
(participant id -> stage), `used_links` (link event id -> action and time) and
`confirmations` (per pseudonym and hour, removed by a TTL index once the hour is past).
No address is stored anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.gateway.records import Place, SessionRecord, Stage, UsedLink
from services.gateway.unit import Unit
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents

COUNTER_LIFETIME = timedelta(hours=2)


class MongoUnit(Unit):
    """The gateway's repositories, bound to one transaction (or to none, for the pages)."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.sessions = MongoSessions(storage)
        self.places = MongoPlaces(storage)
        self.links = MongoUsedLinks(storage)
        self.confirmations = MongoConfirmations(storage)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Sessions by start; places by session and stage; counters by person, then expired."""
    await db["sessions"].create_index("starts_at")
    await db["places"].create_index([("session_id", ASCENDING), ("stage", ASCENDING)])
    await db["confirmations"].create_index("person")
    await db["confirmations"].create_index("expires_at", expireAfterSeconds=0)


class MongoSessions:
    def __init__(self, storage: Storage) -> None:
        self._sessions = storage.collection("sessions")

    async def find(self, session_id: str) -> SessionRecord | None:
        doc = await self._sessions.find_one({"_id": session_id})
        return _session(doc) if doc else None

    async def save(self, record: SessionRecord) -> None:
        fields = {
            "topic_id": record.topic_id,
            "title": record.title,
            "question": record.question,
            "starts_at": record.starts_at,
            "ends_at": record.ends_at,
            "join_url": record.join_url,
            "sequence": record.sequence,
            "changed_at": record.changed_at,
            "cancelled": record.cancelled,
        }
        await self._sessions.update_one({"_id": record.session_id}, {"$set": fields}, upsert=True)

    async def starting_from(self, moment: datetime, *, limit: int) -> list[SessionRecord]:
        cursor = self._sessions.find({"starts_at": {"$gte": moment}})
        docs = cursor.sort([("starts_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [_session(doc) async for doc in docs]


class MongoPlaces:
    def __init__(self, storage: Storage) -> None:
        self._places = storage.collection("places")

    async def advance(self, place: Place) -> None:
        # $max: the stage only moves forward, whatever order the facts arrive in.
        await self._places.update_one(
            {"_id": place.participant_id},
            {"$max": {"stage": int(place.stage)}, "$set": {"session_id": place.session_id}},
            upsert=True,
        )

    async def enrolled(self, session_ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(session_ids))
        if not wanted:
            return {}
        cursor = await self._places.aggregate(
            [
                {"$match": {"session_id": {"$in": wanted}, "stage": int(Stage.ENROLLED)}},
                {"$group": {"_id": "$session_id", "n": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: int(row["n"]) async for row in cursor}


class MongoUsedLinks:
    def __init__(self, storage: Storage) -> None:
        self._links = storage.collection("used_links")

    async def find(self, link_id: str) -> UsedLink | None:
        doc = await self._links.find_one({"_id": link_id})
        if doc is None:
            return None
        return UsedLink(link_id=doc["_id"], action=doc["action"], used_at=doc["used_at"])

    async def add(self, used: UsedLink) -> None:
        try:
            await self._links.insert_one(
                {"_id": used.link_id, "action": used.action, "used_at": used.used_at}
            )
        except DuplicateKeyError:
            return  # a double click raced this one: the first use stays


class MongoConfirmations:
    def __init__(self, storage: Storage) -> None:
        self._counters = storage.collection("confirmations")

    async def take(self, person: str, hour: datetime, *, limit: int) -> bool:
        doc = await self._counters.find_one_and_update(
            {"_id": f"{person}/{hour.isoformat()}"},
            {
                "$inc": {"count": 1},
                "$setOnInsert": {
                    "person": person,
                    "hour": hour,
                    "expires_at": hour + COUNTER_LIFETIME,
                },
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None and int(doc["count"]) <= limit

    async def forget_person(self, person: str) -> None:
        await self._counters.delete_many({"person": person})


def _session(doc: Document) -> SessionRecord:
    return SessionRecord(
        session_id=doc["_id"],
        topic_id=doc.get("topic_id"),
        title=doc["title"],
        question=doc["question"],
        starts_at=doc["starts_at"],
        ends_at=doc["ends_at"],
        join_url=doc["join_url"],
        sequence=int(doc.get("sequence", 0)),
        changed_at=doc["changed_at"],
        cancelled=bool(doc.get("cancelled", False)),
    )
