"""Running handlers without Kafka: against an in-memory unit of work, or MongoDB's.

`Backend` is what a handler test sees: `await backend.run(handler, event)` handles one
event in its own unit of work (on MongoDB, through the real inbox, in a transaction)
and returns the events it emitted; `async with backend.unit() as uow` reads the state.
Handler tests run on both (the `backend` fixture of each service's tests): the fast
in-memory one, and MongoDB's, which holds the fake to the real repositories.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import pytest
from pymongo import AsyncMongoClient

from shared.contract import CloudEvent, event_model
from shared.inbox import Done, Inbox, Step, record_of
from shared.storage import Storage
from shared.unit_of_work import UnitOfWork

UnitT = TypeVar("UnitT", bound=UnitOfWork)
Handler = Callable[[Any, Any, Any], Awaitable[Any]]


class Backend:
    """Where handler tests keep their state."""

    name = ""

    async def run(self, handler: Handler, event: CloudEvent[Any], deps: Any) -> list[Any]:
        """Handle `event` once; the events emitted."""
        raise NotImplementedError

    def unit(self) -> Any:
        """An async context manager giving a unit of work to read the state with."""
        raise NotImplementedError


class MemoryBackend(Backend, Generic[UnitT]):
    """One in-memory unit of work for the whole test."""

    name = "memory"

    def __init__(self, unit: UnitT) -> None:
        self._unit = unit

    async def run(self, handler: Handler, event: CloudEvent[Any], deps: Any) -> list[Any]:
        """As the inbox does: once per event id, its record kept (with whom it names)."""
        known = await self._unit.processed.find([event.id])
        if event.id in known:
            record = known[event.id]
        else:
            self._unit.begin()
            emitted = list(await handler(event, self._unit, deps) or ())
            record = record_of(event, emitted, self._unit, at=datetime.now(UTC))
            await self._unit.processed.add([record])
        if record.forget:
            await self._unit.processed.forget(record.forget)
        return [event_model(e.event_type).model_validate_json(e.body) for e in record.outputs]

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitT]:
        yield self._unit


def backend_fixture(
    memory_unit: Callable[[], UnitOfWork],
    mongo_unit: Callable[[Storage], UnitOfWork],
    create_indexes: Callable[[Any], Awaitable[None]],
) -> Any:
    """A service's `backend` fixture: each handler test runs on the in-memory unit of work
    and on MongoDB's (the second holds the first to the real repositories)."""

    @pytest.fixture(params=["memory", "mongodb"])
    async def backend(request: Any) -> AsyncIterator[Backend]:
        if request.param == "memory":
            yield MemoryBackend(memory_unit())
            return
        async with mongo_backend(request, mongo_unit, create_indexes) as mongodb:
            yield mongodb

    return backend


@asynccontextmanager
async def mongo_backend(
    request: Any,
    open_unit: Callable[[Storage], UnitT],
    create_indexes: Callable[[Any], Awaitable[None]],
) -> AsyncIterator[MongoBackend[UnitT]]:
    """A MongoDB backend on the test session's server (started only when asked for)."""
    infra = request.getfixturevalue("infra")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url, tz_aware=True)
    try:
        backend = MongoBackend(client, open_unit)
        await backend.inbox.create_indexes()
        await create_indexes(backend.db)
        yield backend
    finally:
        await client.close()


class MongoBackend(Backend, Generic[UnitT]):
    """A fresh database; each event through the real inbox, in its own transaction."""

    name = "mongodb"

    def __init__(
        self, client: AsyncMongoClient[dict[str, Any]], open_unit: Callable[[Storage], UnitT]
    ) -> None:
        self.db = client[f"handlers_{uuid.uuid4().hex[:12]}"]
        self._open_unit = open_unit
        self.inbox: Inbox[UnitT] = Inbox(client, self.db, open_unit)

    async def run(self, handler: Handler, event: CloudEvent[Any], deps: Any) -> list[Any]:
        async def handle(uow: UnitT) -> Any:
            return await handler(event, uow, deps)

        [outcome] = await self.inbox.process([Step(event, handle)])
        if not isinstance(outcome, Done):
            raise outcome.error
        if outcome.forget:
            await self.inbox.forget(outcome.forget)
        return [event_model(e.event_type).model_validate_json(e.body) for e in outcome.outputs]

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitT]:
        yield self._open_unit(Storage(self.db))
