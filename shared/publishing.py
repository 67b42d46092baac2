"""Publishing a CloudEvent from outside the services, as another Cap Rural system would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from shared.contract import CONTENT_TYPE, CloudEvent, event_model, topic_name
from shared.kafka import client_options
from shared.settings import Settings


def build_event(
    event_type: str,
    payload: dict[str, Any],
    *,
    source: str = "urn:caprural:cli",
    subject: str | None = None,
) -> CloudEvent[Any]:
    """Validate `payload` against the contract.

    `payload` is either a whole CloudEvent (with `specversion`) or only its `data`,
    in which case the envelope is completed with a new id and the current time.
    """
    model = event_model(event_type)
    if "specversion" in payload:
        return model.model_validate(payload)
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid4()),
        "type": event_type,
        "source": source,
        "time": datetime.now(UTC).isoformat(),
        "data": payload,
    }
    if subject or _default_subject(payload):
        envelope["subject"] = subject or _default_subject(payload)
    return model.model_validate(envelope)


def _default_subject(data: dict[str, Any]) -> str | None:
    for key in ("session_id", "topic_id", "email"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:100]
    return None


def producer(settings: Settings) -> AIOKafkaProducer:
    """A plain aiokafka producer with the platform's connection settings."""
    return AIOKafkaProducer(
        acks="all", enable_idempotence=settings.kafka_enable_idempotence, **client_options(settings)
    )


async def publish_events(settings: Settings, events: list[CloudEvent[Any]]) -> None:
    """Publish events (structured mode, keyed by subject) and wait for the broker."""
    kafka = producer(settings)
    await kafka.start()
    try:
        for event in events:
            await kafka.send_and_wait(
                topic_name(event.type, settings.kafka_topic_prefix),
                event.to_json(),
                key=event.key,
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
    finally:
        await kafka.stop()


def parse_payload(text: str) -> dict[str, Any]:
    """JSON text, or `@path` to a JSON file."""
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("the payload must be a JSON object")
    return value
