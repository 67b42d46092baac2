"""The inbox records in memory (shared.unit_of_work.MongoProcessedEvents' twin)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from pymongo.errors import DuplicateKeyError

from shared.unit_of_work import Record


class MemoryProcessedEvents:
    """Processed event records, by event id."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}

    async def find(self, event_ids: Sequence[str]) -> dict[str, Record]:
        return {i: self.records[i] for i in event_ids if i in self.records}

    async def add(self, records: Sequence[Record]) -> None:
        for record in records:
            if record.event_id in self.records:
                raise DuplicateKeyError(f"duplicate event id {record.event_id}")
            self.records[record.event_id] = record

    async def forget(self, people: Iterable[str]) -> int:
        wanted = set(people)
        erased = 0
        for event_id, record in list(self.records.items()):
            if wanted & set(record.people):
                self.records[event_id] = replace(record, outputs=(), people=(), forget=())
                erased += 1
        return erased
