"""What the notifications handlers may ask of storage: the unit of work and its repositories.

Two repositories, apart: the recipients projection (who gets what: members,
participations, sessions, programmes; recipients.py) and the deliveries (what is to be
sent: contents and one delivery per recipient; deliveries.py, which also serves the
sender outside transactions). In-memory twins: tests/fakes/notifications.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.notifications.domain import Recipient
from services.notifications.records import (
    Dispatch,
    Interest,
    Member,
    Participation,
    ProgrammeVersion,
    SessionVersion,
)
from shared.unit_of_work import UnitOfWork


class Recipients(Protocol):
    """The recipients projection, built from the other services' facts."""

    async def add_member(self, member_id: str, recipient: Recipient) -> bool:
        """Record a member unless already known (never over the tombstone of one who left
        or was erased); True when the member is new."""
        ...

    async def member(self, member_id: str) -> Member | None:
        """A member (or their tombstone)."""
        ...

    async def mark_left(self, member_id: str, recipient: Recipient) -> None:
        """The member left: nothing more is sent to them (the record stays a tombstone)."""
        ...

    async def mark_erased(self, member_id: str) -> Member | None:
        """Keep only a tombstone; return the member as they were, if known."""
        ...

    async def active_members(self) -> list[Recipient]:
        """Members who have not left, in a stable order. Reading the roster and changing
        it conflict: a fan-out and a registration never miss each other."""
        ...

    async def save_participation(self, participation: Participation, *, as_of: datetime) -> bool:
        """Apply a participant's change unless a later one is already known."""
        ...

    async def participants(self, session_id: str, statuses: Sequence[str]) -> list[Recipient]:
        """A session's participants in the given statuses, in order of their facts."""
        ...

    async def withdraw_person(self, email_key: str, *, as_of: datetime) -> None:
        """Someone left the group: none of their participations gets emails any more."""
        ...

    async def forget_participations(self, email_key: str) -> None:
        """Remove every participation of the person (erasure)."""
        ...

    async def enrolled(self, session_id: str) -> int:
        """How many hold a place in the session (as far as the facts read so far say)."""
        ...

    async def forget_person(self, person: str) -> None:
        """Remove the participations and the interest of a person, by pseudonym."""
        ...

    async def save_interest(self, interest: Interest) -> None:
        """Put a person on the interest list, or replace their topics."""
        ...

    async def remove_interest(self, person: str) -> None:
        """Take a person (by pseudonym) off the interest list."""
        ...

    async def experts(
        self, session_id: str, statuses: Sequence[str] = ("accepted",)
    ) -> list[Recipient]:
        """The session's experts in these statuses (by default, those who accepted)."""
        ...

    async def save_expert(self, session_id: str, expert: Recipient, status: str) -> None:
        """Record an expert's state for a session: invited, accepted or declined."""
        ...

    async def interested_in(self, topic_id: str | None) -> list[Recipient]:
        """The people told of sessions on `topic_id` (those who chose every session, and
        those who chose this topic), in a stable order."""
        ...

    async def session(self, session_id: str) -> SessionVersion | None:
        """The latest known version of a session."""
        ...

    async def save_session(self, version: SessionVersion) -> None:
        """Store a session version (the caller checked it is newer); cancelled is sticky."""
        ...

    async def upcoming_sessions(self, now: datetime) -> list[SessionVersion]:
        """Sessions not cancelled that have not started yet, earliest first."""
        ...

    async def programme(self, year: int) -> ProgrammeVersion | None:
        """The latest known version of a year's programme."""
        ...

    async def save_programme(self, version: ProgrammeVersion) -> None:
        """Store a year's programme (the caller checked it is the latest version)."""
        ...

    async def current_programmes(self, year: int) -> list[ProgrammeVersion]:
        """The programmes of `year` and the following years, earliest first."""
        ...

    async def forget_author(self, author_id: str) -> None:
        """Remove an erased person's contributions (by pseudonym) from the programmes."""
        ...


class Deliveries(Protocol):
    """What is to be sent: contents, and one delivery per (cause, recipient, kind)."""

    async def plan(self, dispatch: Dispatch, *, now: datetime) -> int:
        """Store a dispatch (its content once, a delivery per new recipient), due at `now`
        in the order planned; return how many deliveries are new."""
        ...

    async def cancel_pending(self, person: str, *, kinds: Sequence[str], keep: bool) -> int:
        """Drop what is still to be sent to a person (by pseudonym): the `kinds` given,
        or, with `keep`, every kind but those."""
        ...

    async def cancel_pending_to_others(
        self, cause_id: str, kind: str, *, keep: Sequence[str]
    ) -> int:
        """Drop what is still to be sent, for one cause and kind, to anyone not in `keep`
        (pseudonyms)."""
        ...

    async def erase_person(self, person: str) -> None:
        """Scrub a person (by pseudonym) from deliveries and contents (a pending one once
        sent)."""
        ...

    async def forget_author(self, author_id: str) -> None:
        """Remove an erased person's contributions from the stored contents."""
        ...


class Unit(UnitOfWork):
    """The notifications service's unit of work."""

    recipients: Recipients
    deliveries: Deliveries
