"""Idempotent processing: each CloudEvent id is processed once, its outputs kept.

A handler's state changes and the record of the event's id (with the events the
processing emitted) are written in one transaction. A redelivered event finds its
record and re-publishes exactly the same events (same ids, same bytes), so that a
crash between storing and publishing loses nothing and duplicates nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
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

COLLECTION = "processed_events"
_MAX_CONFLICT_RETRIES = 5


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
        tags = sorted(set(keys))
        for _ in range(_MAX_CONFLICT_RETRIES):
            try:
                async with self._client.start_session() as session:
                    return await session.with_transaction(
                        lambda s: self._process_once(s, event, work, tags)
                    )
            except DuplicateKeyError as error:
                # A concurrent instance won a race on a unique key: run again, the
                # work now sees the winner's state (e.g. already_member).
                logger.info("unique-key race on %s, retrying: %s", event.id, error.details)
        raise RuntimeError(f"event {event.id} kept conflicting after retries")

    async def _process_once(
        self,
        session: AsyncClientSession,
        event: CloudEvent[Any],
        work: Work,
        tags: list[str],
    ) -> list[Emission]:
        done = await self._collection.find_one({"_id": event.id}, session=session)
        if done is not None:
            return [_from_doc(doc) for doc in done["outputs"]]
        emissions = [Emission.of(out) for out in await work(session)]
        record: Document = {
            "_id": event.id,
            "type": event.type,
            "outputs": [_to_doc(e) for e in emissions],
            "processed_at": datetime.now(UTC),
        }
        if tags:
            record["keys"] = tags
        await self._collection.insert_one(record, session=session)
        return emissions

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


def _to_doc(emission: Emission) -> Document:
    return {"type": emission.event_type, "key": emission.key, "body": emission.body}


def _from_doc(doc: Document) -> Emission:
    return Emission(doc["type"], doc["key"], bytes(doc["body"]))
