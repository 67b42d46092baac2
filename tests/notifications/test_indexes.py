"""The deliveries' indexes: four on the hot collection, and an upgrade from the earlier
ones that keeps every chore (outcomes to announce, addresses to remove)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.notifications.repository import create_indexes
from shared.mongo import create_client
from shared.settings import Settings

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


async def test_an_earlier_database_gets_the_new_indexes_and_keeps_its_chores(settings: Settings):
    client = create_client(settings, app_name="test")
    db = client[f"indexes_{uuid.uuid4().hex[:8]}"]
    try:
        deliveries, receipts = db["deliveries"], db["receipts"]
        # As an earlier version left them: flags with their sparse indexes, and the
        # indexes no query needs any more.
        await deliveries.create_index("owed", sparse=True)
        await deliveries.create_index("scrub", sparse=True)
        await deliveries.create_index("content_id")
        await receipts.create_index("batch")
        await deliveries.insert_many(
            [
                {"_id": "failed-unannounced", "status": "failed", "owed": True},
                {"_id": "sent-to-erased", "status": "sent", "scrub": True},
                {"_id": "both", "status": "sent", "owed": True, "scrub": True},
                {"_id": "plain", "status": "sent", "announced": True, "finished_at": WHEN},
            ]
        )
        await create_indexes(db)
        await create_indexes(db)  # every start runs it: the second changes nothing
        names = set(await deliveries.index_information())
        receipt_names = set(await receipts.index_information())
        documents = {doc["_id"]: doc async for doc in deliveries.find({})}
    finally:
        await client.close()
    assert names == {"_id_", "status_1_next_attempt_at_1", "chores_1", "recipient_key_1", "batch_1"}
    assert receipt_names == {"_id_"}
    assert documents["failed-unannounced"]["chores"] == ["owed"]
    assert documents["sent-to-erased"]["chores"] == ["scrub"]
    assert sorted(documents["both"]["chores"]) == ["owed", "scrub"]
    assert "chores" not in documents["plain"]
    assert not any("owed" in doc or "scrub" in doc for doc in documents.values())
