"""Event data for the scenarios: eligible people, topics, sessions (unique per run)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def token() -> str:
    """A short random mark: a scenario's people and sessions are its own."""
    return uuid.uuid4().hex[:8]


def address(mark: str, number: int, *, prefix: str = "agent") -> str:
    """An ordinary address (special-use domains such as .test are refused as invalid)."""
    return f"{prefix}{number}-{mark}@cc-exemple.fr"


def session(session_id: str, *, starts_at: datetime, **overrides: Any) -> dict[str, Any]:
    """session_scheduled data (two hours from `starts_at`)."""
    data: dict[str, Any] = {
        "session_id": session_id,
        "title": "Gouvernance des démarches alimentaires",
        "question": "Quelles instances de gouvernance, et comment les animer ?",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Paris",
        "join_url": f"https://visio.caprural.org/pat/{session_id}",
        "sequence": 0,
    }
    data.update(overrides)
    return data


def next_year_tuesday() -> datetime:
    """A Tuesday 10:00 Paris (09:00 UTC in winter) in March of next year: no holiday."""
    year = datetime.now(UTC).year + 1
    day = datetime(year, 3, 15, 9, 0, tzinfo=UTC)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def topic(title: str, *, email: str, name: str = "Cap Rural") -> dict[str, Any]:
    """topic_proposed data."""
    return {
        "title": title,
        "question": f"Comment avancer sur : {title.lower()} ?",
        "description": "Proposé pendant les entretiens.",
        "proposed_by": {"email": email, "name": name},
        "origin": "coordinator",
    }


TOPIC_TITLES = (
    "Gouvernance alimentaire",
    "Restauration collective",
    "Foncier agricole",
    "Précarité alimentaire",
    "Financement des PAT",
    "Évaluation des démarches",
    "Circuits courts",
)
