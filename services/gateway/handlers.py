"""Gateway handlers: `verb_object(event, uow, deps)`; they keep what the pages show.

They emit nothing: the gateway publishes only what people ask for on its pages. The
inbox runs each once per event id, in a transaction (shared/inbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.gateway.domain import next_version
from services.gateway.records import Place, SessionRecord, Stage
from services.gateway.unit import Unit
from shared.contract import CloudEvent
from shared.contract.interest import PersonErased
from shared.contract.registration import ParticipantEnrolled, ParticipantWithdrawn
from shared.contract.scheduling import SessionCancelled, SessionRescheduled, SessionScheduled

Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides storage: nothing (the pages have their own, `Site`)."""


async def track_session(
    event: SessionScheduled | SessionRescheduled, uow: Unit, deps: Deps
) -> Emitted:
    """Keep the latest version of a session (the highest ICS sequence wins)."""
    await _store(SessionRecord.of(event.data, at=event.time), uow)
    return []


async def close_session(event: SessionCancelled, uow: Unit, deps: Deps) -> Emitted:
    """The session is cancelled, for good: its page closes, the feed marks it CANCELLED."""
    await _store(SessionRecord.of(event.data, at=event.time, cancelled=True), uow)
    return []


async def take_place(event: ParticipantEnrolled, uow: Unit, deps: Deps) -> Emitted:
    """A participant holds a place, or waits on the list (never their address: their id)."""
    data = event.data
    stage = Stage.ENROLLED if data.status == "enrolled" else Stage.WAITLISTED
    await uow.places.advance(Place(data.participant_id, data.session_id, stage))
    return []


async def free_place(event: ParticipantWithdrawn, uow: Unit, deps: Deps) -> Emitted:
    """A participant gave up their place (or waitlist position): it is free again."""
    data = event.data
    await uow.places.advance(Place(data.participant_id, data.session_id, Stage.WITHDRAWN))
    return []


async def forget_person(event: PersonErased, uow: Unit, deps: Deps) -> Emitted:
    """Erasure: the person's confirmation counters go (nothing else names them)."""
    await uow.confirmations.forget_person(event.data.person)
    return []


async def _store(incoming: SessionRecord, uow: Unit) -> None:
    kept = next_version(await uow.sessions.find(incoming.session_id), incoming)
    if kept is not None:
        await uow.sessions.save(kept)
