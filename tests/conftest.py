"""Fixtures: the servers once per session, a fresh topic prefix and databases per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from shared.settings import Settings
from tests.harness.infra import Infra, MailServer, embedded_infra
from tests.harness.kafka import Publisher, Tap


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Kafka, MongoDB and SMTP for the whole session (embedded unless configured)."""
    with embedded_infra() as servers:
        yield servers


@pytest.fixture
def mail(infra: Infra) -> MailServer:
    """The SMTP sink (started again if a test stopped it)."""
    infra.mail.start()
    return infra.mail


def make_settings(infra: Infra, **overrides: Any) -> Settings:
    """Settings isolated by a random topic prefix and database prefix."""
    token = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
        "kafka_topic_prefix": f"t{token}.",
        "kafka_partitions": 3,
        "mongodb_url": infra.mongodb_url,
        "mongodb_database_prefix": f"t{token}_",
        "smtp_host": infra.mail.host,
        "smtp_port": infra.mail.port,
        "coordinator_emails": f"coordination-{token}@caprural.test",
        "mail_from": "Cap Rural <pat@caprural.test>",
        "log_format": "text",
        # Real Kafka refuses session timeouts under 6 s; the embedded broker assigns
        # partitions to a new group after half of it, which keeps tests quick.
        "kafka_session_timeout_ms": 6000 if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else 2000,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(infra: Infra) -> Settings:
    """Settings for one test: its own topics and databases."""
    return make_settings(infra)


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[Publisher]:
    """Publishes CloudEvents on this test's topics."""
    producer = Publisher(settings)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def tap(settings: Settings) -> AsyncIterator[Any]:
    """`await tap(*event_types, dlq=False)` returns a started Tap, stopped after the test."""
    taps: list[Tap] = []

    async def start(*event_types: str, dlq: bool = False) -> Tap:
        reader = Tap(settings, event_types, dlq=dlq)
        await reader.start()
        taps.append(reader)
        return reader

    yield start
    for reader in taps:
        await reader.stop()


@pytest.fixture(scope="session")
async def mongo(infra: Infra) -> AsyncIterator[Any]:
    """A client to inspect the services' databases."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url, tz_aware=True)
    yield client
    await client.close()
