"""Test data every suite shares: a registration, a member, the text of stored documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any


def registration(email: str, **overrides: Any) -> dict[str, Any]:
    """registration_requested data of an eligible person (a usual spelling: "pat")."""
    data: dict[str, Any] = {
        "email": email,
        "first_name": "Camille",
        "last_name": "Martin",
        "role": "Chargée de mission",
        "organisation": "CC Exemple",
        "territory": "Exemple",
        "approach": "pat",
        "topics_of_interest": ["Gouvernance"],
        "consent": True,
    }
    data.update(overrides)
    return data


def member(email: str, *, member_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """member_registered data, as the registration service publishes it."""
    data: dict[str, Any] = {
        "member_id": member_id or f"m-{uuid.uuid4().hex[:12]}",
        "email": email,
        "first_name": "Camille",
        "last_name": "Martin",
        "role": "charge_de_mission",
        "organisation": "CC Exemple",
        "territory": "Pays d'Exemple",
        "approach": "PAT",
        "topics_of_interest": [],
        "registered_at": datetime.now(UTC).isoformat(),
    }
    data.update(overrides)
    return data


def texts(value: Any) -> Iterator[str]:
    """Every key and value of a stored document; bytes (stored event bodies) decoded."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts(item)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
    else:
        yield str(value)


def event(event_type: str, data: dict[str, Any], **envelope: Any) -> Any:
    """A contract event of `event_type` carrying `data` (validated, a fresh id)."""
    from shared.contract import event_model
    from tests.harness.kafka import cloudevent

    return event_model(event_type).model_validate(cloudevent(event_type, data, **envelope))
