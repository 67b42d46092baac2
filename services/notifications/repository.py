"""Storage of the notifications service (the only module that talks to MongoDB).

Collections:
- `members`, `participants`, `sessions`: the recipients projection, built from the
  other services' events (no other service's database is ever read);
- `contents`: what one kind of email for one cause is made from (the cause's data);
- `deliveries`: one document per (cause id, recipient, kind), `_id` being that
  unique key: pending until sent, claimed by a sender with a lease. The deliveries of
  one content are stored in chunks (`batch`): a sender claims and records a whole
  chunk with one `update_many` each (per-document writes cost ~1 ms each on the
  embedded database, a chunk-wide one ~0.3 ms per document);
- `receipts`: one small document per email the relay accepted, written right after
  its acceptance: what tells a sender taking over a crashed sender's chunk which
  emails already went out (so at most the one in flight can go twice).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, UpdateMany, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.notifications.domain import Recipient
from services.notifications.outbox import Delivery, Dispatch, SessionVersion, delivery_docs
from shared.inbox import attempt_memo
from shared.mongo import Document

Tx = AsyncClientSession | None
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ERASED = "erased"


class Repository:
    """The recipients projection and the deliveries of the notifications service."""

    def __init__(self, db: AsyncDatabase[Document], *, chunk: int = 100) -> None:
        self.chunk = chunk
        self._members = db["members"]
        self._participants = db["participants"]
        self._sessions = db["sessions"]
        self._programmes = db["programmes"]
        self._contents = db["contents"]
        self._deliveries = db["deliveries"]
        self._receipts = db["receipts"]
        self._locks = db["locks"]

    async def create_indexes(self) -> None:
        """Indexes for the fan-outs, the sender's claim, the announcements and erasure."""
        await self._members.create_index([("left", ASCENDING)])
        await self._members.create_index("email_key")
        await self._participants.create_index([("session_id", ASCENDING), ("status", ASCENDING)])
        await self._participants.create_index("email_key")
        await self._contents.create_index("keys")
        await self._deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        # Only the deliveries whose outcome is still to be announced carry `owed`: the
        # common path (announced when recorded) never touches this index.
        await self._deliveries.create_index("owed", sparse=True)
        # Likewise `scrub`: the deliveries to an erased person, scrubbed once settled.
        await self._deliveries.create_index("scrub", sparse=True)
        if "announced_1_status_1" in await self._deliveries.index_information():
            # Upgrade from the earlier index: outcomes not announced then now owe it.
            await self._deliveries.update_many(
                {"announced": False, "status": {"$in": ["sent", "failed"]}},
                {"$set": {"owed": True}},
            )
            await self._deliveries.drop_index("announced_1_status_1")
        await self._deliveries.create_index("recipient_key")
        await self._deliveries.create_index("content_id")
        await self._deliveries.create_index("batch")
        await self._receipts.create_index("batch")

    # --- members -----------------------------------------------------------------

    async def lock_roster(self, *, session: Tx) -> None:
        """Serialise the transactions that change or read the member list.

        A registration and a session fan-out running at the same time would otherwise
        each miss the other (the new member neither in the fan-out nor invited late);
        both write this document, so the second gets a write conflict and is retried.
        """
        memo = attempt_memo()
        if memo.get("roster locked"):
            return  # once per transaction is enough: the conflict is per transaction
        await self._locks.update_one(
            {"_id": "roster"}, {"$inc": {"version": 1}}, upsert=True, session=session
        )
        memo["roster locked"] = True

    async def member(self, member_id: str, *, session: Tx = None) -> Document | None:
        """A member's projection document (or tombstone)."""
        return await self._members.find_one({"_id": member_id}, session=session)

    async def add_member(self, member_id: str, recipient: Recipient, *, session: Tx) -> bool:
        """Record a member unless already known (never over a tombstone of a member who
        left or was erased); True when the member is new."""
        await self.lock_roster(session=session)
        result = await self._members.update_one(
            {"_id": member_id},
            {"$setOnInsert": {**_person(recipient), "left": False, "erased": False}},
            upsert=True,
            session=session,
        )
        return result.upserted_id is not None

    async def mark_left(self, member_id: str, recipient: Recipient, *, session: Tx) -> None:
        """A member left: they get nothing more (the document stays as a tombstone)."""
        await self.lock_roster(session=session)
        doc = await self.member(member_id, session=session)
        erased = bool(doc and doc.get("erased"))
        # The names known from the registration stay (member_left carries no last name):
        # an erasure after the leaving needs them to find the member's contributions.
        person = {k: v for k, v in _person(recipient).items() if v is not None}
        update: Document = {"left": True} if erased else {"left": True, **person}
        await self._members.update_one(
            {"_id": member_id}, {"$set": update}, upsert=True, session=session
        )

    async def mark_erased(self, member_id: str, *, session: Tx) -> Document | None:
        """Keep only a tombstone of the member; return their document as it was, if any."""
        doc = await self.member(member_id, session=session)
        await self._members.replace_one(
            {"_id": member_id},
            {"left": True, "erased": True},
            upsert=True,
            session=session,
        )
        return doc

    async def active_members(self, *, session: Tx) -> list[Recipient]:
        """Members who have not left (a stable order)."""
        await self.lock_roster(session=session)
        cursor = self._members.find({"left": False}, session=session).sort("_id", ASCENDING)
        return [_recipient(doc) async for doc in cursor]

    # --- participants ------------------------------------------------------------

    async def participant(self, participant_id: str, *, session: Tx) -> Document | None:
        """A participant's projection document."""
        return await self._participants.find_one({"_id": participant_id}, session=session)

    async def save_participant(
        self, participant_id: str, fields: Document, *, as_of: datetime, session: Tx
    ) -> bool:
        """Apply a participant's change unless a later one is already known."""
        doc = await self.participant(participant_id, session=session)
        if doc is not None and doc["as_of"] > as_of:
            return False
        await self._participants.update_one(
            {"_id": participant_id},
            {"$set": {**fields, "as_of": as_of}},
            upsert=True,
            session=session,
        )
        return True

    async def participants(
        self, session_id: str, *, statuses: Sequence[str], session: Tx
    ) -> list[Recipient]:
        """A session's participants in the given statuses."""
        query = {"session_id": session_id, "status": {"$in": list(statuses)}}
        cursor = self._participants.find(query, session=session).sort("as_of", ASCENDING)
        return [_recipient(doc) async for doc in cursor]

    async def withdraw_person(self, email_key: str, *, as_of: datetime, session: Tx) -> None:
        """Someone left the group: none of their participations gets emails any more."""
        await self._participants.update_many(
            {"email_key": email_key, "as_of": {"$lte": as_of}},
            {"$set": {"status": "withdrawn", "reason": "member_left", "as_of": as_of}},
            session=session,
        )

    # --- sessions ----------------------------------------------------------------

    async def session_doc(self, session_id: str, *, session: Tx = None) -> Document | None:
        """The latest known version of a session."""
        return await self._sessions.find_one({"_id": session_id}, session=session)

    async def save_session(self, version: SessionVersion, *, cancelled: bool, session: Tx) -> None:
        """Store a session version (the caller checked it is newer); cancelled is sticky."""
        attempt_memo().pop("upcoming sessions", None)
        fields = {
            "data": version.data,
            "sequence": version.sequence,
            "starts_at": version.starts_at,
            "event_id": version.event_id,
            "event_type": version.event_type,
            "event_time": version.event_time,
        }
        update: Document = {"$set": fields}
        if cancelled:
            update["$set"]["cancelled"] = True
        else:
            update["$setOnInsert"] = {"cancelled": False}
        await self._sessions.update_one(
            {"_id": version.session_id}, update, upsert=True, session=session
        )

    async def upcoming_sessions(self, *, now: datetime, session: Tx) -> list[Document]:
        """Sessions not cancelled that have not started yet, earliest first."""
        memo = attempt_memo()
        if "upcoming sessions" not in memo:  # read once per transaction (a batch)
            query = {"cancelled": False, "starts_at": {"$gt": now}}
            cursor = self._sessions.find(query, session=session).sort("starts_at", ASCENDING)
            memo["upcoming sessions"] = [doc async for doc in cursor]
        return [doc for doc in memo["upcoming sessions"] if doc["starts_at"] > now]

    async def sessions(self, session_ids: Iterable[str]) -> dict[str, Document]:
        """Sessions by id."""
        cursor = self._sessions.find({"_id": {"$in": sorted(set(session_ids))}})
        return {doc["_id"]: doc async for doc in cursor}

    # --- programmes --------------------------------------------------------------

    async def programme_doc(self, year: int, *, session: Tx) -> Document | None:
        """The latest known version of a year's programme."""
        return await self._programmes.find_one({"_id": year}, session=session)

    async def save_programme(self, fields: Document, *, session: Tx) -> None:
        """Store a year's programme (the caller checked it is the latest version)."""
        attempt_memo().pop("programmes", None)
        await self._programmes.replace_one(
            {"_id": fields["_id"]}, fields, upsert=True, session=session
        )

    async def forget_author(self, author: str, *, session: Tx) -> None:
        """Remove an erased member's contributions from the programmes kept here: the
        copy sent to late members, and the contents of announcements (a homonym's go too:
        the published programme, in the programme service, keeps theirs)."""
        query = {"data.topics.comments.author": author}
        for collection in (self._programmes, self._contents):
            async for doc in collection.find(query, session=session):
                data = doc["data"]
                for topic in data.get("topics", []):
                    comments = topic.get("comments", [])
                    topic["comments"] = [c for c in comments if c.get("author") != author]
                await collection.update_one(
                    {"_id": doc["_id"]}, {"$set": {"data": data}}, session=session
                )

    async def current_programmes(self, *, year: int, session: Tx) -> list[Document]:
        """The programmes of this year and the next ones, earliest first."""
        memo = attempt_memo()
        if "programmes" not in memo:  # read once per transaction (a batch)
            cursor = self._programmes.find({}, session=session).sort("_id")
            memo["programmes"] = [doc async for doc in cursor]
        return [doc for doc in memo["programmes"] if doc["_id"] >= year]

    # --- deliveries --------------------------------------------------------------

    async def add(
        self, dispatch: Dispatch, *, now: datetime, session: Tx, fresh: bool = False
    ) -> int:
        """Store a dispatch: its content once, and one delivery per recipient.

        `fresh`: the dispatch's cause is the event being processed (once, by the inbox),
        so neither its content nor its delivery keys can exist yet: plain inserts.
        """
        content, deliveries = delivery_docs(
            dispatch,
            now=now,
            chunk=self.chunk,
            batch=f"{dispatch.content_id}/{uuid.uuid4().hex[:12]}",
            order=time.time_ns(),
        )
        if not deliveries:
            return 0
        known: set[str] = set()
        if fresh:  # an insert: on SecantusDB an update costs a plan over the indexes
            await self._contents.insert_one(content, session=session)
        else:
            await self._contents.update_one(
                {"_id": content["_id"]}, {"$setOnInsert": content}, upsert=True, session=session
            )
            ids = [doc["_id"] for doc in deliveries]
            existing = self._deliveries.find({"_id": {"$in": ids}}, {"_id": 1}, session=session)
            known = {doc["_id"] async for doc in existing}
        new = [doc for doc in deliveries if doc["_id"] not in known]
        if new:
            await self._deliveries.insert_many(new, ordered=False, session=session)
        return len(new)

    async def cancel_pending(self, email_key: str, *, keep: Sequence[str], session: Tx) -> int:
        """Someone left: drop what was still to be sent to them (but the kinds in `keep`)."""
        result = await self._deliveries.update_many(
            {"recipient_key": email_key, "status": "pending", "kind": {"$nin": list(keep)}},
            {"$set": {"status": "cancelled", "announced": True}},
            session=session,
        )
        return result.modified_count

    async def erase_person(self, email_key: str, *, session: Tx) -> None:
        """Scrub a person from deliveries and contents; a pending one is scrubbed once sent."""
        await self._participants.delete_many({"email_key": email_key}, session=session)
        await self._deliveries.update_many(
            {"recipient_key": email_key, "$or": [{"status": "pending"}, {"announced": False}]},
            {"$set": {"erase_after_send": True, "scrub": True}},
            session=session,
        )
        await self._deliveries.update_many(
            {"recipient_key": email_key, "status": {"$ne": "pending"}, "announced": True},
            {"$set": {"recipient_key": ERASED, "erased": True}, "$unset": {"recipient": ""}},
            session=session,
        )
        await self.drop_contents(email_key, session=session)

    async def drop_contents(self, email_key: str, *, session: Tx) -> None:
        """Delete the contents naming a person that no pending delivery still needs."""
        async for content in self._contents.find({"keys": email_key}, session=session):
            waiting = await self._deliveries.count_documents(
                {"content_id": content["_id"], "status": "pending"}, limit=1, session=session
            )
            if not waiting:
                await self._contents.delete_one({"_id": content["_id"]}, session=session)

    async def scrub(self, delivery: Delivery) -> None:
        """After the last message to an erased person: remove what named them."""
        await self._deliveries.update_one(
            {"_id": delivery.delivery_id},
            {
                "$set": {"recipient_key": ERASED, "erased": True},
                "$unset": {"recipient": "", "scrub": ""},
            },
        )
        if delivery.recipient_key != ERASED:
            await self.drop_contents(delivery.recipient_key, session=None)

    async def scrub_settled(self, limit: int) -> int:
        """Scrub the deliveries to an erased person that are settled and announced.

        The sender scrubs what it sends to a person already known as erased; this sweep
        catches the rest: a delivery claimed before the erasure was processed (the
        sender's copy does not know), or one skipped or failed meanwhile."""
        query = {"scrub": True, "status": {"$ne": "pending"}, "announced": True}
        cursor = self._deliveries.find(query).limit(limit)
        settled = [Delivery.from_doc(doc) async for doc in cursor]
        for delivery in settled:
            await self.scrub(delivery)
        return len(settled)

    # --- the sender --------------------------------------------------------------

    async def claim(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int = 200,
        following: str | None = None,
    ) -> tuple[list[Delivery], dict[str, Document]]:
        """Claim due deliveries for `owner` until the lease ends, whole chunks at a time.

        After chunk `following`, the next chunk of the same dispatch is tried first (a
        fan-out goes on without scanning every pending delivery; every few chunks the
        scan lets other emails in). Otherwise the earliest due deliveries (at most
        `limit`) name the chunks to claim, one `UpdateMany` each in a single request.
        Returns the deliveries, in the order decided, with the receipts already written
        for their chunks (emails a previous sender had sent before it stopped recording).
        """
        due = {"status": "pending", "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
        token = uuid.uuid4().hex
        claim = {"$set": {"lease_owner": owner, "lease_until": now + lease, "claim": token}}
        batch = next_chunk(following) if following else None
        batches: list[str | None] = [batch] if batch else []
        if (
            not batches
            or not (
                await self._deliveries.update_many({"batch": batch, **due}, claim)
            ).modified_count
        ):
            order = [("next_attempt_at", ASCENDING), ("order", ASCENDING)]
            earliest = self._deliveries.find(due, {"batch": 1}).sort(order).limit(limit)
            batches = list(dict.fromkeys([doc.get("batch") async for doc in earliest]))
            if not batches:
                return [], {}
            await self._deliveries.bulk_write(
                [UpdateMany({"batch": b, **due}, claim) for b in batches], ordered=False
            )
        mine = self._deliveries.find(
            {"batch": {"$in": batches}, "claim": token, **_pending()}
        ).sort([("next_attempt_at", ASCENDING), ("order", ASCENDING)])
        deliveries = [Delivery.from_doc(doc) async for doc in mine]
        receipts = self._receipts.find({"batch": {"$in": batches}})
        return deliveries, {doc["_id"]: doc async for doc in receipts}

    async def receipt(self, delivery: Delivery, *, at: datetime, subject: str) -> None:
        """The relay accepted this delivery's email (written at once, before the next)."""
        document = {
            "_id": delivery.delivery_id,
            "batch": delivery.batch,
            "sent_at": at,
            "subject": subject,
        }
        try:
            await self._receipts.insert_one(document)
        except DuplicateKeyError:  # written before a crash: the same fact
            return

    async def finish_claim(
        self, claimed: Sequence[Delivery], fields: Document, *, owner: str
    ) -> int:
        """Record one outcome for every delivery still pending in the chunks of a claim
        (one `UpdateMany` per chunk, in a single request)."""
        requests = [
            UpdateMany(
                {"batch": batch, "claim": claim, "lease_owner": owner, **_pending()},
                {"$set": {**fields, "lease_until": EPOCH}, "$inc": {"attempts": 1}},
            )
            for batch, claim in dict.fromkeys((d.batch, d.claim) for d in claimed)
        ]
        result = await self._deliveries.bulk_write(requests, ordered=False)
        return result.modified_count

    async def release(self, owner: str) -> None:
        """Give back what this sender claimed but did not finish (graceful stop)."""
        await self._deliveries.update_many(
            {"lease_owner": owner, **_pending()}, {"$set": {"lease_until": EPOCH}}
        )

    async def contents(self, content_ids: Iterable[str]) -> dict[str, Document]:
        """Contents by id."""
        cursor = self._contents.find({"_id": {"$in": sorted(set(content_ids))}})
        return {doc["_id"]: doc async for doc in cursor}

    async def finish_many(
        self, outcomes: Sequence[tuple[Delivery, Document]], *, owner: str
    ) -> int:
        """Record several outcomes in one bulk write; return how many were still ours."""
        requests = [
            UpdateOne(
                {"_id": delivery.delivery_id, "lease_owner": owner, **_pending()},
                {"$set": {**fields, "lease_until": EPOCH}},
            )
            for delivery, fields in outcomes
        ]
        result = await self._deliveries.bulk_write(requests, ordered=False)
        return result.modified_count

    async def unannounced(self, limit: int) -> list[Delivery]:
        """Sent or failed deliveries whose notification event is not yet published."""
        query = {"owed": True, "status": {"$in": ["sent", "failed"]}}
        cursor = self._deliveries.find(query).sort("finished_at", ASCENDING).limit(limit)
        return [Delivery.from_doc(doc) async for doc in cursor]

    async def mark_announced(self, delivery_ids: Sequence[str]) -> None:
        """Their notification events are published."""
        await self._deliveries.update_many(
            {"_id": {"$in": list(delivery_ids)}},
            {"$set": {"announced": True}, "$unset": {"owed": ""}},
        )

    async def counts(self) -> dict[str, int]:
        """Deliveries per status (for logs and tests)."""
        pipeline: list[Document] = [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        cursor = await self._deliveries.aggregate(pipeline)
        return {doc["_id"]: doc["n"] async for doc in cursor}


FOLLOW_CHUNKS = 5
"""Consecutive chunks of one dispatch claimed before looking for earlier due emails."""


def next_chunk(batch: str) -> str | None:
    """The chunk after `batch` in its dispatch, unless it is time to look elsewhere."""
    prefix, _, index = batch.rpartition("/")
    if not prefix or not index.isdigit() or (int(index) + 1) % FOLLOW_CHUNKS == 0:
        return None
    return f"{prefix}/{int(index) + 1}"


def _pending() -> Document:
    return {"status": "pending"}


def _person(recipient: Recipient) -> Document:
    return {
        "email": recipient.email,
        "email_key": recipient.key,
        "first_name": recipient.first_name,
        "last_name": recipient.last_name,
    }


def _recipient(doc: Document) -> Recipient:
    return Recipient(doc["email"], doc.get("first_name"), doc.get("last_name"))
