"""What every handler shares: its dependencies, and the step the batch consumer runs."""

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
from shared.contract.registration import MemberErased
from shared.errors import PoisonMessage
from shared.inbox import Inbox, Step, Work
from shared.kafka import Emission

Clock = Callable[[], datetime]
Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once by the service's composition root."""

    inbox: Inbox
    repository: Repository
    clock: Clock
    capacity: int


def step(
    event: CloudEvent[Any],
    work: Work,
    deps: Deps,
    *,
    keys: Sequence[str],
    others: bool = False,
    forget: Sequence[str] = (),
) -> Step:
    """The event's processing, for the batch consumer (one transaction per batch).

    `others`: the outputs may name other people than `keys` (promotions, withdrawals);
    their tags are added to the inbox record once published, before the offset is
    committed, so that their own erasure finds it. `forget`: once the events are
    published, scrub every record tagged with these keys (erasure).
    """
    if not others and not forget:
        return Step(event, work, keys=keys)

    async def after(emissions: list[Emission]) -> None:
        extra = set(people_named(emissions)) - set(keys) if others else set()
        if extra:
            await deps.repository.tag_processed(event.id, extra)
        if forget and any(e.event_type == MemberErased.event_type for e in emissions):
            await deps.inbox.forget(forget)

    return Step(event, work, keys=keys, after=after)


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
