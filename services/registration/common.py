"""What every handler shares: its dependencies, and processing an event once (Inbox)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.registration.domain import EmailAddress, Refusal, check_email, person_tag
from services.registration.records import SessionRecord
from services.registration.repository import Repository
from shared.contract import CloudEvent
from shared.errors import PoisonMessage
from shared.inbox import Inbox, Work
from shared.kafka import Emission, EventPublisher

Clock = Callable[[], datetime]
Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once by the service's composition root."""

    inbox: Inbox
    repository: Repository
    publisher: EventPublisher
    clock: Clock
    capacity: int


async def settle(
    event: CloudEvent[Any],
    work: Work,
    deps: Deps,
    *,
    keys: Sequence[str],
    others: bool = False,
) -> list[Emission]:
    """Process once (Inbox), tag the record with everyone it names, publish."""
    emissions = await deps.inbox.process(event, work, keys=keys)
    if others:
        extra = set(people_named(emissions)) - set(keys)
        if extra:
            await deps.repository.tag_processed(event.id, extra)
    await deps.publisher.publish(emissions)
    return emissions


def people_named(emissions: Iterable[Emission]) -> Iterable[str]:
    """The pseudonymous tags of every address the emissions carry."""
    for emission in emissions:
        email = json.loads(emission.body)["data"].get("email")
        if isinstance(email, str):
            yield person_tag(email)


def address_or_poison(email: str) -> EmailAddress:
    """The valid address of a request that names an existing person, else poison."""
    address = check_email(email)
    if isinstance(address, Refusal):
        # The address stays out of the error: it ends up in headers and logs.
        raise PoisonMessage("invalid email address in data.email (no such person can exist)")
    return address


def upcoming(record: SessionRecord, now: datetime) -> bool:
    """Places of a session change only before it starts, and never once cancelled."""
    return not record.cancelled and record.starts_at > now
