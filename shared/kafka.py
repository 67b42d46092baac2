"""Kafka adapters: the broker factory, topic creation and the event publisher."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from prometheus_client import Counter

from shared.contract import CONTENT_TYPE, CloudEvent, dlq_topic_name, topic_name
from shared.settings import Settings

logger = logging.getLogger(__name__)

SUBSCRIBER_OPTIONS: dict[str, Any] = {
    "auto_offset_reset": "earliest",
    # The acknowledgement is decided deliberately: offsets are committed after the
    # handler's effects are stored and its events published. The DLQ middleware turns
    # poison into an ack (after dead-lettering) and transient failures into a nack
    # after a backoff, so nothing reaches this policy's tight-loop redelivery.
    "ack_policy": AckPolicy.NACK_ON_ERROR,
}


def kafka_security(settings: Settings) -> BaseSecurity | None:
    """SASL/SCRAM, SASL/PLAIN and TLS from the settings; None for plaintext."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    use_ssl = protocol in {"SSL", "SASL_SSL"}
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    username = settings.kafka_sasl_username or ""
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    )
    mechanism = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }[settings.kafka_sasl_mechanism]
    return mechanism(username, password, ssl_context=context if use_ssl else None, use_ssl=use_ssl)


def create_broker(
    settings: Settings, *, client_id: str, middlewares: Sequence[Any] = ()
) -> KafkaBroker:
    """The broker of one service; producer idempotence is a setting (off on Tansu).
    `middlewares` see every record consumed and published (metrics, traces)."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        middlewares=tuple(middlewares),
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        security=kafka_security(settings),
        graceful_timeout=30.0,
        logger=logging.getLogger(f"caprural.{client_id}"),
        request_timeout_ms=30_000,
    )


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection options for plain aiokafka clients (admin, producers of the CLI)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    security = kafka_security(settings)
    if security is not None:
        options["ssl_context"] = security.ssl_context
    if settings.kafka_security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def admin_client(settings: Settings) -> AIOKafkaAdminClient:
    """An admin client with the same connection settings as the services."""
    return AIOKafkaAdminClient(**client_options(settings))


async def ensure_topics(
    settings: Settings, event_types: Iterable[str], *, timeout: float = 60.0
) -> list[str]:
    """Create each event type's topic and its DLQ, with their partitions, if missing.

    Idempotent; waits (bounded) for the broker to accept connections.
    """
    names: list[str] = []
    for event_type in event_types:
        topic = topic_name(event_type, settings.kafka_topic_prefix)
        names += [topic, dlq_topic_name(topic)]
    names = sorted(set(names))
    deadline = time.monotonic() + timeout
    while True:
        admin = admin_client(settings)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [name for name in names if name not in existing]
            if missing:
                await _create(admin, missing, settings)
            return missing
        except KafkaError as error:
            if time.monotonic() > deadline:
                raise
            logger.warning("Kafka not ready, retrying topic creation: %s", error)
            await asyncio.sleep(1.0)
        finally:
            await admin.close()


async def _create(admin: AIOKafkaAdminClient, names: list[str], settings: Settings) -> None:
    topics = [
        NewTopic(name, settings.kafka_partitions, settings.kafka_replication_factor)
        for name in names
    ]
    try:
        await admin.create_topics(topics)
    except TopicAlreadyExistsError:  # another service created them at the same time
        return


@dataclass(frozen=True)
class Emission:
    """An event ready to be published: its type, Kafka key and structured-mode body."""

    event_type: str
    key: bytes | None
    body: bytes

    @classmethod
    def of(cls, event: CloudEvent[Any]) -> Emission:
        """The emission of a contract event."""
        return cls(event.type, event.key, event.to_json())


class EventPublisher:
    """Publishes a service's events through its declared (documented) publishers."""

    def __init__(
        self,
        router: KafkaRouter,
        events: Sequence[type[CloudEvent[Any]]],
        *,
        service: str,
        published: Counter | None = None,
    ) -> None:
        self._published = published
        self._publishers: dict[str, DefaultPublisher] = {
            event.event_type: router.publisher(
                event.event_type,
                schema=event,
                title=f"{event.event_type}:{service}",
                description=_describe(event),
            )
            for event in events
        }

    @property
    def event_types(self) -> list[str]:
        """The types this service may publish."""
        return list(self._publishers)

    async def publish(self, emissions: Sequence[Emission]) -> None:
        """Publish in order and wait until the broker has every one of them."""
        futures = []
        for emission in emissions:
            publisher = self._publishers[emission.event_type]
            futures.append(
                await publisher.publish(
                    emission.body,
                    key=emission.key,
                    headers={"content-type": CONTENT_TYPE},
                    no_confirm=True,
                )
            )
        if futures:
            await asyncio.gather(*futures)
        if self._published is not None:
            for emission in emissions:
                self._published.labels(emission.event_type).inc()


def _describe(event: type[CloudEvent[Any]]) -> str:
    data_model = event.model_fields["data"].annotation
    return ((data_model.__doc__ if data_model else None) or event.event_type).strip()
