"""Dead-letter topics: messages that can never be processed go to `<topic>.dlq`, unchanged,
with the reason in headers; operators list them and replay them to their source topic."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from prometheus_client import Counter

from shared.contract import EVENTS, dlq_topic_name, topic_name
from shared.errors import describe, is_poison
from shared.kafka import client_options
from shared.settings import Settings

logger = logging.getLogger(__name__)

REPLAY_GROUP = "caprural-dlq-replay"
_HEADER_LIMIT = 4000
_REMEMBERED = 10_000

Position = tuple[str, int, int]


class DeadLetters:
    """Publishes records, unchanged, to their `<topic>.dlq`, each position once."""

    def __init__(
        self, broker: KafkaBroker, *, service: str, counter: Counter | None = None
    ) -> None:
        self._broker = broker
        self._service = service
        self._counter = counter
        self._sent: dict[Position, None] = {}

    async def send(
        self, record: ConsumerRecord[Any, Any], error: BaseException, *, attempts: int = 1
    ) -> None:
        """Dead-letter one record with the reason in headers (again: no effect)."""
        position = (record.topic, record.partition, record.offset)
        if position in self._sent:
            return
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        headers.update(
            {
                "x-dlq-error": describe(error)[:_HEADER_LIMIT],
                "x-dlq-error-type": type(error).__name__,
                "x-dlq-reason": "poison" if is_poison(error) else "retries_exhausted",
                "x-dlq-attempts": str(attempts),
                "x-dlq-service": self._service,
                "x-dlq-source-topic": record.topic,
                "x-dlq-source-partition": str(record.partition),
                "x-dlq-source-offset": str(record.offset),
                "x-dlq-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        await self._broker.publish(
            record.value or b"", topic=dlq_topic_name(record.topic), key=record.key, headers=headers
        )
        self._sent[position] = None
        if self._counter is not None:
            self._counter.labels(record.topic, headers["x-dlq-reason"]).inc()
        if len(self._sent) > _REMEMBERED:
            self._sent.pop(next(iter(self._sent)))
        logger.warning(
            "dead-lettered to %s: %s",
            dlq_topic_name(record.topic),
            headers["x-dlq-error"],
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
        )


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
            # The original headers go back (a binary-mode event's attributes are there).
            original = [
                (name, value.encode())
                for name, value in letter.headers.items()
                if not name.startswith("x-dlq-")
            ]
            replayed = f"{letter.dlq_topic}/{letter.offset}".encode()
            await producer.send_and_wait(
                letter.source_topic,
                letter.value,
                key=letter.key,
                headers=[*original, ("x-dlq-replayed-from", replayed)],
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
