"""Chunks of a dispatch: stored in order, claimed one after the other."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.deliveries import FOLLOW_CHUNKS, delivery_documents, next_chunk
from services.notifications.domain import Recipient
from services.notifications.records import Dispatch

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
