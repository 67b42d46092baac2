"""What the registration handlers may ask of storage: the unit of work and its repositories.

`repository.py` implements these on MongoDB; the tests have in-memory ones
(tests/fakes/registration.py), held to the same behaviour by tests/registration/
test_storage_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from services.registration.records import (
    Attendance,
    InterestedPerson,
    Member,
    Participant,
    Rating,
    SessionRecord,
)
from shared.unit_of_work import UnitOfWork


class Members(Protocol):
    """Members, and the tombstones of erased ones."""

    async def find(self, email_key: str) -> Member | None:
        """The stored member (active or left) with this address key."""
        ...

    async def is_active(self, email_key: str) -> bool:
        """True when this address belongs to an active member."""
        ...

    async def find_many(self, email_keys: Iterable[str]) -> dict[str, Member]:
        """The stored members among these address keys, by key."""
        ...

    async def add(self, member: Member) -> None:
        """A new member (the address key is unique among members: a race raises)."""
        ...

    async def rejoin(self, member: Member) -> None:
        """A former member joins again: their record is replaced."""
        ...

    async def mark_left(self, member_id: str, *, at: datetime) -> None:
        """The member left (their data is kept until an erasure is asked for)."""
        ...

    async def erase(self, member_id: str, *, at: datetime) -> None:
        """Delete the member's record; keep only that the pseudonymous id was erased."""
        ...


class Sessions(Protocol):
    """The service's view of the sessions (from the scheduling service's facts)."""

    async def find(self, session_id: str) -> SessionRecord | None:
        """The known session, if any."""
        ...

    async def find_many(self, session_ids: Iterable[str]) -> dict[str, SessionRecord]:
        """The known sessions among `session_ids`."""
        ...

    async def save(self, record: SessionRecord) -> None:
        """Store the session's latest state (the caller decided it is newer)."""
        ...

    async def lock(self, session_id: str) -> tuple[int, SessionRecord] | None:
        """The session with its next sign-up rank, or None when unknown. Two transactions
        changing one session's places conflict: they run one after the other."""
        ...


class Participants(Protocol):
    """Places and waitlist positions, one per person and session."""

    async def find(self, session_id: str, email_key: str) -> Participant | None:
        """This person's place or waitlist position in the session, if any."""
        ...

    async def count_places(self, session_id: str) -> tuple[int, int]:
        """(enrolled, waitlisted) in the session."""
        ...

    async def add(self, participant: Participant) -> None:
        """Hold a place or a waitlist position (unique per person and session)."""
        ...

    async def remove(self, participant_id: str) -> None:
        """Give the place up: nothing of the person stays in the session."""
        ...

    async def waitlist(self, session_id: str, *, limit: int) -> list[Participant]:
        """The first `limit` people on the session's waitlist, in order."""
        ...

    async def promote(self, participant_id: str) -> None:
        """Move a waitlisted person to a place."""
        ...

    async def of_person(self, email_key: str) -> list[Participant]:
        """Every place or waitlist position this person holds."""
        ...

    async def of_session(self, session_id: str) -> list[Participant]:
        """Everyone holding a place or a waitlist position in the session, in order."""
        ...

    async def clear_session(self, session_id: str) -> None:
        """Remove every participant of the session."""
        ...

    async def forget_person(self, email_key: str) -> None:
        """Remove every participation of the person (erasure)."""
        ...


class Interested(Protocol):
    """The interest list: one entry per address key."""

    async def find(self, email_key: str) -> InterestedPerson | None:
        """The person's entry, if they are on the list."""
        ...

    async def save(self, person: InterestedPerson) -> None:
        """Put the person on the list, or replace their entry."""
        ...

    async def remove(self, email_key: str) -> bool:
        """Take the person off the list; False when they were not on it."""
        ...


class Attendances(Protocol):
    """Who attended each session (members and participants matched)."""

    async def replace(self, session_id: str, attendees: list[Attendance]) -> None:
        """The session's attendance is now exactly `attendees`."""
        ...

    async def attended(self, session_id: str, email_key: str) -> bool:
        """True when the person is on the session's attendance list."""
        ...

    async def anonymise(self, email_key: str) -> None:
        """Keep the person's attendance as a count only (erasure)."""
        ...


class Ratings(Protocol):
    """The latest rating of each attendee, per session."""

    async def save(self, rating: Rating) -> None:
        """Store the rating, replacing the person's earlier one for the session."""
        ...

    async def anonymise(self, email_key: str) -> None:
        """Keep the person's ratings as figures only (erasure)."""
        ...


class Unit(UnitOfWork):
    """The registration service's unit of work."""

    members: Members
    sessions: Sessions
    participants: Participants
    interested: Interested
    attendances: Attendances
    ratings: Ratings
