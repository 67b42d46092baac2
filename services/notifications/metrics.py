"""What notifications adds to the service's metrics: deliveries by status, the age of
the oldest pending delivery (both read from the database at each scrape) and how long
the relay takes to accept an email."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, Histogram

from services.notifications.deliveries import MongoDeliveries
from shared.clock import Clock

STATUSES = ("pending", "sent", "failed", "skipped", "cancelled")


class DeliveryMetrics:
    """The deliveries' gauges and the SMTP send durations, on the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Gauge(
            "caprural_deliveries",
            "Deliveries (one email to one recipient) by status.",
            ["status"],
            registry=registry,
        )
        self.oldest_pending = Gauge(
            "caprural_delivery_oldest_pending_age_seconds",
            "Age of the oldest pending delivery (0 when none is pending).",
            registry=registry,
        )
        self.smtp_send = Histogram(
            "caprural_smtp_send_duration_seconds",
            "How long the relay took to answer one email, by outcome (sent, refused, "
            "failed: to be retried).",
            ["outcome"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )

    async def refresh(self, store: MongoDeliveries, clock: Clock) -> None:
        """Read the census of deliveries into the gauges."""
        census = await store.census()
        for status in {*STATUSES, *census.counts}:
            self.deliveries.labels(status).set(census.counts.get(status, 0))
        age = (clock() - census.oldest_pending).total_seconds() if census.oldest_pending else 0
        self.oldest_pending.set(max(0.0, age))
