"""Publishing CloudEvents and waiting (with a deadline) for the events services emit."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.contract import CONTENT_TYPE, CloudEvent, dlq_topic_name, event_model, topic_name
from shared.kafka import client_options, ensure_topics
from shared.settings import Settings


def cloudevent(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    subject: str | None = None,
    source: str = "urn:caprural:tests",
    at: datetime | None = None,
) -> dict[str, Any]:
    """A CloudEvent as a JSON-ready dict (not validated: tests also build bad ones)."""
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "source": source,
        "time": (at or datetime.now(UTC)).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    if subject:
        envelope["subject"] = subject
    return envelope


class Publisher:
    """Publishes into the platform as another Cap Rural system would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer = AIOKafkaProducer(acks="all", **client_options(settings))

    async def start(self) -> None:
        """Connect."""
        await self._producer.start()

    async def stop(self) -> None:
        """Disconnect."""
        await self._producer.stop()

    async def event(
        self,
        event_type: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        subject: str | None = None,
        validate: bool = True,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Publish a CloudEvent (validated against the contract unless told otherwise)."""
        envelope = cloudevent(event_type, data, event_id=event_id, subject=subject, at=at)
        if validate:
            event_model(event_type).model_validate(envelope)
        await self.raw(event_type, json.dumps(envelope).encode(), key=subject)
        return envelope

    async def again(self, envelope: dict[str, Any]) -> None:
        """Redeliver exactly the same CloudEvent (same id)."""
        await self.raw(envelope["type"], json.dumps(envelope).encode(), key=envelope.get("subject"))

    async def raw_many(self, messages: Iterable[tuple[str, bytes]]) -> None:
        """Publish many bodies (type, body) in order, waiting for the broker once."""
        futures = [
            await self._producer.send(
                topic_name(event_type, self.settings.kafka_topic_prefix),
                body,
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
            for event_type, body in messages
        ]
        await asyncio.gather(*futures)

    async def raw(self, event_type: str, body: bytes, *, key: str | bytes | None = None) -> None:
        """Publish arbitrary bytes on an event type's topic."""
        raw_key = key.encode() if isinstance(key, str) else key
        await self._producer.send_and_wait(
            topic_name(event_type, self.settings.kafka_topic_prefix),
            body,
            key=raw_key,
            headers=[("content-type", CONTENT_TYPE.encode())],
        )


@dataclass(frozen=True)
class Seen:
    """A message seen on a topic."""

    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]

    def json(self) -> dict[str, Any]:
        """The body as JSON."""
        value = json.loads(self.value)
        assert isinstance(value, dict)
        return value

    def event(self) -> CloudEvent[Any]:
        """The body validated as its contract event."""
        body = self.json()
        return event_model(body["type"]).model_validate(body)


class Tap:
    """Reads topics from the beginning and keeps every message, for assertions.

    Partitions are assigned by hand, without a consumer group: nothing to join and no
    rebalance to wait for (under load, the embedded broker's group rounds could leave a
    tap behind for minutes). Topics that do not exist yet (dead-letter topics, created
    with the first letter) are looked for again every second and read from their start.
    """

    def __init__(
        self, settings: Settings, event_types: Iterable[str], *, dlq: bool = False
    ) -> None:
        self.settings = settings
        self.event_types = list(event_types)
        topics = [topic_name(t, settings.kafka_topic_prefix) for t in self.event_types]
        self.topics = topics + ([dlq_topic_name(t) for t in topics] if dlq else [])
        self.messages: list[Seen] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._reading: set[str] = set()

    async def start(self) -> None:
        """Create the topics if needed and start reading them."""
        await ensure_topics(self.settings, self.event_types)
        self._consumer = AIOKafkaConsumer(
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **client_options(self.settings),
        )
        await self._consumer.start()
        await self._assign()
        self._task = asyncio.create_task(self._read())

    async def _assign(self) -> None:
        """Add the partitions of the topics that exist now (those already read keep
        their positions)."""
        consumer = self._consumer
        assert consumer is not None
        existing = await consumer.topics()  # a metadata request: fresh partitions
        found = [t for t in self.topics if t in existing and t not in self._reading]
        if not found:
            return
        kept = consumer.assignment()
        positions = {tp: await consumer.position(tp) for tp in kept}
        added = {
            TopicPartition(topic, p)
            for topic in found
            for p in consumer.partitions_for_topic(topic) or ()
        }
        consumer.assign(sorted(kept | added))
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        self._reading.update(found)

    async def _read(self) -> None:
        assert self._consumer is not None
        looked = time.monotonic()
        while True:
            if len(self._reading) < len(self.topics) and time.monotonic() - looked >= 1:
                await self._assign()
                looked = time.monotonic()
            if not self._consumer.assignment():
                await asyncio.sleep(0.2)
                continue
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    self.messages.append(
                        Seen(
                            record.topic,
                            record.key,
                            record.value or b"",
                            dict(record.headers),
                        )
                    )

    async def stop(self) -> None:
        """Stop reading."""
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()

    def of(self, event_type: str, *, dlq: bool = False) -> list[Seen]:
        """Messages seen on an event type's topic (or its DLQ)."""
        topic = topic_name(event_type, self.settings.kafka_topic_prefix)
        if dlq:
            topic = dlq_topic_name(topic)
        return [m for m in self.messages if m.topic == topic]

    def events(
        self, event_type: str, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Event bodies of a type, optionally filtered."""
        bodies = [m.json() for m in self.of(event_type)]
        return [b for b in bodies if where is None or where(b)]

    async def wait_for(
        self,
        event_type: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[dict[str, Any]]:
        """Wait until `count` matching events were seen; fail with what was seen."""
        await wait_until(
            lambda: len(self.events(event_type, where)) >= count,
            timeout=timeout,
            message=lambda: f"{count} x {event_type}; seen: {self.events(event_type)!r:.2000}",
        )
        return self.events(event_type, where)

    async def wait_for_dlq(
        self, event_type: str, *, count: int = 1, timeout: float = 30.0
    ) -> list[Seen]:
        """Wait for dead-lettered messages of a type."""
        await wait_until(
            lambda: len(self.of(event_type, dlq=True)) >= count,
            timeout=timeout,
            message=lambda: f"{count} dead letters on {event_type}",
        )
        return self.of(event_type, dlq=True)


async def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    message: Callable[[], str] | str = "condition",
) -> None:
    """Poll `condition` until true; raise AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {text}")
        await asyncio.sleep(interval)


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str = "condition",
) -> Any:
    """Await `check()` until it returns something truthy; return it (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {message}; last: {value!r}"
            )
        await asyncio.sleep(interval)
