"""What the gateway may ask of storage: the unit of work and its repositories.

`repository.py` implements these on MongoDB; tests/fakes/gateway.py holds the in-memory
twins. The Kafka handlers get a unit bound to the inbox's transaction; the web pages
open one outside any transaction (their writes are single atomic operations).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from services.gateway.records import Place, SessionRecord, UsedLink
from shared.unit_of_work import UnitOfWork


class Sessions(Protocol):
    """The gateway's view of the sessions."""

    async def find(self, session_id: str) -> SessionRecord | None:
        """The known session, if any."""
        ...

    async def save(self, record: SessionRecord) -> None:
        """Store the session's latest version (the caller decided it is newer)."""
        ...

    async def starting_from(self, moment: datetime, *, limit: int) -> list[SessionRecord]:
        """Sessions (cancelled ones included) starting at `moment` or later, earliest first."""
        ...


class Places(Protocol):
    """Participants by stage, to count the places taken."""

    async def advance(self, place: Place) -> None:
        """Move the participant to `place.stage`, unless they already stand further."""
        ...

    async def enrolled(self, session_ids: Iterable[str]) -> dict[str, int]:
        """How many hold a place, per session (absent: none)."""
        ...


class UsedLinks(Protocol):
    """The one-click links that did their action."""

    async def find(self, link_id: str) -> UsedLink | None:
        """The use of this link, if it was used."""
        ...

    async def add(self, used: UsedLink) -> None:
        """Record a use; when the link was already recorded, the first use stays."""
        ...


class Confirmations(Protocol):
    """Confirmation emails asked for, per person (pseudonym) and hour."""

    async def take(self, person: str, hour: datetime, *, limit: int) -> bool:
        """Count one more for this person and hour; False when over `limit`."""
        ...

    async def forget_person(self, person: str) -> None:
        """Delete every counter of this person (erasure)."""
        ...


class Unit(UnitOfWork):
    """The gateway's unit of work."""

    sessions: Sessions
    places: Places
    links: UsedLinks
    confirmations: Confirmations
