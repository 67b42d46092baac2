"""Event data as the other services publish it, with unique addresses per test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from icalendar import Calendar

from shared.devstack.mailsink import Received
from tests.harness import data


def token() -> str:
    """A short random mark, so that addresses never collide between tests."""
    return uuid.uuid4().hex[:8]


def member(
    email: str, *, first_name: str = "Camille", member_id: str | None = None
) -> dict[str, Any]:
    """member_registered data (registered on 6 January 2020)."""
    return data.member(
        email,
        member_id=member_id,
        first_name=first_name,
        registered_at="2020-01-06T09:00:00+00:00",
    )


def session(session_id: str, **overrides: Any) -> dict[str, Any]:
    """session_scheduled data: Tuesday 17 March 2020, 10:00-12:00 in Paris."""
    values: dict[str, Any] = {
        "session_id": session_id,
        "title": "Gouvernance des démarches alimentaires",
        "question": "Quelles instances de gouvernance, et comment les animer ?",
        "starts_at": "2020-03-17T09:00:00+00:00",
        "ends_at": "2020-03-17T11:00:00+00:00",
        "timezone": "Europe/Paris",
        "join_url": f"https://visio.caprural.org/pat/{session_id}",
        "sequence": 0,
    }
    values.update(overrides)
    return values


def enrolment(session_id: str, email: str, **overrides: Any) -> dict[str, Any]:
    """participant_enrolled data (a confirmed place unless told otherwise)."""
    values: dict[str, Any] = {
        "session_id": session_id,
        "participant_id": f"p-{uuid.uuid4().hex[:12]}",
        "email": email,
        "first_name": "Dominique",
        "last_name": "Durand",
        "status": "enrolled",
        "waitlist_position": None,
        "promoted": False,
        "is_member": False,
    }
    values.update(overrides)
    return values


def html_part(message: EmailMessage) -> str:
    """The HTML alternative of a received message."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def text_part(message: EmailMessage) -> str:
    """The plain-text alternative of a received message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def calendar_of(message: EmailMessage) -> tuple[str, Calendar]:
    """The text/calendar part's method parameter and the parsed calendar."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            raw = part.get_payload(decode=True)
            assert isinstance(raw, bytes)
            return str(part.get_param("method")), Calendar.from_ical(raw)
    raise AssertionError(f"no text/calendar part in {message['Subject']!r}")


def subjects(received: list[Received]) -> list[str]:
    """The subjects of received messages."""
    return [str(r.message["Subject"]) for r in received]


def now() -> str:
    """The current time, RFC 3339."""
    return datetime.now(UTC).isoformat()
