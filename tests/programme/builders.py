"""Payloads of the events the programme service reads, for integration tests."""

from __future__ import annotations

import uuid
from typing import Any

from tests.harness import data


def unique_email(local: str = "agent") -> str:
    """An address no other test uses."""
    return f"{local}.{uuid.uuid4().hex[:8]}@cc-exemple.fr"


def proposal(
    title: str,
    *,
    email: str = "camille.martin@cc-exemple.fr",
    name: str = "Camille Martin",
    question: str = "Comment faire ?",
    origin: str = "member",
) -> dict[str, Any]:
    """topic_proposed data."""
    return {
        "title": title,
        "question": question,
        "proposed_by": {"email": email, "name": name},
        "origin": origin,
    }


def member(email: str, *, first_name: str = "Camille", last_name: str = "Martin") -> dict[str, Any]:
    """member_registered data (as the registration service publishes it)."""
    return data.member(email, first_name=first_name, last_name=last_name)
