"""Prometheus metrics, one registry per service, served on its HTTP port at /metrics.

FastStream's Prometheus middleware measures the Kafka side (`faststream_*`: messages
received and published, processing and publishing durations). A service reads all its
topics with one batch consumer, so FastStream labels a batch by its first record's
topic; the per-topic counts are ours (`caprural_*`):

- `caprural_events_consumed_total{topic, outcome}`: `handled` or `dead_lettered`;
- `caprural_handler_duration_seconds{event_type}`: one handler's run (each attempt);
- `caprural_events_published_total{event_type}`;
- `caprural_dead_letters_total{topic, reason}`: `poison` or `retries_exhausted`;
- `caprural_database_commands_total{work, command}`: the MongoDB commands sent, by what
  asked for them (`shared.mongo.CommandCounter`);
- and what a service adds (notifications: deliveries by status, the oldest pending
  delivery's age, SMTP send durations), some of it read from its database at scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from shared.mongo import CommandCounter, working

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
Refresh = Callable[[], Awaitable[None]]


class Metrics:
    """One service's metrics (its own registry: several services may share a process)."""

    def __init__(self, *, service: str) -> None:
        self.registry = CollectorRegistry()
        self.middleware = KafkaPrometheusMiddleware(registry=self.registry, app_name=service)
        self.consumed = Counter(
            "caprural_events_consumed",
            "Events read from Kafka, by topic and outcome (handled, dead_lettered).",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.handler_duration = Histogram(
            "caprural_handler_duration_seconds",
            "How long one event's handler ran (each attempt), by event type.",
            ["event_type"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.published = Counter(
            "caprural_events_published",
            "Events published, by type.",
            ["event_type"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "caprural_dead_letters",
            "Records dead-lettered, by source topic and reason (poison, retries_exhausted).",
            ["topic", "reason"],
            registry=self.registry,
        )
        self.commands = CommandCounter(self.registry)
        self._refreshes: list[Refresh] = []

    def on_scrape(self, refresh: Refresh) -> None:
        """Run `refresh()` before each scrape (gauges read from the database)."""
        self._refreshes.append(refresh)

    async def exposition(self) -> bytes:
        """The text format Prometheus scrapes (gauges refreshed first; a refresh that
        fails leaves its gauges as they were, and says so in the log)."""
        for refresh in self._refreshes:
            try:
                with working("scrape"):
                    await refresh()
            except Exception:
                logger.warning("a metrics refresh failed", exc_info=True)
        return generate_latest(self.registry)
