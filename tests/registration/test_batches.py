"""A batch of registrations on MongoDB: members read ahead with one query, added with one
insert, and the batch still decides as one event at a time would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from services.registration import handlers
from services.registration.repository import MongoUnit, create_indexes
from shared import storage
from shared.contract.registration import RegistrationRequested
from shared.inbox import Done, Inbox, Step
from shared.mongo import CommandCounter, create_client, working
from shared.settings import Settings
from tests.harness.data import event, registration
from tests.registration.support import token

pytestmark = pytest.mark.integration


def request(email: str) -> RegistrationRequested:
    made: RegistrationRequested = event("registration_requested", registration(email))
    return made


async def test_a_batch_reads_its_members_once_and_adds_them_once(settings: Settings):
    counter = CommandCounter()
    client = create_client(settings, app_name="test", counter=counter)
    db = client[f"batch_{uuid.uuid4().hex[:8]}"]
    await create_indexes(db)
    inbox: Inbox[MongoUnit] = Inbox(client, db, MongoUnit)
    deps = handlers.Deps(clock=lambda: datetime.now(UTC), capacity=10)
    mark = token()
    camille = f"camille-{mark}@cc-exemple.fr"
    requests = [
        request(camille),
        request(f"dominique-{mark}@cc-exemple.fr"),
        request(camille.upper()),  # the same address again, in the same batch
        request(f"claude-{mark}@cc-exemple.fr"),
    ]

    def step(item: RegistrationRequested) -> Step[MongoUnit]:
        return Step(item, partial(handlers.register_member, item, deps=deps))

    try:
        with working("events"):
            outcomes = await inbox.process([step(item) for item in requests])
        members = await db["members"].count_documents({})
    finally:
        await client.close()

    emitted: list[Any] = [o.outputs[0].event_type for o in outcomes if isinstance(o, Done)]
    assert emitted == [
        "member_registered",
        "member_registered",
        "registration_rejected",
        "member_registered",
    ]
    assert members == 3
    by_command = {command: n for (work, command), n in counter.counts.items() if work == "events"}
    # One read of the members, one write of the members with the records (one bulkWrite
    # across collections; an insert each before MongoDB 8, as the storage found the
    # server to be), one commit.
    writes = {"bulkWrite": 1} if storage._BULK_ACROSS_COLLECTIONS[0] else {"insert": 2}
    assert by_command == {"find": 1, **writes, "commitTransaction": 1}


async def test_before_mongodb_8_the_kept_inserts_go_one_collection_at_a_time(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("shared.storage._BULK_ACROSS_COLLECTIONS", [False])
    counter = CommandCounter()
    client = create_client(settings, app_name="test", counter=counter)
    db = client[f"batch_{uuid.uuid4().hex[:8]}"]
    await create_indexes(db)
    inbox: Inbox[MongoUnit] = Inbox(client, db, MongoUnit)
    deps = handlers.Deps(clock=lambda: datetime.now(UTC), capacity=10)
    first, second = request(f"a-{token()}@cc-exemple.fr"), request(f"b-{token()}@cc-exemple.fr")
    try:
        with working("events"):
            await inbox.process(
                [Step(e, partial(handlers.register_member, e, deps=deps)) for e in (first, second)]
            )
        members = await db["members"].count_documents({})
        records = await db["processed_events"].count_documents({})
    finally:
        await client.close()
    assert (members, records) == (2, 2)
    by_command = {command: n for (work, command), n in counter.counts.items() if work == "events"}
    assert by_command == {"find": 1, "insert": 2, "commitTransaction": 1}
