"""Small builders shared by the scheduling tests: Paris times, slots, sessions, a clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from services.scheduling.cadence import PARIS, Slot
from services.scheduling.domain import Session

WEBCONFERENCE = "https://visio.example.org"
"""The webconference base URL of the handler tests."""


def paris(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Europe/Paris local time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def slot(year: int, month: int, day: int, hours: tuple[int, int] = (10, 12)) -> Slot:
    """A slot on a day, 10:00-12:00 unless told."""
    return Slot(paris(year, month, day, hours[0]), paris(year, month, day, hours[1]))


def session(session_id: str, on: Slot, **changes: Any) -> Session:
    """A live requested session."""
    base = Session(
        session_id=session_id,
        title=f"Session {session_id}",
        question="Comment animer une démarche alimentaire ?",
        slot=on,
        join_url=f"https://visio.example.org/{session_id}",
    )
    return replace(base, **changes)


class FakeClock:
    """A settable clock: tests move time instead of waiting for days."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self.now = moment
