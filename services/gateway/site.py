"""What the pages need, built once by the composition root (or by a test)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from services.gateway.unit import Unit
from shared.clock import Clock, system_clock
from shared.kafka import Emission
from shared.links import Links
from shared.settings import Settings


class Publisher(Protocol):
    """Publishes the gateway's events (shared.kafka.EventPublisher, or a test's recorder)."""

    async def publish(self, emissions: Sequence[Emission]) -> None:
        """Publish in order; return once the broker has every one of them."""
        ...


Probe = Callable[[], Awaitable[dict[str, bool]]]
"""Readiness: which dependencies answer (kafka, mongodb)."""


@dataclass(frozen=True)
class Site:
    """The pages' dependencies: links, storage, publishing, time and the settings used."""

    links: Links
    publisher: Publisher
    open_unit: Callable[[], Unit]
    """A unit of work outside any transaction (each page write is one atomic operation)."""
    clock: Clock
    base_url: str
    """PUBLIC_BASE_URL: the calendar's absolute links; its path prefixes the pages' links."""
    capacity: int
    confirmations_per_hour: int
    link_ttl_days: int
    ready: Probe

    @property
    def root(self) -> str:
        """The path the pages live under ('' at the root of the host)."""
        return urlsplit(self.base_url).path.rstrip("/")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        publisher: Publisher,
        open_unit: Callable[[], Unit],
        ready: Probe,
        clock: Clock | None = None,
    ) -> Site:
        """The site of a deployment (LINK_SECRET is required: it signs the links)."""
        now = clock or system_clock
        links = Links(
            secret=settings.required_link_secret(),
            base_url=settings.public_base_url,
            ttl_days=settings.link_ttl_days,
            clock=now,
        )
        return cls(
            links=links,
            publisher=publisher,
            open_unit=open_unit,
            clock=now,
            base_url=settings.public_base_url.rstrip("/"),
            capacity=settings.session_capacity,
            confirmations_per_hour=settings.confirmations_per_hour,
            link_ttl_days=settings.link_ttl_days,
            ready=ready,
        )
