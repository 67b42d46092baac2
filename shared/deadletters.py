"""Dead-letter topics for operators: list what is there, replay it to its source topic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.contract import EVENTS, dlq_topic_name, topic_name
from shared.kafka import client_options
from shared.settings import Settings

REPLAY_GROUP = "caprural-dlq-replay"


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message and why it is there."""

    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def source_topic(self) -> str:
        """The topic it came from (the DLQ name without `.dlq` when the header is missing)."""
        return self.headers.get("x-dlq-source-topic") or self.dlq_topic.removesuffix(".dlq")

    @property
    def error(self) -> str:
        """The recorded error."""
        return self.headers.get("x-dlq-error", "")


def dlq_topics(settings: Settings, event_types: Iterable[str] | None = None) -> list[str]:
    """The DLQ topic of each (or every) event type."""
    types = list(event_types) if event_types else sorted(EVENTS)
    return [dlq_topic_name(topic_name(t, settings.kafka_topic_prefix)) for t in types]


async def read_dead_letters(
    settings: Settings, event_types: Iterable[str] | None = None, *, group: str | None = None
) -> list[DeadLetter]:
    """Every message not yet replayed (by `group`), or all of them when `group` is None."""
    consumer = AIOKafkaConsumer(
        group_id=group or f"caprural-dlq-list-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_options(settings),
    )
    await consumer.start()
    try:
        existing = await consumer.topics()
        partitions = [
            TopicPartition(topic, partition)
            for topic in dlq_topics(settings, event_types)
            if topic in existing
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        for tp in partitions:
            committed = await consumer.committed(tp) if group else None
            if committed is not None:
                consumer.seek(tp, committed)
            else:
                await consumer.seek_to_beginning(tp)
        while await _behind(consumer, ends):
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                letters += [
                    DeadLetter(
                        tp.topic,
                        tp.partition,
                        record.offset,
                        record.key,
                        record.value or b"",
                        {k: v.decode(errors="replace") for k, v in record.headers},
                    )
                    for record in records
                    if record.offset < ends[tp]
                ]
        return letters
    finally:
        await consumer.stop()


async def replay(
    settings: Settings, letters: list[DeadLetter], *, group: str = REPLAY_GROUP
) -> int:
    """Publish each message, unchanged, back to its source topic; remember it as replayed."""
    if not letters:
        return 0
    producer = AIOKafkaProducer(acks="all", **client_options(settings))
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(
                letter.source_topic,
                letter.value,
                key=letter.key,
                headers=[("x-dlq-replayed-from", f"{letter.dlq_topic}/{letter.offset}".encode())],
            )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        group_id=group, enable_auto_commit=False, **client_options(settings)
    )
    await consumer.start()
    try:
        last: dict[TopicPartition, int] = {}
        for letter in letters:
            tp = TopicPartition(letter.dlq_topic, letter.partition)
            last[tp] = max(last.get(tp, -1), letter.offset)
        consumer.assign(list(last))
        await consumer.commit({tp: offset + 1 for tp, offset in last.items()})
    finally:
        await consumer.stop()
    return len(letters)


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
