"""Storage of the scheduling service on MongoDB (the only module that imports PyMongo).

Collections: `sessions` (one document per session), `reminders` (one per session, kind
and sequence: the durable timer's state), `programmes` (the latest version applied per
year) and `calendar` (one document every slot-changing transaction updates, so that two
concurrent transactions cannot both pass the overlap check: the second gets a write
conflict and is retried on the first one's result).

The unit of work's repositories (`MongoUnit`) run in its transaction; the reminder
timer's store (`MongoDueReminders`) and its session reader are built on a `Storage`
without a session, by the composition root.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.scheduling.cadence import Slot
from services.scheduling.domain import ReminderKind, Session
from services.scheduling.unit import Reminder, ReminderEnd, Unit
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents


class MongoUnit(Unit):
    """The scheduling service's repositories, bound to one transaction."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.sessions = MongoSessions(storage)
        self.programmes = MongoProgrammes(storage)
        self.reminders = MongoReminders(storage)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes for the overlap check, the programme merge and the timer."""
    sessions = db["sessions"]
    await sessions.create_index([("status", ASCENDING), ("starts_at", ASCENDING)])
    await sessions.create_index([("status", ASCENDING), ("year", ASCENDING)])
    await sessions.create_index("programme_year", sparse=True)
    reminders = db["reminders"]
    await reminders.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
    await reminders.create_index("session_id")


class MongoSessions:
    def __init__(self, storage: Storage) -> None:
        self._sessions = storage.collection("sessions")
        self._calendar = storage.collection("calendar")

    async def find(self, session_id: str) -> Session | None:
        doc = await self._sessions.find_one({"_id": session_id})
        return _session(doc) if doc else None

    async def lock_calendar(self) -> None:
        await self._calendar.update_one({"_id": "calendar"}, {"$inc": {"version": 1}}, upsert=True)

    async def overlapping(self, slot: Slot) -> list[Session]:
        query = {
            "status": "scheduled",
            "starts_at": {"$lt": slot.ends_at},
            "ends_at": {"$gt": slot.starts_at},
        }
        return [_session(doc) async for doc in self._sessions.find(query)]

    async def live_in_year(self, year: int) -> list[Session]:
        query = {"status": "scheduled", "$or": [{"year": year}, {"programme_year": year}]}
        cursor = self._sessions.find(query).sort([("starts_at", ASCENDING), ("_id", ASCENDING)])
        return [_session(doc) async for doc in cursor]

    async def save(self, session: Session) -> None:
        await self._sessions.replace_one(
            {"_id": session.session_id}, _session_doc(session), upsert=True
        )


class MongoProgrammes:
    def __init__(self, storage: Storage) -> None:
        self._programmes = storage.collection("programmes")

    async def applied_version(self, year: int) -> int:
        doc = await self._programmes.find_one({"_id": year})
        return int(doc["version"]) if doc else 0

    async def applied(self, year: int, *, version: int, programme_id: str) -> None:
        await self._programmes.replace_one(
            {"_id": year}, {"version": version, "programme_id": programme_id}, upsert=True
        )


class MongoReminders:
    def __init__(self, storage: Storage) -> None:
        self._reminders = storage.collection("reminders")

    async def plan(self, session: Session, due: Sequence[tuple[ReminderKind, datetime]]) -> None:
        await self._reminders.update_many(
            {"session_id": session.session_id, "status": {"$in": ["pending", "claimed"]}},
            {"$set": {"status": "void"}},
        )
        for kind, at in due:
            doc = {
                "session_id": session.session_id,
                "kind": kind,
                "sequence": session.sequence,
                "due_at": at,
                "status": "pending",
            }
            await self._reminders.replace_one(
                {"_id": _reminder_id(session, kind)}, doc, upsert=True
            )


class MongoDueReminders:
    """The reminder timer's store: on a `Storage` without a session."""

    def __init__(self, storage: Storage) -> None:
        self._reminders = storage.collection("reminders")

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> Reminder | None:
        # `now` is the business clock (injectable); leases run on the wall clock, so that
        # a claim left by a crashed instance is taken over once its lease is over.
        doc = await self._reminders.find_one_and_update(
            {
                "$or": [
                    {"status": "pending", "due_at": {"$lte": now}},
                    {"status": "claimed", "lease_until": {"$lt": wall_clock}},
                ]
            },
            {"$set": {"status": "claimed", "owner": owner, "lease_until": wall_clock + lease}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return Reminder(
            reminder_id=doc["_id"],
            session_id=doc["session_id"],
            kind=doc["kind"],
            sequence=int(doc["sequence"]),
            due_at=doc["due_at"],
            owner=owner,
        )

    async def finish(self, reminder: Reminder, end: ReminderEnd) -> None:
        await self._reminders.update_one(
            {"_id": reminder.reminder_id, "status": "claimed", "owner": reminder.owner},
            {"$set": {"status": end}, "$unset": {"lease_until": ""}},
        )

    async def release(self, reminder: Reminder) -> None:
        await self._reminders.update_one(
            {"_id": reminder.reminder_id, "status": "claimed", "owner": reminder.owner},
            {"$set": {"status": "pending"}, "$unset": {"lease_until": "", "owner": ""}},
        )


def _reminder_id(session: Session, kind: ReminderKind) -> str:
    """One reminder per session, kind and sequence."""
    return f"{session.session_id}/{kind}/{session.sequence}"


def _session_doc(session: Session) -> Document:
    return {
        "topic_id": session.topic_id,
        "title": session.title,
        "question": session.question,
        "starts_at": session.slot.starts_at,
        "ends_at": session.slot.ends_at,
        "year": session.year,
        "join_url": session.join_url,
        "sequence": session.sequence,
        "status": session.status,
        "programme_year": session.programme_year,
        "pinned": session.pinned,
        "cancel_reason": session.cancel_reason,
    }


def _session(doc: Document) -> Session:
    return Session(
        session_id=doc["_id"],
        topic_id=doc.get("topic_id"),
        title=doc["title"],
        question=doc["question"],
        slot=Slot.of(doc["starts_at"], doc["ends_at"]),
        join_url=doc["join_url"],
        sequence=int(doc["sequence"]),
        status=doc["status"],
        programme_year=doc.get("programme_year"),
        pinned=bool(doc.get("pinned", False)),
        cancel_reason=doc.get("cancel_reason"),
    )
