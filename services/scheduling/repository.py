"""Storage of the scheduling service (the only module that talks to MongoDB).

Collections: `sessions` (one document per session), `reminders` (one per session,
kind and sequence: the durable timer's state), `programmes` (the latest version
applied per year) and `calendar` (one document every slot-changing transaction
updates, so that two concurrent transactions cannot both pass the overlap check:
the second gets a write conflict and is retried on the first one's result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.scheduling.cadence import Slot
from services.scheduling.domain import ReminderKind, Session
from shared.mongo import Document

Tx = AsyncClientSession | None
ReminderEnd = Literal["done", "void", "missed", "superseded"]


@dataclass(frozen=True)
class Reminder:
    """A reminder claimed by this instance's timer."""

    reminder_id: str
    session_id: str
    kind: ReminderKind
    sequence: int
    due_at: datetime
    owner: str


class Repository:
    """Sessions, reminders and programme versions of the scheduling service."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._sessions = db["sessions"]
        self._reminders = db["reminders"]
        self._programmes = db["programmes"]
        self._calendar = db["calendar"]

    async def create_indexes(self) -> None:
        """Indexes for the overlap check, the programme merge and the timer."""
        await self._sessions.create_index([("status", ASCENDING), ("starts_at", ASCENDING)])
        await self._sessions.create_index([("status", ASCENDING), ("year", ASCENDING)])
        await self._sessions.create_index("programme_year", sparse=True)
        await self._reminders.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self._reminders.create_index("session_id")

    # --- sessions ----------------------------------------------------------------

    async def lock_calendar(self, *, session: Tx) -> None:
        """Serialise slot-changing transactions (see the module docstring)."""
        await self._calendar.update_one(
            {"_id": "calendar"}, {"$inc": {"version": 1}}, upsert=True, session=session
        )

    async def get(self, session_id: str, *, session: Tx = None) -> Session | None:
        """A session by id."""
        doc = await self._sessions.find_one({"_id": session_id}, session=session)
        return _session(doc) if doc else None

    async def overlapping(self, slot: Slot, *, session: Tx) -> list[Session]:
        """Live sessions sharing time with `slot`."""
        query = {
            "status": "scheduled",
            "starts_at": {"$lt": slot.ends_at},
            "ends_at": {"$gt": slot.starts_at},
        }
        return [_session(d) async for d in self._sessions.find(query, session=session)]

    async def live_in_year(self, year: int, *, session: Tx) -> list[Session]:
        """Live sessions taking place in a year or planned by its programme, earliest first."""
        query = {"status": "scheduled", "$or": [{"year": year}, {"programme_year": year}]}
        cursor = self._sessions.find(query, session=session).sort("starts_at", ASCENDING)
        return [_session(d) async for d in cursor]

    async def save(self, item: Session, *, session: Tx) -> None:
        """Insert or replace a session."""
        await self._sessions.replace_one(
            {"_id": item.session_id}, _session_doc(item), upsert=True, session=session
        )

    # --- programme versions ------------------------------------------------------

    async def programme_version(self, year: int, *, session: Tx) -> int:
        """The latest version applied for `year` (0 if none)."""
        doc = await self._programmes.find_one({"_id": year}, session=session)
        return int(doc["version"]) if doc else 0

    async def save_programme_version(
        self, year: int, *, version: int, programme_id: str, session: Tx
    ) -> None:
        """Record that a version was applied."""
        await self._programmes.replace_one(
            {"_id": year},
            {"version": version, "programme_id": programme_id},
            upsert=True,
            session=session,
        )

    # --- reminders ---------------------------------------------------------------

    async def plan_reminders(
        self,
        item: Session,
        due: Sequence[tuple[ReminderKind, datetime]],
        *,
        session: Tx,
    ) -> None:
        """Void the session's pending reminders; plan `due` for its current sequence."""
        await self._reminders.update_many(
            {"session_id": item.session_id, "status": {"$in": ["pending", "claimed"]}},
            {"$set": {"status": "void"}},
            session=session,
        )
        for kind, at in due:
            reminder_id = f"{item.session_id}/{kind}/{item.sequence}"
            doc = {
                "session_id": item.session_id,
                "kind": kind,
                "sequence": item.sequence,
                "due_at": at,
                "status": "pending",
            }
            await self._reminders.replace_one(
                {"_id": reminder_id}, doc, upsert=True, session=session
            )

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> Reminder | None:
        """Atomically take the earliest reminder due at `now`, or one whose claim expired.

        `now` is the business clock (injectable); leases run on the wall clock, so that
        a claim left by a crashed instance is taken over after `lease`.
        """
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

    async def finish(self, reminder: Reminder, status: ReminderEnd) -> None:
        """Close a claim; no effect if the claim was lost or voided meanwhile."""
        await self._reminders.update_one(
            {"_id": reminder.reminder_id, "status": "claimed", "owner": reminder.owner},
            {"$set": {"status": status}, "$unset": {"lease_until": ""}},
        )

    async def release(self, reminder: Reminder) -> None:
        """Give a claim back, to be retried at the next poll."""
        await self._reminders.update_one(
            {"_id": reminder.reminder_id, "status": "claimed", "owner": reminder.owner},
            {"$set": {"status": "pending"}, "$unset": {"lease_until": "", "owner": ""}},
        )


def _session_doc(item: Session) -> Document:
    return {
        "topic_id": item.topic_id,
        "title": item.title,
        "question": item.question,
        "starts_at": item.slot.starts_at,
        "ends_at": item.slot.ends_at,
        "year": item.year,
        "join_url": item.join_url,
        "sequence": item.sequence,
        "status": item.status,
        "programme_year": item.programme_year,
        "pinned": item.pinned,
        "cancel_reason": item.cancel_reason,
    }


def _session(doc: dict[str, Any]) -> Session:
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
