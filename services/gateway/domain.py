"""The gateway's pure rules: which version of a session stands, places, open sign-ups."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.gateway.records import SessionRecord


def next_version(stored: SessionRecord | None, incoming: SessionRecord) -> SessionRecord | None:
    """What to store after `incoming`, or None when the stored version stands.

    The three session topics are read apart, so their order is not guaranteed: the
    highest ICS sequence wins, and a cancellation is final (a late `session_scheduled`
    never revives a cancelled session).
    """
    if stored is None:
        return incoming
    if incoming.cancelled:
        if incoming.sequence >= stored.sequence:
            return incoming
        return None if stored.cancelled else replace(stored, cancelled=True)
    if stored.cancelled or incoming.sequence < stored.sequence:
        return None
    return incoming


def is_open(session: SessionRecord, now: datetime) -> bool:
    """Sign-ups are open until the session starts, unless it is cancelled."""
    return not session.cancelled and session.starts_at > now


def places_left(*, capacity: int, enrolled: int) -> int:
    """Places still free (0: sign-ups go to the waitlist)."""
    return max(capacity - enrolled, 0)


def hour_of(moment: datetime) -> datetime:
    """The hour a confirmation is counted in (the rate limit's window)."""
    return moment.replace(minute=0, second=0, microsecond=0)
