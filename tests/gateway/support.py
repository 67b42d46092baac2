"""Builders for the gateway's tests: sessions, participants, links and a site in memory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.gateway import handlers
from services.gateway.handlers import Deps
from services.gateway.site import Site
from services.gateway.web import web_app
from shared.links import Link, Links
from tests.fakes.gateway import MemoryUnit, RecordingPublisher
from tests.harness.data import event

NOW = datetime(2020, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "gateway-tests-secret-0123456789abcdef"
BASE_URL = "https://pat.caprural.test"
DEPS = Deps()


def session_data(
    session_id: str, *, starts_at: datetime, sequence: int = 0, **extra: Any
) -> dict[str, Any]:
    """session_scheduled / rescheduled / cancelled data."""
    return {
        "session_id": session_id,
        "topic_id": f"topic-{session_id}",
        "title": f"Séance {session_id}",
        "question": "Quelles instances de gouvernance pour un PAT ?",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "join_url": "https://visio.caprural.org/pat/s",
        "sequence": sequence,
        **extra,
    }


def scheduled(session_id: str, *, starts_at: datetime, sequence: int = 0, **extra: Any) -> Any:
    """A session_scheduled event (its time fixed: MongoDB keeps milliseconds only)."""
    data = session_data(session_id, starts_at=starts_at, sequence=sequence, **extra)
    return event("session_scheduled", data, at=NOW)


def rescheduled(session_id: str, *, starts_at: datetime, sequence: int) -> Any:
    """A session_rescheduled event."""
    data = session_data(session_id, starts_at=starts_at, sequence=sequence)
    return event("session_rescheduled", {**data, "previous_starts_at": NOW.isoformat()}, at=NOW)


def cancelled(session_id: str, *, starts_at: datetime, sequence: int) -> Any:
    """A session_cancelled event."""
    data = session_data(session_id, starts_at=starts_at, sequence=sequence)
    return event("session_cancelled", {**data, "reason": "Annulée."}, at=NOW)


def enrolled(
    session_id: str, participant_id: str, *, status: str = "enrolled", **extra: Any
) -> Any:
    """A participant_enrolled event (it carries an address: the gateway must not keep it)."""
    data = {
        "session_id": session_id,
        "participant_id": participant_id,
        "email": f"{participant_id}@commune-exemple.fr",
        "first_name": "Dominique",
        "last_name": "Durand",
        "status": status,
        "waitlist_position": 1 if status == "waitlisted" else None,
        **extra,
    }
    return event("participant_enrolled", data, at=NOW)


def withdrawn(session_id: str, participant_id: str) -> Any:
    """A participant_withdrawn event."""
    data = {
        "session_id": session_id,
        "participant_id": participant_id,
        "email": f"{participant_id}@commune-exemple.fr",
        "reason": "cancelled_by_participant",
    }
    return event("participant_withdrawn", data, at=NOW)


@dataclass
class Clock:
    """A clock a test moves."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """The gateway's pages on an in-memory unit of work, publishing into a recorder."""

    clock: Clock = field(default_factory=Clock)
    uow: MemoryUnit = field(default_factory=MemoryUnit)
    published: RecordingPublisher = field(default_factory=RecordingPublisher)
    capacity: int = 3
    per_hour: int = 3

    def __post_init__(self) -> None:
        self.links = Links(secret=SECRET, base_url=BASE_URL, ttl_days=60, clock=self.clock)

        async def ready() -> dict[str, bool]:
            return {"kafka": True, "mongodb": True}

        self.site = Site(
            links=self.links,
            publisher=self.published,
            open_unit=lambda: self.uow,
            clock=self.clock,
            base_url=BASE_URL,
            capacity=self.capacity,
            confirmations_per_hour=self.per_hour,
            link_ttl_days=60,
            ready=ready,
        )
        self.app = web_app(self.site)

    def client(self) -> httpx.AsyncClient:
        """An HTTP client on the app, in-process."""
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")

    async def schedule(self, session_id: str, *, days: float = 10, **extra: Any) -> None:
        """A session `days` from now (the gateway's handler, as Kafka would run it)."""
        starts_at = self.clock.now + timedelta(days=days)
        await handlers.track_session(
            scheduled(session_id, starts_at=starts_at, **extra), self.uow, DEPS
        )

    async def cancel(self, session_id: str, *, days: float = 10) -> None:
        """Cancel a session."""
        starts_at = self.clock.now + timedelta(days=days)
        event_ = cancelled(session_id, starts_at=starts_at, sequence=1)
        await handlers.close_session(event_, self.uow, DEPS)

    async def fill(self, session_id: str, count: int) -> None:
        """`count` participants hold a place."""
        for _ in range(count):
            pid = f"p-{uuid.uuid4().hex[:10]}"
            await handlers.take_place(enrolled(session_id, pid), self.uow, DEPS)

    def token(self, action: str, **fields: Any) -> str:
        """A signed link's token for `action` (to camille@cc-exemple.fr by default)."""
        return self.links.token(link(action, **fields))


def link(action: str, **fields: Any) -> Link:
    """A link of `action` with what it needs (overridable)."""
    values: dict[str, Any] = {
        "action": action,
        "email": "camille@cc-exemple.fr",
        "nonce": uuid.uuid4().hex,
        "session_id": "s1",
        "first_name": "Camille",
        "last_name": "Martin",
        "organisation": "CC Exemple",
    }
    if action == "unsubscribe":
        values["audience"] = "member"
    if action == "confirm_interest":
        values["topic_ids"] = ("topic-s1",)
    values.update(fields)
    return Link(**values)
