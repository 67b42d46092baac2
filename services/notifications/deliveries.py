"""The deliveries on MongoDB: contents, deliveries, receipts and the sender's claims.

- `contents`: what one kind of email for one cause is made from (the cause's data);
- `deliveries`: one document per (cause id, recipient, kind), `_id` being that unique
  key: pending until sent, claimed by a sender with a lease. The deliveries of one
  content are stored in chunks (`batch`) that a sender claims and records whole, one
  `update_many` each (docs/performance.md: what a write costs, per document or per chunk);
- `receipts`: one small document per email the relay accepted, written right after its
  acceptance: a sender taking over a crashed sender's chunk skips what has one, so a
  crash sends at most the one email in flight twice.

Handlers plan deliveries inside their transaction (`plan`, `cancel_pending`,
`erase_person`, `forget_author`); the sender works outside transactions (the rest).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateMany, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.notifications.domain import Recipient, address_problem, delivery_id
from services.notifications.domain import unique_recipients as _unique
from services.notifications.recipients import without_author
from services.notifications.records import Content, Delivery, Dispatch
from shared.mongo import Document
from shared.storage import Storage
from shared.telemetry import current_traceparent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ERASED = "erased"
FOLLOW_CHUNKS = 5
"""Consecutive chunks of one dispatch claimed before looking for earlier due emails."""
HANDED_CHUNKS = 10
"""Chunks of each dispatch stored already claimed for the instance's sender (2,000
emails with the default DELIVERY_BATCH_SIZE): a fan-out sends them without a claim."""

Receipts = dict[str, Document]


class Handoff:
    """Deliveries a handler stored already claimed by this instance's sender, given to
    the sender once their batch is committed, with their contents: it sends them without
    claiming them or reading them back (docs/performance.md: a registration alone, and
    a fan-out without a claim per chunk).

    The first HANDED_CHUNKS chunks of each dispatch are claimed so; the sender follows
    the next ones with its own claims. If the instance dies first, the claim's lease
    ends and any sender takes them, as it would a chunk claimed the usual way; and the
    sender leaves to that usual way what it reaches with less than half its lease left
    (a slow relay), so that it never sends what another may claim meanwhile.
    """

    def __init__(self, *, lease: timedelta) -> None:
        self.owner = uuid.uuid4().hex
        self.lease = lease
        self._ready: list[tuple[list[Delivery], dict[str, Content], datetime]] = []

    def offer(
        self, deliveries: list[Delivery], contents: dict[str, Content], *, until: datetime
    ) -> None:
        """Committed deliveries, claimed for this sender `until` then, and their contents."""
        self._ready.append((deliveries, contents, until))

    def take(self, *, now: datetime, limit: int) -> tuple[list[list[Delivery]], dict[str, Content]]:
        """What was offered and still has half its lease or more, in the order planned,
        in groups of at most `limit` (each sent and recorded in turn)."""
        ready, self._ready = self._ready, []
        groups: list[list[Delivery]] = []
        for deliveries, _, until in ready:
            if until - now < self.lease / 2:
                continue  # claimed the usual way once the lease ends
            for delivery in deliveries:
                if not groups or len(groups[-1]) >= limit:
                    groups.append([])
                groups[-1].append(delivery)
        return groups, {key: c for _, contents, _ in ready for key, c in contents.items()}


class MongoDeliveries:
    """Collections `contents`, `deliveries` and `receipts`."""

    def __init__(
        self, storage: Storage, *, chunk: int = 100, handoff: Handoff | None = None
    ) -> None:
        self.chunk = chunk
        self._handoff = handoff
        self._claim_token = uuid.uuid4().hex
        self._handed: list[Delivery] = []
        self._handed_contents: dict[str, Content] = {}
        self._handed_until = EPOCH
        self._storage = storage
        self._contents = storage.collection("contents")
        self._deliveries = storage.collection("deliveries")
        self._receipts = storage.collection("receipts")

    @staticmethod
    async def create_indexes(storage: Storage) -> None:
        """Indexes for the sender's claim, the announcements and erasure."""
        contents = storage.collection("contents").raw
        deliveries = storage.collection("deliveries").raw
        await contents.create_index("keys")
        receipts = storage.collection("receipts").raw
        # Few indexes on the hot collection: each claim and each outcome rewrites a
        # delivery, and SecantusDB rewrites every index entry of a document it updates.
        await deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        # Only the deliveries whose outcome is still to be announced carry `owed`, and
        # only those to an erased person carry `scrub`: the common path never touches
        # these sparse indexes. (Scalars: an array would make the index multikey, and
        # SecantusDB marks that in its catalog inside the writing transaction, where an
        # erasure and the sender's writes were seen to wait for each other for ever.)
        await deliveries.create_index("owed", sparse=True)
        await deliveries.create_index("scrub", sparse=True)
        await deliveries.create_index("recipient_key")
        await deliveries.create_index("batch")
        await _upgrade_indexes(deliveries, receipts)

    # --- planned by the handlers (in their transaction) -----------------------------

    async def plan(self, dispatch: Dispatch, *, now: datetime) -> int:
        content, deliveries = delivery_documents(
            dispatch,
            now=now,
            chunk=self.chunk,
            batch=f"{dispatch.content_id}/{uuid.uuid4().hex[:12]}",
            order=time.time_ns(),
        )
        if not deliveries:
            return 0
        if not dispatch.late:
            # Its cause is being processed, once: plain inserts, kept back to be written
            # with the batch's records (`insert_later`); any other change to them in the
            # transaction writes them first (`Storage.flush`).
            self._hand(content, deliveries, now=now)
            self._contents.insert_later([content])
            self._deliveries.insert_later(deliveries)
            return len(deliveries)
        await self._storage.flush()
        await self._contents.update_one(
            {"_id": content["_id"]}, {"$setOnInsert": content}, upsert=True
        )
        ids = [doc["_id"] for doc in deliveries]
        known = {doc["_id"] async for doc in self._deliveries.find({"_id": {"$in": ids}})}
        new = [doc for doc in deliveries if doc["_id"] not in known]
        if new:
            await self._deliveries.insert_many(new, ordered=False)
        return len(new)

    def _hand(self, content: Document, deliveries: list[Document], *, now: datetime) -> None:
        """Claim the dispatch's first chunks for this instance's sender as it is stored."""
        if self._handoff is None:
            return
        self._handed_until = now + self._handoff.lease
        first = [
            d
            for d in deliveries
            if chunk_index(d["batch"]) < HANDED_CHUNKS and d["status"] == "pending"
        ]
        for doc in first:
            doc.update(
                lease_owner=self._handoff.owner,
                lease_until=self._handed_until,
                claim=self._claim_token,
                claims=0,
            )
        if first:
            self._handed.extend(delivery_of(doc) for doc in first)
            self._handed_contents[content["_id"]] = content_of(content)

    def hand_over(self) -> None:
        """The batch is committed: give its claimed deliveries to the sender."""
        if self._handoff is not None and self._handed:
            self._handoff.offer(self._handed, self._handed_contents, until=self._handed_until)
        self._handed, self._handed_contents = [], {}

    async def cancel_pending(self, person: str, *, kinds: Sequence[str], keep: bool) -> int:
        """Drop what is still to be sent to a person: the `kinds` given (`keep`: all but
        those)."""
        await self._storage.flush()
        query: Document = {"recipient_key": person, "status": "pending"}
        query["kind"] = {"$nin" if keep else "$in": list(kinds)}
        result = await self._deliveries.update_many(
            query, {"$set": {"status": "cancelled", "announced": True}}
        )
        return result.modified_count

    async def cancel_pending_to_others(
        self, cause_id: str, kind: str, *, keep: Sequence[str]
    ) -> int:
        """Drop what is still to be sent, for one cause and kind, to anyone not in `keep`
        (pseudonyms): a corrected attendance list thanks only those on it."""
        await self._storage.flush()
        query: Document = {
            "cause_id": cause_id,
            "kind": kind,
            "status": "pending",
            "recipient_key": {"$nin": list(keep)},
        }
        update = {"$set": {"status": "cancelled", "announced": True}}
        return (await self._deliveries.update_many(query, update)).modified_count

    async def erase_person(self, person: str) -> None:
        await self._storage.flush()
        await self._deliveries.update_many(
            {"recipient_key": person, "$or": [{"status": "pending"}, {"announced": False}]},
            {"$set": {"erase_after_send": True, "scrub": True}},
        )
        await self._deliveries.update_many(
            {"recipient_key": person, "status": {"$ne": "pending"}, "announced": True},
            {"$set": {"recipient_key": ERASED, "erased": True}, "$unset": {"recipient": ""}},
        )
        await self._drop_contents(person)

    async def forget_author(self, author_id: str) -> None:
        await self._storage.flush()
        async for doc in self._contents.find({"data.topics.comments.author_id": author_id}):
            data = without_author(doc["data"], author_id)
            await self._contents.update_one({"_id": doc["_id"]}, {"$set": {"data": data}})

    async def _drop_contents(self, person: str) -> None:
        """Delete the contents naming a person that no pending delivery still needs."""
        async for content in self._contents.find({"keys": person}):
            waiting = await self._deliveries.count_documents(
                {"content_id": content["_id"], "status": "pending"}, limit=1
            )
            if not waiting:
                await self._contents.delete_one({"_id": content["_id"]})

    # --- the sender (outside transactions) ----------------------------------------

    async def claim(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int = 200,
        following: str | None = None,
    ) -> tuple[list[Delivery], Receipts]:
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
        claim = {
            "$set": {"lease_owner": owner, "lease_until": now + lease, "claim": token},
            "$inc": {"claims": 1},
        }
        batch = next_chunk(following) if following else None
        batches: list[str] = [batch] if batch else []
        if (
            not batches
            or not (
                await self._deliveries.update_many({"batch": batch, **due}, claim)
            ).modified_count
        ):
            order = [("next_attempt_at", ASCENDING), ("order", ASCENDING)]
            earliest = self._deliveries.find(due, {"batch": 1}).sort(order).limit(limit)
            batches = list(dict.fromkeys([doc["batch"] async for doc in earliest]))
            if not batches:
                return [], {}
            await self._deliveries.bulk_write(
                [UpdateMany({"batch": b, **due}, claim) for b in batches], ordered=False
            )
        mine = self._deliveries.find(
            {"batch": {"$in": batches}, "claim": token, "status": "pending"}
        ).sort([("next_attempt_at", ASCENDING), ("order", ASCENDING)])
        documents = [doc async for doc in mine]
        deliveries = [delivery_of(doc) for doc in documents]
        if all(doc.get("claims") == 0 for doc in documents):
            # Claimed for the first time, every one: no sender had them, no receipt can
            # exist. (Deliveries stored before `claims` existed count from 1: looked up.)
            return deliveries, {}
        ids = [d.delivery_id for d in deliveries]
        receipts = self._receipts.find({"_id": {"$in": ids}})
        return deliveries, {doc["_id"]: doc async for doc in receipts}

    async def contents(self, content_ids: Iterable[str]) -> dict[str, Content]:
        """Contents by id."""
        cursor = self._contents.find({"_id": {"$in": sorted(set(content_ids))}})
        return {doc["_id"]: content_of(doc) async for doc in cursor}

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
                {"batch": batch, "claim": claim, "lease_owner": owner, "status": "pending"},
                {"$set": {**fields, "lease_until": EPOCH}, "$inc": {"attempts": 1}},
            )
            for batch, claim in dict.fromkeys((d.batch, d.claim) for d in claimed)
        ]
        return (await self._deliveries.bulk_write(requests, ordered=False)).modified_count

    async def finish_many(
        self, outcomes: Sequence[tuple[Delivery, Document]], *, owner: str
    ) -> int:
        """Record several outcomes in one bulk write; return how many were still ours."""
        requests = [
            UpdateOne(
                {"_id": delivery.delivery_id, "lease_owner": owner, "status": "pending"},
                {"$set": {**fields, "lease_until": EPOCH}},
            )
            for delivery, fields in outcomes
        ]
        return (await self._deliveries.bulk_write(requests, ordered=False)).modified_count

    async def release(self, owner: str) -> None:
        """Give back what this sender claimed but did not finish (graceful stop)."""
        await self._deliveries.update_many(
            {"lease_owner": owner, "status": "pending"}, {"$set": {"lease_until": EPOCH}}
        )

    async def unannounced(self, limit: int) -> list[Delivery]:
        """Sent or failed deliveries whose notification event is not yet published."""
        query = {"owed": True, "status": {"$in": ["sent", "failed"]}}
        cursor = self._deliveries.find(query).sort("finished_at", ASCENDING).limit(limit)
        return [delivery_of(doc) async for doc in cursor]

    async def mark_announced(self, delivery_ids: Sequence[str]) -> None:
        """Their notification events are published."""
        await self._deliveries.update_many(
            {"_id": {"$in": list(delivery_ids)}},
            {"$set": {"announced": True}, "$unset": {"owed": ""}},
        )

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
            await self._drop_contents(delivery.recipient_key)

    async def scrub_settled(self, limit: int) -> int:
        """Scrub the deliveries to an erased person that are settled and announced.

        The sender scrubs what it sends to a person already known as erased; this sweep
        catches the rest: a delivery claimed before the erasure was processed (the
        sender's copy does not know), or one skipped or failed meanwhile."""
        query = {"scrub": True, "status": {"$ne": "pending"}, "announced": True}
        settled = [delivery_of(doc) async for doc in self._deliveries.find(query).limit(limit)]
        for delivery in settled:
            await self.scrub(delivery)
        return len(settled)

    async def census(self) -> Census:
        """How many deliveries are in each status, and when the oldest pending one was
        planned (what operators watch: one aggregation)."""
        counts: dict[str, int] = {}
        oldest: datetime | None = None
        pipeline: list[Document] = [
            {
                "$group": {
                    "_id": "$status",
                    "count": {"$sum": 1},
                    "oldest": {"$min": "$created_at"},
                }
            }
        ]
        async for row in await self._deliveries.aggregate(pipeline):
            counts[str(row["_id"])] = int(row["count"])
            if row["_id"] == "pending":
                oldest = row["oldest"]
        return Census(counts, oldest)


@dataclass(frozen=True)
class Census:
    """Deliveries by status, and when the oldest pending one was planned."""

    counts: dict[str, int]
    oldest_pending: datetime | None


async def _upgrade_indexes(
    deliveries: AsyncCollection[Document], receipts: AsyncCollection[Document]
) -> None:
    """From the indexes of earlier versions: what they marked stays marked, and the
    indexes no query needs any more go (receipts are read by id; the contents still
    needed by a pending delivery are found through the `status` index)."""
    existing = await deliveries.index_information()
    if "announced_1_status_1" in existing:  # outcomes not announced then owe it now
        await deliveries.update_many(
            {"announced": False, "status": {"$in": ["sent", "failed"]}},
            {"$set": {"owed": True}},
        )
    for name in ("announced_1_status_1", "content_id_1"):
        if name in existing:
            await deliveries.drop_index(name)
    if "batch_1" in await receipts.index_information():
        await receipts.drop_index("batch_1")


def chunk_index(batch: str) -> int:
    """Where a chunk stands in its dispatch (`<dispatch>/<index>`)."""
    index = batch.rpartition("/")[2]
    return int(index) if index.isdigit() else 0


def next_chunk(batch: str) -> str | None:
    """The chunk after `batch` in its dispatch, unless it is time to look elsewhere."""
    prefix, _, index = batch.rpartition("/")
    if not prefix or not index.isdigit() or (int(index) + 1) % FOLLOW_CHUNKS == 0:
        return None
    return f"{prefix}/{int(index) + 1}"


def delivery_documents(
    dispatch: Dispatch, *, now: datetime, chunk: int = 100, batch: str = "", order: int = 0
) -> tuple[Document, list[Document]]:
    """The content document and one pending delivery per recipient (failed at once when
    the address cannot be sent to), in chunks of `chunk` that a sender claims whole.

    `batch` names this dispatch's chunks (unique per stored dispatch, so that another
    dispatch of the same content never joins them); `order` is where the dispatch
    stands in the order decided, kept by the sender among deliveries due together.
    """
    content: Document = {
        "_id": dispatch.content_id,
        "kind": dispatch.kind,
        "cause_id": dispatch.cause_id,
        "cause_type": dispatch.cause_type,
        "cause_time": dispatch.cause_time,
        "data": dispatch.data,
        "session": dispatch.session,
        "places": dispatch.places,
        "keys": sorted(set(dispatch.personal_keys)),  # pseudonyms
        "created_at": now,
    }
    if trace := current_traceparent():  # tracing on: the SMTP sends join the cause's trace
        content["traceparent"] = trace
    deliveries = []
    for index, recipient in enumerate(_unique(dispatch.recipients)):
        problem = address_problem(recipient.email)
        doc: Document = {
            "_id": delivery_id(
                cause_id=dispatch.cause_id, recipient_key=recipient.key, kind=dispatch.kind
            ),
            "cause_id": dispatch.cause_id,
            "cause_type": dispatch.cause_type,
            "kind": dispatch.kind,
            "content_id": dispatch.content_id,
            "batch": f"{batch or dispatch.content_id}/{index // chunk}",
            "order": order + index,
            "session_id": dispatch.session_id,
            "recipient": _person(recipient),
            "recipient_key": recipient.person,
            "status": "failed" if problem else "pending",
            "error": problem,
            "attempts": 0,
            "claims": -1,  # the first claim makes it 0: nobody could have sent it before
            "next_attempt_at": now,
            "lease_until": EPOCH,
            "lease_owner": None,
            "created_at": now,
            "finished_at": now if problem else None,
            "announced": False,
            "erase_after_send": dispatch.erase_after_send,
        }
        if problem:
            doc["owed"] = True  # its notification_failed is still to be published
        if dispatch.erase_after_send:
            doc["scrub"] = True  # the address goes once the delivery is settled
        deliveries.append(doc)
    return content, deliveries


def delivery_of(doc: Document) -> Delivery:
    """A delivery from its stored document."""
    person = doc.get("recipient")
    return Delivery(
        delivery_id=doc["_id"],
        cause_id=doc["cause_id"],
        cause_type=doc["cause_type"],
        kind=doc["kind"],
        content_id=doc["content_id"],
        recipient=Recipient(
            person["email"],
            person.get("first_name"),
            person.get("last_name"),
            person.get("audience"),
        )
        if person
        else None,
        recipient_key=doc["recipient_key"],
        status=doc["status"],
        attempts=doc.get("attempts", 0),
        session_id=doc.get("session_id"),
        subject=doc.get("subject"),
        error=doc.get("error"),
        finished_at=doc.get("finished_at"),
        erase_after_send=doc.get("erase_after_send", False),
        batch=doc.get("batch"),
        claim=doc.get("claim"),
    )


def content_of(doc: Document) -> Content:
    """A content from its stored document."""
    return Content(
        content_id=doc["_id"],
        kind=doc["kind"],
        cause_id=doc["cause_id"],
        cause_type=doc["cause_type"],
        cause_time=doc["cause_time"],
        data=doc["data"],
        session=doc.get("session"),
        places=doc.get("places"),
        traceparent=doc.get("traceparent"),
    )


def _person(recipient: Recipient) -> dict[str, Any]:
    person = {
        "email": recipient.email,
        "first_name": recipient.first_name,
        "last_name": recipient.last_name,
    }
    if recipient.audience:
        person["audience"] = recipient.audience
    return person
