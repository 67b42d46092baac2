"""The unit of work: what one transaction attempt hands a handler.

A service's unit of work (e.g. `RegistrationUnit`) holds its repositories, all bound to
one MongoDB transaction through a `Storage` (shared/storage.py), and the record of the
processed event ids (`processed`). The inbox (shared/inbox.py) opens one per attempt,
runs the batch's handlers with it, records each event id with what it emitted, and
commits everything together. A retried attempt starts from a fresh unit: whatever a
repository keeps in memory (a lock taken, a list already read) lives exactly as long as
the transaction it belongs to.

Handlers never see PyMongo: they call repository methods that return domain objects.
The same interfaces have in-memory implementations in the tests (tests/fakes), held to
these by contract tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.contract import CloudEvent
from shared.identity import PERSON_PREFIX, person_key
from shared.kafka import Emission
from shared.mongo import Document
from shared.storage import Storage

PROCESSED_EVENTS = "processed_events"
"""The collection of processed event ids, in every service's database."""


@dataclass(frozen=True)
class Record:
    """One processed event: what it emitted, and who that names (for erasure)."""

    event_id: str
    event_type: str
    outputs: tuple[Emission, ...]
    processed_at: datetime
    people: tuple[str, ...] = ()
    """Pseudonyms (`person_key`) of the people the outputs name."""
    forget: tuple[str, ...] = ()
    """Pseudonyms to erase from every record once the outputs are published."""


class ProcessedEvents(Protocol):
    """The inbox records of one service."""

    async def find(self, event_ids: Sequence[str]) -> dict[str, Record]:
        """The records of the events among `event_ids` already processed."""
        ...

    async def add(self, records: Sequence[Record]) -> None:
        """Record newly processed events (a duplicate id is a race lost: it raises)."""
        ...

    async def forget(self, people: Iterable[str]) -> int:
        """Empty the outputs of every record naming one of `people`; the ids stay."""
        ...


class UnitOfWork:
    """What every service's unit of work offers besides its repositories: the record of
    the event being handled (who it names, what to erase once published)."""

    def __init__(self, processed: ProcessedEvents) -> None:
        self.processed = processed
        self.people: set[str] = set()
        self.forget_when_published: set[str] = set()

    def begin(self) -> None:
        """A new event: nothing noted about it yet."""
        self.people = set()
        self.forget_when_published = set()

    def names(self, *addresses: str) -> None:
        """This event's outputs name these people (beyond the `email` fields they carry,
        which are noted without asking)."""
        self.people.update(person_key(address) for address in addresses)

    def erase_once_published(self, *addresses: str) -> None:
        """Once this event's outputs are published, empty every record naming these
        people, this one included (an erasure: its last event must go out first)."""
        self.forget_when_published.update(person_key(address) for address in addresses)

    async def prepare(self, events: Sequence[CloudEvent[Any]]) -> None:
        """Read ahead what the batch's handlers will ask for (the inbox calls it with the
        events about to be handled); nothing by default."""

    async def committed(self) -> None:
        """The attempt this unit belongs to is committed (the inbox calls it once, after
        the commit): hand on what only now may be acted upon; nothing by default."""

    async def forget(self, *addresses: str) -> None:
        """Empty now, in this transaction, every record naming these people."""
        await self.processed.forget(person_key(address) for address in addresses)


class MongoProcessedEvents:
    """The `processed_events` collection: `_id` is the CloudEvent id."""

    def __init__(self, storage: Storage) -> None:
        self._records = storage.collection(PROCESSED_EVENTS)

    async def create_indexes(self) -> None:
        """`keys` (the pseudonyms) serve erasure."""
        await self._records.raw.create_index("keys", sparse=True)

    async def find(self, event_ids: Sequence[str]) -> dict[str, Record]:
        cursor = self._records.find({"_id": {"$in": list(dict.fromkeys(event_ids))}})
        return {doc["_id"]: _record(doc) async for doc in cursor}

    async def add(self, records: Sequence[Record]) -> None:
        if records:  # with the batch's other inserts, when the inbox flushes
            self._records.insert_later([_document(r) for r in records])

    async def forget(self, people: Iterable[str]) -> int:
        keys = list(people)
        # Records written before identities were shared carry the programme's old prefix.
        keys += ["person:" + key.removeprefix(PERSON_PREFIX) for key in keys]
        result = await self._records.update_many(
            {"keys": {"$in": keys}},
            {"$set": {"outputs": [], "erased": True}, "$unset": {"keys": "", "forget": ""}},
        )
        return result.modified_count


def _document(record: Record) -> Document:
    document: Document = {
        "_id": record.event_id,
        "type": record.event_type,
        "outputs": [{"type": e.event_type, "key": e.key, "body": e.body} for e in record.outputs],
        "processed_at": record.processed_at,
    }
    if record.people:
        document["keys"] = sorted(record.people)
    if record.forget:
        document["forget"] = sorted(record.forget)
    return document


def _record(document: Document) -> Record:
    return Record(
        event_id=document["_id"],
        event_type=document.get("type", ""),
        outputs=tuple(
            Emission(out["type"], out["key"], bytes(out["body"])) for out in document["outputs"]
        ),
        processed_at=document["processed_at"],
        people=tuple(document.get("keys", ())),
        forget=tuple(document.get("forget", ())),
    )
