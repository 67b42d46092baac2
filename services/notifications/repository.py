"""Storage of the notifications service on MongoDB: its unit of work and indexes.

The recipients projection (recipients.py) and the deliveries (deliveries.py) are two
repositories; these modules alone import PyMongo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.deliveries import Handoff, MongoDeliveries
from services.notifications.recipients import MongoRecipients
from services.notifications.unit import Unit
from shared.contract import CloudEvent
from shared.contract.registration import MemberRegisteredData
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents


class MongoUnit(Unit):
    """The recipients projection and the deliveries, bound to one transaction."""

    def __init__(
        self, storage: Storage, *, chunk: int = 100, handoff: Handoff | None = None
    ) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self._recipients = MongoRecipients(storage)
        self.recipients = self._recipients
        self._deliveries = MongoDeliveries(storage, chunk=chunk, handoff=handoff)
        self.deliveries = self._deliveries

    async def prepare(self, events: Sequence[CloudEvent[Any]]) -> None:
        """Whether the batch's new members are known, read with one query (alone, one
        member costs one upsert: nothing to read ahead)."""
        ids = [e.data.member_id for e in events if isinstance(e.data, MemberRegisteredData)]
        if len(ids) > 1:
            await self._recipients.prefetch_members(ids)

    async def committed(self) -> None:
        self._deliveries.hand_over()


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Every collection's indexes."""
    storage = Storage(db)
    await MongoRecipients.create_indexes(storage)
    await MongoDeliveries.create_indexes(storage)
