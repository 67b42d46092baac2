"""What the gateway stores: its view of sessions, places by stage, used links, counters.

Nothing here names a person: participants are their pseudonymous ids, confirmation
counters are kept per pseudonym (`person_key`), used links by their event id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from shared.contract.scheduling import SessionData


@dataclass(frozen=True)
class SessionRecord:
    """The gateway's projection of a session (from the scheduling service's facts)."""

    session_id: str
    topic_id: str | None
    title: str
    question: str
    starts_at: datetime
    ends_at: datetime
    join_url: str
    sequence: int
    changed_at: datetime
    """When the version kept was announced (the DTSTAMP of the feed)."""
    cancelled: bool = False

    @classmethod
    def of(cls, data: SessionData, *, at: datetime, cancelled: bool = False) -> SessionRecord:
        """The record of one version of a session, as the contract carries it."""
        return cls(
            session_id=data.session_id,
            topic_id=data.topic_id,
            title=data.title,
            question=data.question,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            join_url=data.join_url,
            sequence=data.sequence,
            changed_at=at,
            cancelled=cancelled,
        )

    def as_data(self) -> SessionData:
        """The contract's view of this version (what shared/calendar.py builds from)."""
        return SessionData(
            session_id=self.session_id,
            topic_id=self.topic_id,
            title=self.title,
            question=self.question,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            join_url=self.join_url,
            sequence=self.sequence,
        )


class Stage(IntEnum):
    """Where a participant stands; a participant only ever moves forward (the facts come
    from two topics, so a withdrawal may be read before the enrolment it ends)."""

    WAITLISTED = 1
    ENROLLED = 2
    WITHDRAWN = 3


@dataclass(frozen=True)
class Place:
    """One participant of one session (a pseudonymous id, never an address)."""

    participant_id: str
    session_id: str
    stage: Stage


@dataclass(frozen=True)
class UsedLink:
    """A one-click link that did its action: by the id of the event it published."""

    link_id: str
    action: str
    used_at: datetime
