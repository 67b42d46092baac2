"""What the notifications service keeps, as typed records (pure: no I/O).

The recipients projection (members, participations, sessions, programmes) is built from
the other services' facts; a `Dispatch` is what a handler decides to send, stored as one
`Content` and one `Delivery` per recipient, which the sender then works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from services.notifications.domain import Recipient, content_id
from shared.contract.notifications import EmailKind

ParticipationStatus = Literal["enrolled", "waitlisted", "withdrawn", "session_cancelled"]


@dataclass(frozen=True)
class Member:
    """A member as the projection knows them (a tombstone once left or erased)."""

    member_id: str
    recipient: Recipient | None
    left: bool = False
    erased: bool = False


@dataclass(frozen=True)
class Participation:
    """A person's place in a session, as of a fact's time (`recipient` None: the record
    only says "no longer invited", and must never bring an erased address back)."""

    participant_id: str
    session_id: str
    status: ParticipationStatus
    recipient: Recipient | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Interest:
    """Someone on the interest list: told of new sessions on their topics (all, if none)."""

    recipient: Recipient
    topic_ids: tuple[str, ...] = ()

    def wants(self, topic_id: str | None) -> bool:
        """Whether a session on `topic_id` (None: no programme topic) concerns them."""
        return not self.topic_ids or (topic_id is not None and topic_id in self.topic_ids)


@dataclass(frozen=True)
class SessionVersion:
    """The latest known version of a session, and the event that announced it."""

    session_id: str
    sequence: int
    starts_at: datetime
    data: dict[str, Any]
    event_id: str
    event_type: str
    event_time: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class ProgrammeVersion:
    """The latest known version of a year's programme, and the event that published it."""

    year: int
    version: int
    data: dict[str, Any]
    event_id: str
    event_type: str
    event_time: datetime


@dataclass(frozen=True)
class Dispatch:
    """One kind of email for one cause, to some recipients.

    `late`: the cause is an earlier event (a member joining after a programme or a
    session was announced), whose deliveries may already exist.
    """

    kind: EmailKind
    cause_id: str
    cause_type: str
    cause_time: datetime
    data: dict[str, Any]
    recipients: tuple[Recipient, ...]
    session_id: str | None = None
    session: dict[str, Any] | None = None
    personal_keys: tuple[str, ...] = ()
    """Pseudonyms of the people the content names (erasure drops it)."""
    erase_after_send: bool = False
    late: bool = False
    places: int | None = None
    """A count the email shows: places left (an announcement), people signed up (an
    expert's invitation)."""

    @property
    def content_id(self) -> str:
        """What every recipient of this dispatch shares."""
        return content_id(cause_id=self.cause_id, kind=self.kind)


@dataclass(frozen=True)
class Content:
    """What one kind of email for one cause is made from."""

    content_id: str
    kind: EmailKind
    cause_id: str
    cause_type: str
    cause_time: datetime
    data: dict[str, Any]
    session: dict[str, Any] | None = None
    places: int | None = None
    traceparent: str | None = None
    """The trace context of the cause's handling (tracing on): the sends join it."""


@dataclass(frozen=True)
class Delivery:
    """One email to one recipient, as the sender sees it."""

    delivery_id: str
    cause_id: str
    cause_type: str
    kind: EmailKind
    content_id: str
    recipient: Recipient | None
    recipient_key: str
    """The recipient's pseudonym (`person_key`): what erasure finds deliveries by."""
    status: str
    attempts: int = 0
    session_id: str | None = None
    subject: str | None = None
    error: str | None = None
    finished_at: datetime | None = None
    erase_after_send: bool = False
    batch: str | None = None
    claim: str | None = None

    @property
    def recipient_address(self) -> str:
        """Where the email goes (empty once erased)."""
        return self.recipient.email if self.recipient else ""
