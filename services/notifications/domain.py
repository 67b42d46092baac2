"""Pure rules of the notifications service: who gets which email, keys, retries.

No I/O here: the handlers and the sender call these functions and store the results.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.contract.envelope import ID_NAMESPACE
from shared.contract.notifications import EmailKind
from shared.identity import InvalidAddress, check_address, display_name, email_key, person_key
from shared.links import Audience

SIGNUP_KINDS: frozenset[EmailKind] = frozenset(
    {"signup_confirmation", "signup_waitlist", "signup_promotion"}
)
"""Kinds rendered with the session as known when they are sent (the sessions projection)."""

SESSION_KINDS: frozenset[EmailKind] = frozenset(
    {"session_invitation", "session_update", "session_cancellation", "reminder"}
)
"""Kinds fanned out to the members and the session's participants."""

KEEPS_AFTER_LEAVING: frozenset[EmailKind] = frozenset({"leave_confirmation"})
"""The only kind still sent to someone who has left the group."""

ANNOUNCED_TO_THE_INTERESTED: frozenset[EmailKind] = frozenset({"session_announcement"})
"""What someone who withdrew their interest no longer gets."""

_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Recipient:
    """Someone an email goes to: the address as given, a name for the greeting, and
    which list they are on, if the email comes to them as a list's (what its
    unsubscribe link leaves: the group for a member, the interest list...)."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    audience: Audience | None = None

    @property
    def key(self) -> str:
        """The address compared case-insensitively (the platform's identity of a person)."""
        return email_key(self.email)

    @property
    def person(self) -> str:
        """The pseudonym of the address (what erasure finds stored records by)."""
        return person_key(self.email)

    @property
    def display_name(self) -> str:
        """First and last name, when known."""
        return display_name(self.first_name, self.last_name)


def delivery_id(*, cause_id: str, recipient_key: str, kind: EmailKind) -> str:
    """The unique delivery key: one email per (cause event, recipient, kind)."""
    return str(uuid.uuid5(ID_NAMESPACE, f"delivery/{cause_id}/{recipient_key}/{kind}"))


def content_id(*, cause_id: str, kind: EmailKind) -> str:
    """What every recipient of one kind of email for one event shares."""
    return str(uuid.uuid5(ID_NAMESPACE, f"content/{cause_id}/{kind}"))


def unique_recipients(candidates: Iterable[Recipient]) -> list[Recipient]:
    """One recipient per address (the first one seen wins), in order."""
    seen: set[str] = set()
    chosen: list[Recipient] = []
    for candidate in candidates:
        if candidate.key not in seen:
            seen.add(candidate.key)
            chosen.append(candidate)
    return chosen


def signup_kind(*, status: Literal["enrolled", "waitlisted"], promoted: bool) -> EmailKind:
    """Which email a participant_enrolled warrants."""
    if status == "waitlisted":
        return "signup_waitlist"
    return "signup_promotion" if promoted else "signup_confirmation"


def address_problem(address: str) -> str | None:
    """Why an address cannot be sent to (the platform's one rule), or None when it can."""
    checked = check_address(address)
    return checked.detail if isinstance(checked, InvalidAddress) else None


def header_safe(value: str, *, limit: int = 200) -> str:
    """A single-line header value: no CR/LF or other control character, bounded."""
    line = _SPACES.sub(" ", _UNSAFE_IN_HEADER.sub(" ", value)).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def is_newer_session(*, stored_sequence: int | None, incoming_sequence: int) -> bool:
    """A session event replaces the projection unless an equal or later version is known."""
    return stored_sequence is None or incoming_sequence > stored_sequence


# --- sending outcomes -----------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """The relay accepted the message."""

    at: datetime


@dataclass(frozen=True)
class Refused:
    """Permanent failure (5xx for this recipient or message): given up at once."""

    error: str


@dataclass(frozen=True)
class Deferred:
    """Transient failure (network, timeout, 4xx): tried again later."""

    error: str


@dataclass(frozen=True)
class Skipped:
    """Not sent on purpose (the session was cancelled meanwhile): nothing to announce."""

    reason: str


Outcome = Sent | Refused | Deferred


def outcome_of_code(code: int, message: str) -> Refused | Deferred:
    """An SMTP error reply: 5xx is permanent, anything else is worth retrying."""
    text = header_safe(f"{code} {message}", limit=500)
    return Refused(text) if 500 <= code < 600 else Deferred(text)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for deferred deliveries."""

    base_seconds: float = 2.0
    max_seconds: float = 600.0
    max_attempts: int = 50

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt (1-based)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** min(max(attempts - 1, 0), 30))
        return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))

    def gives_up(self, attempts: int) -> bool:
        """True once a delivery has been tried as often as allowed."""
        return attempts >= self.max_attempts
