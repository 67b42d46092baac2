"""Builders and probes shared by the registration service's integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from shared.settings import Settings
from tests.harness.data import texts
from tests.harness.kafka import eventually

NOW = datetime.now(UTC)


def token() -> str:
    """A short random marker, so that a test's people are its own."""
    return uuid.uuid4().hex[:8]


def signup(session_id: str, email: str, **overrides: Any) -> dict[str, Any]:
    """session_signup_requested data."""
    data: dict[str, Any] = {
        "session_id": session_id,
        "email": email,
        "first_name": "Dominique",
        "last_name": "Durand",
    }
    data.update(overrides)
    return data


def session_data(
    session_id: str, *, starts_at: datetime, sequence: int = 0, **extra: Any
) -> dict[str, Any]:
    """session_scheduled / rescheduled / cancelled data."""
    return {
        "session_id": session_id,
        "title": "Gouvernance des démarches alimentaires",
        "question": "Quelles instances de gouvernance pour un PAT ?",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "join_url": "https://visio.caprural.org/pat/s",
        "sequence": sequence,
        **extra,
    }


def database(mongo: AsyncMongoClient[dict[str, Any]], settings: Settings) -> Any:
    """The registration service's database."""
    return mongo[settings.database_name("registration")]


async def session_known(mongo: Any, settings: Settings, session_id: str, **match: Any) -> Any:
    """Wait until the service's sessions projection holds the session (in that state)."""
    sessions = database(mongo, settings)["sessions"]
    return await eventually(
        lambda: sessions.find_one({"_id": session_id, **match}),
        timeout=60,
        message=f"session {session_id} in the projection",
    )


async def stored_texts(mongo: Any, settings: Settings) -> dict[str, str]:
    """Collection name -> everything it stores, as lower-case text."""
    db = database(mongo, settings)
    found: dict[str, str] = {}
    for name in await db.list_collection_names():
        documents = [doc async for doc in db[name].find({})]
        found[name] = "\n".join(texts(documents)).lower()
    return found
