"""An erasure processed while the sender holds the person's email must still scrub it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.deliveries import MongoDeliveries
from services.notifications.domain import Recipient
from services.notifications.records import Dispatch
from services.notifications.repository import create_indexes
from shared.storage import Storage
from tests.notifications.builders import token

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def test_a_delivery_claimed_before_the_erasure_is_scrubbed_once_settled(settings, mongo):
    db = mongo[settings.database_name("notifications")]
    await create_indexes(db)
    storage = Storage(db)
    repo = MongoDeliveries(storage)
    camille = Recipient(f"camille-{token()}@cc-exemple.fr", "Camille", "Martin")
    welcome = Dispatch(
        kind="welcome",
        cause_id=f"cause-{token()}",
        cause_type="member_registered",
        cause_time=NOW,
        data={"first_name": "Camille"},
        recipients=(camille,),
        personal_keys=(camille.person,),
    )
    await repo.plan(welcome, now=NOW)
    await storage.flush()  # the planned inserts, as the inbox writes them with its records
    claimed, _ = await repo.claim(now=NOW, owner="sender-a", lease=timedelta(minutes=2))
    assert [d.recipient for d in claimed] == [camille]
    assert not claimed[0].erase_after_send  # the sender's copy knows nothing of what follows

    await repo.erase_person(camille.person)  # processed while it is being sent
    sent = {"status": "sent", "finished_at": NOW, "announced": True, "subject": "Bienvenue"}
    assert await repo.finish_many([(claimed[0], sent)], owner="sender-a") == 1
    stored = await db.deliveries.find_one({"_id": claimed[0].delivery_id})
    assert stored["recipient"]["email"] == camille.email  # what the sender alone leaves

    assert await repo.scrub_settled(limit=10) == 1
    stored = await db.deliveries.find_one({"_id": claimed[0].delivery_id})
    assert "recipient" not in stored
    assert stored["recipient_key"] == "erased"
    assert await db.contents.count_documents({"keys": camille.person}) == 0
    assert await repo.scrub_settled(limit=10) == 0  # nothing left to sweep
