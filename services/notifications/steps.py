"""From a handler's decision to a Step: the dependencies, the dispatches, the render check.

A handler decides which emails an event warrants (`Dispatch`es) inside the batch
transaction that records the event id (`shared.inbox.Step`), so a redelivered event
has no second effect; once committed, the background sender is woken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.notifications.domain import SIGNUP_KINDS, Recipient
from services.notifications.letters import letter_for, parse_cause
from services.notifications.outbox import Dispatch
from services.notifications.rendering import Renderer
from services.notifications.repository import Repository
from shared.contract import CloudEvent
from shared.contract.notifications import EmailKind
from shared.contract.scheduling import SessionData
from shared.inbox import Step
from shared.kafka import Emission, EventPublisher
from shared.settings import Settings

Clock = Callable[[], datetime]
Tx = AsyncClientSession
Decide = Callable[[Tx], Awaitable[Sequence[Dispatch]]]
SESSION_FIELDS = frozenset(SessionData.model_fields)


def system_clock() -> datetime:
    """The real time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """What the handlers and the sender need, built once at start-up."""

    repo: Repository
    renderer: Renderer
    publisher: EventPublisher
    settings: Settings
    clock: Clock
    wake: asyncio.Event


def dispatch(
    event: CloudEvent[Any], kind: EmailKind, recipients: Sequence[Recipient], **extra: Any
) -> Dispatch:
    """One kind of email for `event`, to `recipients`."""
    return Dispatch(
        kind=kind,
        cause_id=event.id,
        cause_type=event.type,
        cause_time=event.time,
        data=event.data.model_dump(mode="json"),
        recipients=tuple(recipients),
        **extra,
    )


def personal(
    event: CloudEvent[Any], kind: EmailKind, recipient: Recipient, **extra: Any
) -> Dispatch:
    """An email to one person, made from data about them (erasable by their address)."""
    return dispatch(event, kind, [recipient], personal_keys=(recipient.key,), **extra)


def record(event: CloudEvent[Any], deps: Deps, decide: Decide) -> Step:
    """The step that runs `decide` once for the event id and stores the deliveries it
    asks for; once committed, the sender is woken."""

    async def work(session: Tx) -> list[CloudEvent[Any]]:
        now = deps.clock()
        for position, planned in enumerate(await decide(session)):
            check_renders(planned, deps)
            # A millisecond apart: the sender sends them in the order decided.
            due = now + timedelta(milliseconds=position)
            fresh = planned.cause_id == event.id
            await deps.repo.add(planned, now=due, session=session, fresh=fresh)
        return []

    async def wake_sender(emissions: list[Emission]) -> None:
        deps.wake.set()

    return Step(event, work, after=wake_sender)


def check_renders(planned: Dispatch, deps: Deps) -> None:
    """Render the first email now: a broken template fails the event, loudly."""
    if not planned.recipients or (planned.kind in SIGNUP_KINDS and planned.session is None):
        return
    cause = parse_cause(
        planned.kind,
        planned.data,
        time=planned.cause_time,
        organizer=deps.settings.mail_from,
        session=planned.session,
    )
    deps.renderer.render(letter_for(cause), planned.recipients[0])


def late_announcement(known: dict[str, Any], member: Recipient) -> Dispatch:
    """A member who joins after the year's programme was published receives it as well
    (same cause as the fan-out's, so one announcement whichever is processed first)."""
    return Dispatch(
        kind="programme_announcement",
        cause_id=known["event_id"],
        cause_type=known["event_type"],
        cause_time=known["event_time"],
        data=known["data"],
        recipients=(member,),
    )


def late_invitation(known: dict[str, Any], member: Recipient) -> Dispatch:
    """A member who joins after a session was announced is invited to it as well.

    The cause is the event that announced the session's current version, so that the
    delivery key is the one the fan-out would have used: one invitation either way.
    """
    fields = {name: value for name, value in known["data"].items() if name in SESSION_FIELDS}
    return Dispatch(
        kind="session_invitation",
        cause_id=known["event_id"],
        cause_type=known["event_type"],
        cause_time=known["event_time"],
        data=fields,
        recipients=(member,),
        session_id=known["_id"],
    )
