"""Idempotent processing: each CloudEvent id is processed once, its outputs kept.

A handler's state changes and the record of the event's id (with the events the
processing emitted) are written in one transaction. A redelivered event finds its
record and re-publishes exactly the same events (same ids, same bytes), so that a
crash between storing and publishing loses nothing and duplicates nothing.

Events are processed in batches (one transaction for a batch read from Kafka); a batch
of one is the same thing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.contract import CloudEvent
from shared.kafka import Emission
from shared.mongo import Document

logger = logging.getLogger(__name__)

Work = Callable[[AsyncClientSession], Awaitable[Sequence[CloudEvent[Any]]]]
"""A handler's effects: writes with the given session, returns the events to emit."""

After = Callable[[list[Emission]], Awaitable[None]]
"""What a handler does once its events are published (e.g. scrub erased data)."""

COLLECTION = "processed_events"
_MAX_CONFLICT_RETRIES = 5
_ATTEMPT: ContextVar[dict[str, Any] | None] = ContextVar("inbox_attempt", default=None)


def attempt_memo() -> dict[str, Any]:
    """What the steps of the running transaction attempt share: a lock already written,
    a read already done. A fresh dict for each attempt (a retried transaction starts
    from nothing); outside a batch, a throw-away dict."""
    memo = _ATTEMPT.get()
    return memo if memo is not None else {}


Keys = Sequence[str] | Callable[[list[Emission]], Iterable[str]]
"""Personal-data keys of a record: given up front, or derived from what was emitted
(e.g. the person a withdrawal promoted, known only once the work has run)."""


@dataclass(frozen=True)
class Step:
    """One event's processing: its effects, the personal-data keys of its record,
    and what to do once its events are published."""

    event: CloudEvent[Any]
    work: Work
    keys: Keys = ()
    after: After | None = None

    def tags(self, emissions: list[Emission]) -> list[str]:
        """The record's keys, sorted and unique."""
        keys = self.keys(emissions) if callable(self.keys) else self.keys
        return sorted(set(keys))


class Inbox:
    """The processed CloudEvent ids of one service, each with its emitted events."""

    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> None:
        self._client = client
        self._collection = db[COLLECTION]

    async def create_indexes(self) -> None:
        """`_id` is the CloudEvent id (unique by construction); `keys` serve erasure."""
        await self._collection.create_index("keys", sparse=True)

    async def process(
        self, event: CloudEvent[Any], work: Work, *, keys: Iterable[str] = ()
    ) -> list[Emission]:
        """Run `work` once for `event.id`; return the emissions to publish.

        `keys` tag the record with personal-data keys (e.g. a normalised email) so
        that `forget` can scrub it on erasure.
        """
        return (await self.process_batch([Step(event, work, tuple(keys))]))[0]

    async def process_batch(self, steps: Sequence[Step]) -> list[list[Emission]]:
        """Run each step's work once, all in one transaction; emissions per step.

        A step whose event was already processed (now, or earlier in the batch) gets
        the emissions recorded then, without running its work again.
        """
        if not steps:
            return []
        for _ in range(_MAX_CONFLICT_RETRIES):
            try:
                async with self._client.start_session() as session:
                    return await session.with_transaction(lambda s: self._run(s, steps))
            except DuplicateKeyError as error:
                # A concurrent instance won a race on a unique key: run again, the
                # work now sees the winner's state (e.g. already_member).
                logger.info("unique-key race, retrying the batch: %s", error.details)
        raise RuntimeError(f"{len(steps)} event(s) kept conflicting after retries")

    async def _run(
        self, session: AsyncClientSession, steps: Sequence[Step]
    ) -> list[list[Emission]]:
        token = _ATTEMPT.set({})
        try:
            return await self._attempt(session, steps)
        finally:
            _ATTEMPT.reset(token)

    async def _attempt(
        self, session: AsyncClientSession, steps: Sequence[Step]
    ) -> list[list[Emission]]:
        ids = list({step.event.id for step in steps})
        done: dict[str, list[Emission]] = {
            doc["_id"]: [_from_doc(out) for out in doc["outputs"]]
            async for doc in self._collection.find({"_id": {"$in": ids}}, session=session)
        }
        records: list[Document] = []
        results: list[list[Emission]] = []
        now = datetime.now(UTC)
        for step in steps:
            event = step.event
            if event.id not in done:
                emissions = [Emission.of(out) for out in await step.work(session)]
                done[event.id] = emissions
                records.append(_record(event, emissions, step.tags(emissions), now))
            results.append(done[event.id])
        if records:
            await self._collection.insert_many(records, ordered=False, session=session)
        return results

    async def seen(self, event_id: str) -> bool:
        """True once `event_id` has been processed."""
        return await self._collection.count_documents({"_id": event_id}, limit=1) > 0

    async def forget(
        self, keys: Iterable[str], *, session: AsyncClientSession | None = None
    ) -> int:
        """Erase the outputs (personal data) of every record tagged with one of `keys`.

        The ids stay, so a redelivery still has no effect.
        """
        result = await self._collection.update_many(
            {"keys": {"$in": list(keys)}},
            {"$set": {"outputs": [], "erased": True}, "$unset": {"keys": ""}},
            session=session,
        )
        return result.modified_count


def _record(
    event: CloudEvent[Any], emissions: list[Emission], tags: list[str], now: datetime
) -> Document:
    record: Document = {
        "_id": event.id,
        "type": event.type,
        "outputs": [_to_doc(e) for e in emissions],
        "processed_at": now,
    }
    if tags:
        record["keys"] = tags
    return record


def _to_doc(emission: Emission) -> Document:
    return {"type": emission.event_type, "key": emission.key, "body": emission.body}


def _from_doc(doc: Document) -> Emission:
    return Emission(doc["type"], doc["key"], bytes(doc["body"]))
