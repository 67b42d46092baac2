"""Inbound payloads and a running scheduling service with a fake clock, for integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any

from faststream.asgi import AsgiFastStream

from services.scheduling.app import create_app
from shared.settings import Settings
from tests.harness.services import running
from tests.scheduling.builders import FakeClock, paris

SESSION_EVENTS = (
    "session_scheduled",
    "session_rescheduled",
    "session_cancelled",
    "session_rejected",
)


@asynccontextmanager
async def scheduling(settings: Settings, clock: FakeClock) -> AsyncIterator[AsgiFastStream]:
    """The scheduling service, in this event loop, on `clock`."""
    async with running(partial(create_app, clock=clock), settings) as app:
        yield app


def schedule_request(start: datetime, end: datetime, title: str = "Lancement") -> dict[str, Any]:
    """session_schedule_requested data."""
    return {
        "title": title,
        "question": "Quel programme pour le groupe d'échange ?",
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
    }


def day_request(year: int, month: int, day: int, title: str) -> dict[str, Any]:
    """A 10:00-12:00 request on a day."""
    return schedule_request(paris(year, month, day, 10), paris(year, month, day, 12), title)


def programme(version: int, topic_ids: list[str], *, year: int = 2020) -> dict[str, Any]:
    """programme_published data: the topics in rank order."""
    return {
        "programme_id": f"programme-{year}-v{version}",
        "year": year,
        "version": version,
        "topics": [
            {
                "topic_id": topic_id,
                "title": f"Sujet {topic_id}",
                "question": f"Question du sujet {topic_id} ?",
                "rank": rank,
                "score": 100 - rank,
            }
            for rank, topic_id in enumerate(topic_ids, start=1)
        ],
        "ballots": 12,
    }


def data(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads of events."""
    return [e["data"] for e in events]
