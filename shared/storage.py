"""MongoDB collections bound to one transaction (or to none), with their writes counted.

Only repositories use this module; handlers see the repositories' domain objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import InsertOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import InvalidOperation
from pymongo.results import (
    BulkWriteResult,
    ClientBulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)

from shared.mongo import Document

ACROSS_AT_MOST = 50
"""Kept inserts written in one bulkWrite across collections up to this many documents:
the round trips saved matter for a small batch; for a large one, SecantusDB writes an
`insert_many` per collection faster than one `bulkWrite` (scenario (a) of make bench:
2.1 of raw against 1.45; docs/performance.md)."""
_BULK_ACROSS_COLLECTIONS = [True]
"""Whether the server takes one bulkWrite across collections (MongoDB 8); learnt once."""


class Storage:
    """A service's database as one unit of work sees it: each collection bound to the
    unit's transaction (or to none, for the work that runs outside transactions), and
    a count of the writes made so far."""

    def __init__(
        self, db: AsyncDatabase[Document], session: AsyncClientSession | None = None
    ) -> None:
        self.db = db
        self.session = session
        self.writes = 0
        self._kept: list[tuple[str, Document]] = []

    def keep(self, collection: str, documents: Iterable[Document]) -> None:
        """Insert `documents` into `collection` later, with every other insert kept back
        by this storage, in one command (`flush`)."""
        self._kept.extend((collection, document) for document in documents)

    async def flush(self) -> None:
        """Write the inserts kept back: one `bulkWrite` across collections (MongoDB 8)
        for a few documents, or one `insert_many` per collection (a large batch, or an
        earlier server)."""
        kept, self._kept = self._kept, []
        if not kept:
            return
        names = list(dict.fromkeys(name for name, _ in kept))
        if len(names) > 1 and len(kept) <= ACROSS_AT_MOST and _BULK_ACROSS_COLLECTIONS[0]:
            models = [InsertOne(doc, namespace=f"{self.db.name}.{name}") for name, doc in kept]
            try:
                await self.db.client.bulk_write(models, session=self.session)
                return
            except InvalidOperation as error:  # raised before anything is sent
                if "8.0" not in str(error):
                    raise
                _BULK_ACROSS_COLLECTIONS[0] = False
        for name in names:
            documents = [doc for kept_in, doc in kept if kept_in == name]
            await self.db[name].insert_many(documents, session=self.session)

    def namespace(self, collection: str) -> str:
        """`database.collection`, as a write across collections names its target."""
        return f"{self.db.name}.{collection}"

    async def write_across(self, writes: Sequence[Any]) -> ClientBulkWriteResult | None:
        """Several writes (`UpdateOne(..., namespace=storage.namespace(name))`...) to
        several collections in one command, with each one's result; None when the server
        cannot (before MongoDB 8): the caller makes them one by one."""
        if not _BULK_ACROSS_COLLECTIONS[0]:
            return None
        self.writes += 1
        try:
            return await self.db.client.bulk_write(
                list(writes), session=self.session, verbose_results=True
            )
        except InvalidOperation as error:  # raised before anything is sent
            if "8.0" not in str(error):
                raise
            _BULK_ACROSS_COLLECTIONS[0] = False
            return None

    def collection(self, name: str) -> Collection:
        """The collection `name`, every call bound to this storage's session."""
        return Collection(self, self.db[name])


class Collection:
    """An `AsyncCollection` whose calls carry the session; writes are counted."""

    def __init__(self, storage: Storage, collection: AsyncCollection[Document]) -> None:
        self._storage = storage
        self.raw = collection

    @property
    def _session(self) -> AsyncClientSession | None:
        return self._storage.session

    def _write(self) -> None:
        self._storage.writes += 1

    def insert_later(self, documents: Iterable[Document]) -> None:
        """Insert `documents` when the storage is flushed (before the transaction's end:
        the inbox flushes with the batch's records), together with the other inserts
        kept back: one command for all of them. Reading them before takes a flush."""
        self._write()
        self._storage.keep(self.raw.name, documents)

    # --- reads -------------------------------------------------------------------

    def find(self, *args: Any, **kwargs: Any) -> AsyncCursor[Document]:
        return self.raw.find(*args, session=self._session, **kwargs)

    async def find_one(self, *args: Any, **kwargs: Any) -> Document | None:
        return await self.raw.find_one(*args, session=self._session, **kwargs)

    async def count_documents(self, query: Mapping[str, Any], **kwargs: Any) -> int:
        return await self.raw.count_documents(query, session=self._session, **kwargs)

    async def aggregate(
        self, pipeline: Sequence[Mapping[str, Any]], **kwargs: Any
    ) -> AsyncCommandCursor[Document]:
        return await self.raw.aggregate(pipeline, session=self._session, **kwargs)

    # --- writes ------------------------------------------------------------------

    async def insert_one(self, document: Document) -> InsertOneResult:
        self._write()
        return await self.raw.insert_one(document, session=self._session)

    async def insert_many(self, documents: Iterable[Document], **kwargs: Any) -> InsertManyResult:
        self._write()
        return await self.raw.insert_many(documents, session=self._session, **kwargs)

    async def update_one(
        self, query: Mapping[str, Any], update: Any, **kwargs: Any
    ) -> UpdateResult:
        self._write()
        return await self.raw.update_one(query, update, session=self._session, **kwargs)

    async def update_many(
        self, query: Mapping[str, Any], update: Any, **kwargs: Any
    ) -> UpdateResult:
        self._write()
        return await self.raw.update_many(query, update, session=self._session, **kwargs)

    async def replace_one(
        self, query: Mapping[str, Any], document: Document, **kwargs: Any
    ) -> UpdateResult:
        self._write()
        return await self.raw.replace_one(query, document, session=self._session, **kwargs)

    async def delete_one(self, query: Mapping[str, Any]) -> DeleteResult:
        self._write()
        return await self.raw.delete_one(query, session=self._session)

    async def delete_many(self, query: Mapping[str, Any]) -> DeleteResult:
        self._write()
        return await self.raw.delete_many(query, session=self._session)

    async def find_one_and_update(
        self, query: Mapping[str, Any], update: Any, **kwargs: Any
    ) -> Document | None:
        self._write()
        return await self.raw.find_one_and_update(query, update, session=self._session, **kwargs)

    async def bulk_write(self, requests: Sequence[Any], **kwargs: Any) -> BulkWriteResult:
        self._write()
        return await self.raw.bulk_write(list(requests), session=self._session, **kwargs)
