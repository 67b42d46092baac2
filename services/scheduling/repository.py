"""Storage of the scheduling service on MongoDB (the only module that imports PyMongo).

Collections: `sessions` (one document per session, with the experts who accepted),
`reminders` (one per session, kind and sequence, and per expert for the notices of
silence: the durable state of the session timer; the name predates the digests and is
kept so that pending reminders survive an upgrade), `experts` (one invitation per
session and person),
`programmes` (the latest version applied per year), `calendar` (one document every
slot-changing transaction updates, so that two concurrent transactions cannot both pass
the overlap check: the second gets a write conflict and is retried on the first one's
result), `questions` (one per accepted question), `digests` (one per session: its
questions counted, its digest once taken) and `reports` (the latest compte rendu of
each session).

The unit of work's repositories (`MongoUnit`) run in its transaction; the timer's
stores (`MongoDueTimers`, `MongoDigestsToSend`, `MongoSilentExperts`) and its session
reader are built on a `Storage` without a session, by the composition root.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.scheduling.cadence import Slot
from services.scheduling.domain import NO_ANSWER, Session, SessionExpert, TimerKind
from services.scheduling.records import Digest, Invitation, Question, Report, Resource
from services.scheduling.unit import TimerEnd, TimerEntry, Unit
from shared.mongo import Document
from shared.storage import Collection as StoredCollection
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents


class MongoUnit(Unit):
    """The scheduling service's repositories, bound to one transaction."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.sessions = MongoSessions(storage)
        self.programmes = MongoProgrammes(storage)
        self.timers = MongoTimers(storage)
        self.questions = MongoQuestions(storage)
        self.digests = MongoDigests(storage)
        self.reports = MongoReports(storage)
        self.invitations = MongoInvitations(storage)


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes for the overlap check, the programme merge, the timer, the digests, the
    invitations and erasure."""
    sessions = db["sessions"]
    await sessions.create_index([("status", ASCENDING), ("starts_at", ASCENDING)])
    await sessions.create_index([("status", ASCENDING), ("year", ASCENDING)])
    await sessions.create_index("programme_year", sparse=True)
    reminders = db["reminders"]
    await reminders.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
    await reminders.create_index("session_id")
    await reminders.create_index("expert", sparse=True)
    questions = db["questions"]
    await questions.create_index([("session_id", ASCENDING), ("number", ASCENDING)])
    await questions.create_index("person")
    experts = db["experts"]
    await experts.create_index([("session_id", ASCENDING), ("invited_at", ASCENDING)])
    await experts.create_index("person")


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


class MongoTimers:
    def __init__(self, storage: Storage) -> None:
        self._entries = storage.collection("reminders")

    async def plan(
        self,
        session: Session,
        due: Sequence[tuple[TimerKind, datetime]],
        *,
        kinds: Collection[TimerKind],
    ) -> None:
        await self._entries.update_many(
            {
                "session_id": session.session_id,
                "kind": {"$in": list(kinds)},
                "status": {"$in": ["pending", "claimed"]},
            },
            {"$set": {"status": "void"}},
        )
        for kind, at in due:
            if kind not in kinds:
                continue
            doc = {
                "session_id": session.session_id,
                "kind": kind,
                "sequence": session.sequence,
                "due_at": at,
                "status": "pending",
            }
            await self._entries.replace_one({"_id": _entry_id(session, kind)}, doc, upsert=True)

    async def plan_no_answer(self, session: Session, expert: str, due_at: datetime | None) -> None:
        await self._entries.update_many(
            {
                "session_id": session.session_id,
                "kind": NO_ANSWER,
                "expert": expert,
                "status": {"$in": ["pending", "claimed"]},
            },
            {"$set": {"status": "void"}},
        )
        if due_at is None:
            return
        doc = {
            "session_id": session.session_id,
            "kind": NO_ANSWER,
            "expert": expert,
            "sequence": session.sequence,
            "due_at": due_at,
            "status": "pending",
        }
        entry_id = _entry_id(session, NO_ANSWER, expert=expert)
        await self._entries.replace_one({"_id": entry_id}, doc, upsert=True)

    async def forget_expert(self, expert: str) -> int:
        result = await self._entries.delete_many({"expert": expert})
        return result.deleted_count


class MongoDueTimers:
    """The session timer's store of entries: on a `Storage` without a session."""

    def __init__(self, storage: Storage) -> None:
        self._entries = storage.collection("reminders")

    async def claim_due(
        self, *, now: datetime, owner: str, wall_clock: datetime, lease: timedelta
    ) -> TimerEntry | None:
        # `now` is the business clock (injectable); leases run on the wall clock, so that
        # a claim left by a crashed instance is taken over once its lease is over.
        doc = await self._entries.find_one_and_update(
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
        return TimerEntry(
            entry_id=doc["_id"],
            session_id=doc["session_id"],
            kind=doc["kind"],
            sequence=int(doc["sequence"]),
            due_at=doc["due_at"],
            owner=owner,
            expert=doc.get("expert"),
        )

    async def finish(self, entry: TimerEntry, end: TimerEnd) -> None:
        await self._entries.update_one(
            {"_id": entry.entry_id, "status": "claimed", "owner": entry.owner},
            {"$set": {"status": end}, "$unset": {"lease_until": ""}},
        )

    async def release(self, entry: TimerEntry) -> None:
        await self._entries.update_one(
            {"_id": entry.entry_id, "status": "claimed", "owner": entry.owner},
            {"$set": {"status": "pending"}, "$unset": {"lease_until": "", "owner": ""}},
        )


class MongoQuestions:
    def __init__(self, storage: Storage) -> None:
        self._questions = storage.collection("questions")

    async def add(self, question: Question) -> None:
        await self._questions.insert_one(_question_doc(question))

    async def of_session(self, session_id: str) -> list[Question]:
        return await _questions_of(self._questions, {"session_id": session_id})

    async def erase_person(self, person: str) -> int:
        result = await self._questions.delete_many({"person": person})
        return result.deleted_count


class MongoDigests:
    def __init__(self, storage: Storage) -> None:
        self._digests = storage.collection("digests")

    async def find(self, session_id: str) -> Digest | None:
        doc = await self._digests.find_one({"_id": session_id})
        return _digest(doc) if doc else None

    async def count_question(self, session_id: str) -> Digest:
        doc = await self._digests.find_one_and_update(
            {"_id": session_id},
            {"$inc": {"asked": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upserted
        return _digest(doc)


class MongoDigestsToSend:
    """The session timer's view of the digests: on a `Storage` without a session."""

    def __init__(self, storage: Storage) -> None:
        self._digests = storage.collection("digests")
        self._questions = storage.collection("questions")

    async def find(self, session_id: str) -> Digest | None:
        doc = await self._digests.find_one({"_id": session_id})
        return _digest(doc) if doc else None

    async def take(self, session_id: str, *, at: datetime) -> Digest:
        # One write: it waits for a transaction that counted a question on this document
        # (and then includes it), and a transaction that counts one after it conflicts
        # with it, is retried, and sees the digest taken (the question is forwarded).
        try:
            doc = await self._digests.find_one_and_update(
                {"_id": session_id, "sent_at": {"$exists": False}},
                [
                    {
                        "$set": {
                            "asked": {"$ifNull": ["$asked", 0]},
                            "sent_at": at,
                            "included": {"$ifNull": ["$asked", 0]},
                        }
                    }
                ],
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # taken before: the upsert found its id in use
            doc = await self._digests.find_one({"_id": session_id})
        assert doc is not None
        return _digest(doc)

    async def questions(self, digest: Digest) -> list[Question]:
        query = {"session_id": digest.session_id, "number": {"$lte": digest.included}}
        return await _questions_of(self._questions, query)

    async def published(self, session_id: str) -> None:
        await self._digests.update_one({"_id": session_id}, {"$set": {"published": True}})


class MongoReports:
    def __init__(self, storage: Storage) -> None:
        self._reports = storage.collection("reports")

    async def latest(self, session_id: str) -> Report | None:
        doc = await self._reports.find_one({"_id": session_id})
        return _report(doc) if doc else None

    async def save(self, report: Report) -> None:
        await self._reports.replace_one(
            {"_id": report.session_id}, _report_doc(report), upsert=True
        )


class MongoInvitations:
    def __init__(self, storage: Storage) -> None:
        self._invitations = storage.collection("experts")

    async def find(self, session_id: str, person: str) -> Invitation | None:
        doc = await self._invitations.find_one({"_id": _invitation_id(session_id, person)})
        return _invitation(doc) if doc else None

    async def of_session(self, session_id: str) -> list[Invitation]:
        cursor = self._invitations.find({"session_id": session_id}).sort(
            [("invited_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [_invitation(doc) async for doc in cursor]

    async def of_person(self, person: str) -> list[Invitation]:
        cursor = self._invitations.find({"person": person}).sort([("_id", ASCENDING)])
        return [_invitation(doc) async for doc in cursor]

    async def save(self, invitation: Invitation) -> None:
        await self._invitations.replace_one(
            {"_id": _invitation_id(invitation.session_id, invitation.person)},
            _invitation_doc(invitation),
            upsert=True,
        )

    async def erase_person(self, person: str) -> int:
        result = await self._invitations.delete_many({"person": person})
        return result.deleted_count


class MongoSilentExperts:
    """The session timer's view of the invitations: on a `Storage` without a session."""

    def __init__(self, storage: Storage) -> None:
        self._invitations = storage.collection("experts")

    async def find(self, session_id: str, person: str) -> Invitation | None:
        doc = await self._invitations.find_one({"_id": _invitation_id(session_id, person)})
        return _invitation(doc) if doc else None

    async def told(self, session_id: str, person: str, *, at: datetime) -> None:
        await self._invitations.update_one(
            {"_id": _invitation_id(session_id, person), "status": "invited"},
            {"$set": {"no_answer_at": at}},
        )


def _entry_id(session: Session, kind: TimerKind, *, expert: str | None = None) -> str:
    """One entry per session, kind and sequence (and expert, for their silence)."""
    if expert is not None:
        return f"{session.session_id}/{kind}/{expert}/{session.sequence}"
    return f"{session.session_id}/{kind}/{session.sequence}"


def _invitation_id(session_id: str, person: str) -> str:
    """One invitation per session and person."""
    return f"{session_id}/{person}"


async def _questions_of(questions: StoredCollection, query: Document) -> list[Question]:
    cursor = questions.find(query).sort([("number", ASCENDING), ("_id", ASCENDING)])
    return [_question(doc) async for doc in cursor]


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
        "experts": [
            {
                "person": e.person,
                "first_name": e.first_name,
                "last_name": e.last_name,
                "organisation": e.organisation,
                "expertise": e.expertise,
            }
            for e in session.experts
        ],
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
        experts=tuple(
            SessionExpert(
                person=e["person"],
                first_name=e["first_name"],
                last_name=e["last_name"],
                organisation=e["organisation"],
                expertise=e["expertise"],
            )
            for e in doc.get("experts", [])
        ),
    )


def _question_doc(question: Question) -> Document:
    return {
        "_id": question.question_id,
        "session_id": question.session_id,
        "number": question.number,
        "person": question.person,
        "asked_by": question.asked_by,
        "text": question.text,
        "asked_at": question.asked_at,
    }


def _question(doc: Document) -> Question:
    return Question(
        question_id=doc["_id"],
        session_id=doc["session_id"],
        number=int(doc["number"]),
        person=doc["person"],
        asked_by=doc["asked_by"],
        text=doc["text"],
        asked_at=doc["asked_at"],
    )


def _digest(doc: Document) -> Digest:
    return Digest(
        session_id=doc["_id"],
        asked=int(doc.get("asked", 0)),
        sent_at=doc.get("sent_at"),
        included=int(doc.get("included", 0)),
        published=bool(doc.get("published", False)),
    )


def _report_doc(report: Report) -> Document:
    return {
        "version": report.version,
        "summary": report.summary,
        "resources": [{"title": r.title, "url": r.url} for r in report.resources],
        "next_steps": list(report.next_steps),
        "expertise_needs": list(report.expertise_needs),
        "report_id": report.report_id,
        "published_at": report.published_at,
    }


def _report(doc: Document) -> Report:
    return Report(
        session_id=doc["_id"],
        version=int(doc["version"]),
        summary=doc["summary"],
        resources=tuple(Resource(r["title"], r["url"]) for r in doc.get("resources", [])),
        next_steps=tuple(doc.get("next_steps", [])),
        expertise_needs=tuple(doc.get("expertise_needs", [])),
        report_id=doc["report_id"],
        published_at=doc["published_at"],
    )


def _invitation_doc(invitation: Invitation) -> Document:
    return {
        "session_id": invitation.session_id,
        "email": invitation.email,
        "key": invitation.key,
        "person": invitation.person,
        "first_name": invitation.first_name,
        "last_name": invitation.last_name,
        "organisation": invitation.organisation,
        "expertise": invitation.expertise,
        "message": invitation.message,
        "status": invitation.status,
        "invited_at": invitation.invited_at,
        "answered_at": invitation.answered_at,
        "note": invitation.note,
        "no_answer_at": invitation.no_answer_at,
    }


def _invitation(doc: Document) -> Invitation:
    return Invitation(
        session_id=doc["session_id"],
        email=doc["email"],
        key=doc["key"],
        person=doc["person"],
        first_name=doc["first_name"],
        last_name=doc["last_name"],
        organisation=doc["organisation"],
        expertise=doc["expertise"],
        message=doc.get("message"),
        status=doc["status"],
        invited_at=doc["invited_at"],
        answered_at=doc.get("answered_at"),
        note=doc.get("note"),
        no_answer_at=doc.get("no_answer_at"),
    )
