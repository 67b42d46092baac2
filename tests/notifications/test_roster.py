"""Adding a member to the projection takes the roster lock with it: one command on
MongoDB 8 (a bulkWrite across the two collections), two before."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.domain import Recipient
from services.notifications.recipients import MongoRecipients
from shared.mongo import CommandCounter, create_client
from shared.settings import Settings
from shared.storage import Storage

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("across", [True, False], ids=["mongodb-8", "before-8"])
async def test_a_new_member_is_added_once_with_the_roster_locked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, across: bool
):
    monkeypatch.setattr("shared.storage._BULK_ACROSS_COLLECTIONS", [across])
    counter = CommandCounter()
    client = create_client(settings, app_name="test", counter=counter)
    db = client[f"roster_{uuid.uuid4().hex[:8]}"]
    camille = Recipient("camille@cc-exemple.fr", "Camille", "Martin")
    try:
        added = await MongoRecipients(Storage(db)).add_member("m-1", camille)
        again = await MongoRecipients(Storage(db)).add_member("m-1", camille)
        lock = await db["locks"].find_one({"_id": "roster"})
        member = await db["members"].find_one({"_id": "m-1"})
    finally:
        await client.close()
    assert (added, again) == (True, False)
    assert lock is not None
    assert lock["version"] == 2  # taken by both
    assert member is not None
    assert member["left"] is False
    writes = {c: n for (_, c), n in counter.counts.items() if c in {"bulkWrite", "update"}}
    assert writes == ({"bulkWrite": 2} if across else {"update": 4})
