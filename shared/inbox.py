"""Idempotent processing: each CloudEvent id has one effect, and its outputs are kept.

For a batch of events read from Kafka, the inbox opens a MongoDB transaction and a unit
of work bound to it, runs the handler of each event not processed before, records each
event id with the events it emitted, and commits: state, records and outputs together.
A redelivered event finds its record and gets the very same outputs back (same ids,
same bytes), so a crash between storing and publishing loses nothing and duplicates
nothing. A retried transaction starts again from a fresh unit of work.

A handler that refuses its event as poison before writing anything is set aside and the
batch goes on; poison found after a write aborts the attempt, and the consumer
(shared/consumer.py) isolates the culprit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ClientBulkWriteException, DuplicateKeyError

from shared.contract import CloudEvent
from shared.errors import is_poison, is_transient
from shared.identity import person_key
from shared.kafka import Emission
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents, Record, UnitOfWork

logger = logging.getLogger(__name__)

UnitT = TypeVar("UnitT", bound=UnitOfWork)
Emitted = Sequence[CloudEvent[Any]] | None
"""What a handler returns: the events to publish (None: nothing)."""

_MAX_CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class Step(Generic[UnitT]):
    """One event and the call that handles it with a unit of work."""

    event: CloudEvent[Any]
    run: Callable[[UnitT], Awaitable[Emitted]]


@dataclass(frozen=True)
class Done:
    """The event is processed (now or before): its outputs, and who to forget once
    they are published."""

    event: CloudEvent[Any]
    outputs: tuple[Emission, ...]
    forget: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """The event can never be processed (poison, or a bug that outlived its retries)."""

    event: CloudEvent[Any]
    error: Exception
    attempts: int = 1


class Inbox(Generic[UnitT]):
    """Runs batches of steps in transactions, once per event id."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        open_unit: Callable[[Storage], UnitT],
    ) -> None:
        self._client = client
        self._db = db
        self._open_unit = open_unit
        self._records = MongoProcessedEvents(Storage(db))

    async def create_indexes(self) -> None:
        """The records' indexes."""
        await self._records.create_indexes()

    async def process(self, steps: Sequence[Step[UnitT]]) -> list[Done | Refused]:
        """Run the steps in one transaction; one outcome per step, in order.

        The first attempt assumes the events are new (they almost always are) and does
        not read their records first: one round trip less per batch. A redelivered
        event then collides with its record when the new records are inserted (or with
        what its handler wrote the first time), the transaction aborts, and the batch
        runs again reading the records first. So does an attempt that fails or would
        set an event aside: only then is refusing it certain to be the first decision.
        """
        if not steps:
            return []
        look_first = False
        for _ in range(_MAX_CONFLICT_RETRIES):
            opened: list[UnitT] = []
            try:
                # No causal consistency: each batch is its own session, and a retried
                # transaction needs none (a `bulkWrite` first in a transaction that
                # carries `afterClusterTime` is refused by SecantusDB).
                async with self._client.start_session(causal_consistency=False) as session:
                    attempt = partial(
                        self._attempt, steps=steps, look_first=look_first, opened=opened
                    )
                    outcomes = await session.with_transaction(attempt)
            except Exception as error:
                if not look_first and not is_transient(error):
                    look_first = True
                    continue
                if not _duplicate_key(error):
                    raise
                # A concurrent instance won a race on a unique key: run again, the
                # handlers now see the winner's state (e.g. already_member).
                logger.info("unique-key race, retrying the batch: %s", error)
                continue
            await opened[-1].committed()  # the unit of the attempt that was committed
            return outcomes
        raise RuntimeError(f"{len(steps)} event(s) kept conflicting after retries")

    async def forget(self, people: Iterable[str]) -> int:
        """Empty the outputs of every record naming one of `people` (after an erasure)."""
        return await self._records.forget(people)

    async def _attempt(
        self,
        session: AsyncClientSession,
        steps: Sequence[Step[UnitT]],
        *,
        look_first: bool,
        opened: list[UnitT],
    ) -> list[Done | Refused]:
        storage = Storage(self._db, session)
        unit = self._open_unit(storage)
        opened.append(unit)
        known = await unit.processed.find([s.event.id for s in steps]) if look_first else {}
        await unit.prepare([s.event for s in steps if s.event.id not in known])
        fresh: list[Record] = []
        outcomes: list[Done | Refused] = []
        now = datetime.now(UTC)
        for step in steps:
            event = step.event
            record = known.get(event.id)
            if record is None:
                unit.begin()
                writes = storage.writes
                try:
                    emitted = list(await step.run(unit) or ())
                except Exception as error:
                    if not look_first or not is_poison(error) or storage.writes != writes:
                        raise
                    outcomes.append(Refused(event, error))
                    continue
                record = record_of(event, emitted, unit, at=now)
                known[event.id] = record
                fresh.append(record)
            outcomes.append(Done(event, record.outputs, record.forget))
        await unit.processed.add(fresh)
        await storage.flush()  # the records and every insert kept back: one command
        return outcomes


def _duplicate_key(error: Exception) -> bool:
    """A unique key already taken (by one write, or by every failed write of a bulk one)."""
    if isinstance(error, DuplicateKeyError):
        return True
    failed: list[Any] = []
    if isinstance(error, BulkWriteError):
        failed = error.details.get("writeErrors", [])
    elif isinstance(error, ClientBulkWriteException):
        failed = error.write_errors or []
    return bool(failed) and all(failure.get("code") == 11000 for failure in failed)


def record_of(
    event: CloudEvent[Any], emitted: Sequence[CloudEvent[Any]], unit: UnitOfWork, *, at: datetime
) -> Record:
    """The record of a processed event: its outputs, the people they name, whom to forget."""
    return Record(
        event_id=event.id,
        event_type=event.type,
        outputs=tuple(Emission.of(e) for e in emitted),
        processed_at=at,
        people=tuple(sorted(unit.people | set(people_named(emitted)))),
        forget=tuple(sorted(unit.forget_when_published)),
    )


def people_named(events: Iterable[CloudEvent[Any]]) -> Iterable[str]:
    """The pseudonyms of the addresses the events carry (any `email` field of the data)."""
    for event in events:
        yield from (person_key(address) for address in _emails(event.data.model_dump()))


def _emails(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "email" and isinstance(item, str):
                yield item
            else:
                yield from _emails(item)
    elif isinstance(value, list):
        for item in value:
            yield from _emails(item)
