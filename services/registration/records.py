"""What the registration service stores: members, its view of sessions, participants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.registration.domain import Approach, PlaceStatus, Role, SessionView


@dataclass(frozen=True)
class Member:
    """A member of the group; `email_key` is unique among stored members."""

    member_id: str
    email_key: str
    email: str
    first_name: str
    last_name: str
    role: Role
    organisation: str
    territory: str
    approach: Approach
    topics_of_interest: tuple[str, ...]
    registered_at: datetime
    status: Literal["active", "left"] = "active"


@dataclass(frozen=True)
class SessionRecord:
    """The service's projection of a session (from the scheduling service's facts)."""

    session_id: str
    starts_at: datetime
    ends_at: datetime
    sequence: int
    cancelled: bool = False

    @property
    def view(self) -> SessionView:
        """What the sign-up rules look at."""
        return SessionView(self.session_id, self.starts_at, self.cancelled)


@dataclass(frozen=True)
class Participant:
    """A person holding a place or a waitlist position in one session."""

    participant_id: str
    session_id: str
    email_key: str
    email: str
    first_name: str
    last_name: str
    organisation: str | None
    status: PlaceStatus
    rank: int
    """Order of sign-up within the session (the waitlist's order)."""
    signed_up_at: datetime
    is_member: bool


@dataclass(frozen=True)
class InterestedPerson:
    """Someone on the interest list: told of the sessions on their topics (all, if none)."""

    email_key: str
    email: str
    first_name: str
    last_name: str | None
    organisation: str | None
    topic_ids: tuple[str, ...]
    since: datetime


@dataclass(frozen=True)
class Attendance:
    """One person matched in a session's attendance list (replaced when recorded again);
    an erased person's stays as a count (no key, no address)."""

    session_id: str
    email_key: str | None
    email: str | None
    first_name: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Rating:
    """A person's latest rating of a session they attended (an erased person's stays as
    a figure: no key, no comment)."""

    session_id: str
    email_key: str | None
    rating: int
    comment: str | None
    rated_at: datetime
