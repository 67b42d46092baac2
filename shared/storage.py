"""MongoDB collections bound to one transaction (or to none), with their writes counted.

Only repositories use this module; handlers see the repositories' domain objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.results import (
    BulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)

from shared.mongo import Document


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

    def note_write(self) -> None:
        """A write kept back by a repository, to be made later in the same attempt: it
        counts as made (a handler that fails after it is no longer free of effects)."""
        self._write()

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
