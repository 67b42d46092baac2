"""Fixtures: the servers once per session, a fresh topic prefix and databases per test."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from tests.harness.infra import Infra, MailServer, embedded_infra, make_settings
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


FIGURES = Path(__file__).resolve().parents[1] / "var" / "reliability" / "last-run.json"
_STARTED_AT = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the reliability scenarios' figures when this run wrote them (by this process
    or by the xdist worker that ran the scenarios: tests/reliability/conftest.py)."""
    if not FIGURES.exists() or FIGURES.stat().st_mtime < _STARTED_AT:
        return
    terminalreporter.section("reliability figures")
    for scenario, values in json.loads(FIGURES.read_text())["scenarios"].items():
        line = ", ".join(f"{key}={value}" for key, value in values.items())
        terminalreporter.write_line(f"{scenario}: {line}")
