"""Operators list dead letters and replay them, unchanged, to their source topic."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from shared.contract import dlq_topic_name, topic_name
from shared.deadletters import read_dead_letters, replay
from shared.kafka import client_options, ensure_topics
from tests.harness.kafka import wait_until

pytestmark = pytest.mark.integration


async def test_dead_letters_are_listed_with_their_error_and_replayed_once(settings, tap):
    await ensure_topics(settings, ["topic_commented"])
    source = topic_name("topic_commented", settings.kafka_topic_prefix)
    producer = AIOKafkaProducer(**client_options(settings))
    await producer.start()
    try:
        for number in range(3):
            await producer.send_and_wait(
                dlq_topic_name(source),
                f"body-{number}".encode(),
                key=b"k",
                headers=[
                    ("ce_id", f"binary-{number}".encode()),  # a binary-mode attribute
                    ("x-dlq-source-topic", source.encode()),
                    ("x-dlq-error", f"error {number}".encode()),
                ],
            )
    finally:
        await producer.stop()
    reader = await tap("topic_commented")

    listed = await read_dead_letters(settings, ["topic_commented"])
    assert [letter.value for letter in listed] == [b"body-0", b"body-1", b"body-2"]
    assert [letter.error for letter in listed] == ["error 0", "error 1", "error 2"]
    assert all(letter.source_topic == source for letter in listed)

    pending = await read_dead_letters(settings, ["topic_commented"], group="replay-test")
    assert len(pending) == 3
    assert await replay(settings, pending, group="replay-test") == 3
    await wait_until(lambda: len(reader.of("topic_commented")) == 3, message="3 replayed messages")
    replayed = reader.of("topic_commented")
    assert sorted(m.value for m in replayed) == [b"body-0", b"body-1", b"body-2"]
    assert all(m.key == b"k" for m in replayed)
    # The event's own headers go back with it (a binary-mode event's attributes are
    # there); the dead-letter bookkeeping does not.
    assert sorted(m.headers["ce_id"] for m in replayed) == [b"binary-0", b"binary-1", b"binary-2"]
    assert not any("x-dlq-error" in m.headers for m in replayed)
    assert all(
        m.headers["x-dlq-replayed-from"].startswith(dlq_topic_name(source).encode())
        for m in replayed
    )
    assert await read_dead_letters(settings, ["topic_commented"], group="replay-test") == []
