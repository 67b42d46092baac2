"""MongoDB adapter: PyMongo's async API (the successor of Motor), one database per service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from shared.settings import Settings

Document = dict[str, Any]


_WORK: ContextVar[str] = ContextVar("caprural_database_work", default="other")

WORKS = ("events", "deliveries", "sweeps", "timers", "requests", "scrape", "queries", "startup")
"""What a service asks its database for: handling events, sending deliveries, the
sender's sweeps, timers, the gateway's requests, metrics scrapes, /status and /report
queries, start-up (indexes); anything else is `other`."""


@contextmanager
def working(work: str) -> Iterator[None]:
    """Count the database commands issued inside (and by the tasks started inside) as
    `work`."""
    token = _WORK.set(work)
    try:
        yield
    finally:
        _WORK.reset(token)


class CommandCounter(monitoring.CommandListener):
    """Counts the commands a client sends, by work and command name (PyMongo's command
    monitoring; its own heartbeats are not commands of the application and are not
    counted). Exposed as `caprural_database_commands_total{work, command}`; what the
    performance budgets of tests/performance assert."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self._children: dict[tuple[str, str], Any] = {}
        self._metric = Counter(
            "caprural_database_commands",
            "MongoDB commands sent, by work (events, deliveries, sweeps, ...) and command.",
            ["work", "command"],
            registry=registry,
        )

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        key = (_WORK.get(), event.command_name)
        count = self.counts.get(key, 0)
        self.counts[key] = count + 1
        if not count:  # a new pair of labels: looked up once, then kept
            self._children[key] = self._metric.labels(*key)
        self._children[key].inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def create_client(
    settings: Settings, *, app_name: str, counter: CommandCounter | None = None
) -> AsyncMongoClient[Document]:
    """A client with timezone-aware datetimes and bounded server selection (its commands
    counted by `counter`, when given)."""
    return AsyncMongoClient(
        settings.mongodb_url.get_secret_value(),
        tz_aware=True,
        appname=app_name,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        retryWrites=True,
        event_listeners=[counter] if counter else [],
    )


def service_database(
    client: AsyncMongoClient[Document], settings: Settings, service: str
) -> AsyncDatabase[Document]:
    """The database a service owns; no service ever reads another's."""
    return client[settings.database_name(service)]


async def ping(client: AsyncMongoClient[Document]) -> bool:
    """True when the server answers."""
    try:
        await client.admin.command("ping")
    except Exception:  # noqa: BLE001 (readiness reports, it does not raise)
        return False
    return True


Database = AsyncDatabase[Document]
"""A service's own database, as its composition root receives it."""
