"""The deliveries' indexes: five on the hot collection, and an upgrade from the earlier
ones that keeps every outcome still to be announced."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.repository import create_indexes
from shared.mongo import create_client
from shared.settings import Settings

pytestmark = pytest.mark.integration


async def test_an_earlier_database_gets_the_new_indexes_and_keeps_what_it_owes(
    settings: Settings,
):
    client = create_client(settings, app_name="test")
    db = client[f"indexes_{uuid.uuid4().hex[:8]}"]
    try:
        deliveries, receipts = db["deliveries"], db["receipts"]
        # As an earlier version left them: indexes no query needs any more, and the
        # unannounced outcomes its (announced, status) index found.
        await deliveries.create_index([("announced", 1), ("status", 1)])
        await deliveries.create_index("content_id")
        await receipts.create_index("batch")
        await deliveries.insert_many(
            [
                {"_id": "failed-unannounced", "status": "failed", "announced": False},
                {"_id": "sent-announced", "status": "sent", "announced": True},
            ]
        )
        await create_indexes(db)
        await create_indexes(db)  # every start runs it: the second changes nothing
        names = set(await deliveries.index_information())
        receipt_names = set(await receipts.index_information())
        documents = {doc["_id"]: doc async for doc in deliveries.find({})}
    finally:
        await client.close()
    assert names == {
        "_id_",
        "status_1_next_attempt_at_1",
        "owed_1",
        "scrub_1",
        "recipient_key_1",
        "batch_1",
    }
    assert receipt_names == {"_id_"}
    assert documents["failed-unannounced"]["owed"] is True
    assert "owed" not in documents["sent-announced"]
