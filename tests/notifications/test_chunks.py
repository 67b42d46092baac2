"""Chunks of a dispatch: stored in order, claimed one after the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from services.notifications.deliveries import (
    FOLLOW_CHUNKS,
    HANDED_CHUNKS,
    Handoff,
    MongoDeliveries,
    chunk_index,
    delivery_documents,
    delivery_of,
    next_chunk,
)
from services.notifications.domain import Recipient
from services.notifications.records import Dispatch
from shared.storage import Storage

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def dispatch(count: int) -> Dispatch:
    people = tuple(Recipient(f"agent{i}@cc-exemple.fr", "Camille", "Martin") for i in range(count))
    return Dispatch(
        kind="session_invitation",
        cause_id="cause",
        cause_type="session_scheduled",
        cause_time=NOW,
        data={},
        recipients=people,
    )


def test_a_fan_out_is_stored_in_chunks_in_the_order_decided():
    _, docs = delivery_documents(dispatch(250), now=NOW, chunk=100, batch="b", order=1000)
    assert [d["batch"] for d in docs[::100]] == ["b/0", "b/1", "b/2"]
    assert sum(d["batch"] == "b/2" for d in docs) == 50
    assert [d["order"] for d in docs] == list(range(1000, 1250))


def test_the_next_chunk_follows_until_it_is_time_to_look_for_earlier_emails():
    assert next_chunk("content/abc/0") == "content/abc/1"
    assert next_chunk(f"content/abc/{FOLLOW_CHUNKS - 1}") is None
    assert next_chunk(f"content/abc/{FOLLOW_CHUNKS}") == f"content/abc/{FOLLOW_CHUNKS + 1}"
    assert next_chunk("legacy-without-index") is None


def test_the_hand_off_gives_its_chunks_in_order_in_groups_while_their_lease_lasts():
    handoff = Handoff(lease=timedelta(minutes=2))
    _, docs = delivery_documents(dispatch(450), now=NOW, chunk=200, batch="b")
    deliveries = [delivery_of(doc) for doc in docs]
    handoff.offer(deliveries[:400], {}, until=NOW + timedelta(minutes=2))
    handoff.offer([delivery_of(doc) for doc in docs[:3]], {}, until=NOW + timedelta(seconds=59))
    groups, _ = handoff.take(now=NOW, limit=200)
    # The second offer has less than half its lease left: left to a claim once it ends.
    assert [len(g) for g in groups] == [200, 200]
    assert [d.delivery_id for g in groups for d in g] == [d.delivery_id for d in deliveries[:400]]
    assert handoff.take(now=NOW, limit=200) == ([], {})  # taken once


async def test_the_first_chunks_of_a_dispatch_are_handed_over_the_rest_left_to_claims():
    handoff = Handoff(lease=timedelta(minutes=2))
    nowhere = "mongodb://127.0.0.1:9"  # never reached: the test must send nothing
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(nowhere, connect=False)
    deliveries = MongoDeliveries(Storage(client["unused"]), chunk=2, handoff=handoff)
    planned = HANDED_CHUNKS * 2 + 5
    await deliveries.plan(dispatch(planned), now=NOW)  # kept back: no command sent
    deliveries.hand_over()
    groups, contents = handoff.take(now=NOW, limit=1000)
    await client.close()
    (handed,) = groups
    assert len(handed) == HANDED_CHUNKS * 2
    assert {chunk_index(d.batch or "") for d in handed} == set(range(HANDED_CHUNKS))
    assert len(contents) == 1  # with its content: nothing read back
