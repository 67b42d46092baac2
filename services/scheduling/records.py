"""What the scheduling service keeps of the session cycle, as typed records: the questions
asked before a session, the state of its digest, its latest compte rendu, and the
experts invited to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

InvitationStatus = Literal["invited", "accepted", "declined"]


@dataclass(frozen=True)
class Question:
    """A question accepted for a session (once per `session_question_accepted` id)."""

    question_id: str
    """The accepting event's id."""
    session_id: str
    number: int
    """Its rank among the session's questions (1, 2...): the digest holds those up to
    the count it was taken with, later ones are forwarded on their own."""
    person: str
    """The asker's pseudonym (`shared.identity.person_key`): what erasure finds."""
    asked_by: str
    text: str
    asked_at: datetime


@dataclass(frozen=True)
class Digest:
    """A session's questions counted, and its digest once taken."""

    session_id: str
    asked: int = 0
    """Questions counted so far (the last one's number)."""
    sent_at: datetime | None = None
    """When the digest was taken (the business time): from then on, questions are
    forwarded one by one."""
    included: int = 0
    """The digest holds the questions numbered up to this."""
    published: bool = False
    """Its publication is confirmed (until then, a timer re-publishes it, same id)."""

    @property
    def sent(self) -> bool:
        """The digest was taken: a question now is forwarded on its own."""
        return self.sent_at is not None


@dataclass(frozen=True)
class Resource:
    """A link shared with a compte rendu."""

    title: str
    url: str


@dataclass(frozen=True)
class Report:
    """The latest compte rendu of a session; `version` counts the reports (1, 2...)."""

    session_id: str
    version: int
    summary: str
    resources: tuple[Resource, ...]
    next_steps: tuple[str, ...]
    expertise_needs: tuple[str, ...]
    report_id: str
    """The id of the `session_report_published` it came from."""
    published_at: datetime


@dataclass(frozen=True)
class Invitation:
    """An expert invited to a session: one per session and address key, whatever the
    requests; its status follows their answers."""

    session_id: str
    email: str
    """The address as the coordinator gave it (where the emails go)."""
    key: str
    """Its comparison key (`shared.identity.check_address`)."""
    person: str
    """Its pseudonym (`shared.identity.person_key`): what erasure finds."""
    first_name: str
    last_name: str
    organisation: str
    expertise: str
    message: str | None
    status: InvitationStatus
    invited_at: datetime
    answered_at: datetime | None = None
    note: str | None = None
    """Their note with their latest answer, if any."""
    no_answer_at: datetime | None = None
    """When the coordinators were told of their silence (once per invitation)."""
