"""Storage of the notifications service on MongoDB: its unit of work and indexes.

The recipients projection (recipients.py) and the deliveries (deliveries.py) are two
repositories; these modules alone import PyMongo.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.deliveries import MongoDeliveries
from services.notifications.recipients import MongoRecipients
from services.notifications.unit import Unit
from shared.mongo import Document
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents


class MongoUnit(Unit):
    """The recipients projection and the deliveries, bound to one transaction."""

    def __init__(self, storage: Storage, *, chunk: int = 100) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.recipients = MongoRecipients(storage)
        self._deliveries = MongoDeliveries(storage, chunk=chunk)
        self.deliveries = self._deliveries

    async def flush(self) -> None:
        await self._deliveries.flush()


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Every collection's indexes."""
    storage = Storage(db)
    await MongoRecipients.create_indexes(storage)
    await MongoDeliveries.create_indexes(storage)
