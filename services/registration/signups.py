"""Handlers of sessions and places: sign-up, withdrawal, the waitlist, the projection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.registration import events
from services.registration.common import (
    Deps,
    Emitted,
    address_or_poison,
    step,
    upcoming,
)
from services.registration.domain import (
    EmailAddress,
    Refusal,
    already_enrolled,
    check_email,
    names_refusal,
    person_tag,
    place_for,
    promotions,
    signup_refusal,
)
from services.registration.records import Participant, SessionRecord
from shared.contract import CloudEvent
from shared.contract.registration import SessionSignupCancelled, SessionSignupRequested
from shared.contract.scheduling import SessionCancelled, SessionRescheduled, SessionScheduled
from shared.inbox import Step


async def sign_up(event: SessionSignupRequested, deps: Deps) -> Step:
    """participant_enrolled (a place, or the waitlist) or session_signup_rejected."""
    request = event.data
    address = check_email(request.email)
    problem = (
        address
        if isinstance(address, Refusal)
        else names_refusal(request.first_name, request.last_name)
    )

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        outcome: CloudEvent[Any] | Refusal | None = problem
        if outcome is None and isinstance(address, EmailAddress):
            outcome = await _enrol(event, address, deps, session=session, now=now)
        if isinstance(outcome, Refusal):
            return [
                events.signup_rejected(
                    outcome,
                    session_id=request.session_id,
                    email=request.email,
                    first_name=request.first_name,
                    cause=event,
                    at=now,
                )
            ]
        assert outcome is not None
        return [outcome]

    tag = address.person_key if isinstance(address, EmailAddress) else person_tag(request.email)
    return step(event, work, deps, keys=[tag])


async def _enrol(
    event: SessionSignupRequested,
    address: EmailAddress,
    deps: Deps,
    *,
    session: AsyncClientSession,
    now: datetime,
) -> CloudEvent[Any] | Refusal:
    request = event.data
    repository = deps.repository
    locked = await repository.lock_session(request.session_id, session=session)
    refusal = signup_refusal(locked[1].view if locked else None, now=now)
    if refusal is not None:
        return refusal
    assert locked is not None  # an unknown session is refused above
    rank, _ = locked
    if await repository.find_participant(request.session_id, address.key, session=session):
        return already_enrolled()
    enrolled, waitlisted = await repository.count_places(request.session_id, session=session)
    place = place_for(enrolled=enrolled, waitlisted=waitlisted, capacity=deps.capacity)
    participant = Participant(
        participant_id=str(uuid.uuid4()),
        session_id=request.session_id,
        email_key=address.key,
        email=address.given,
        first_name=request.first_name,
        last_name=request.last_name,
        organisation=request.organisation,
        status=place.status,
        rank=rank,
        signed_up_at=now,
        is_member=await repository.is_active_member(address.key, session=session),
    )
    await repository.add_participant(participant, session=session)
    return events.participant_enrolled(
        participant, cause=event, at=now, waitlist_position=place.waitlist_position
    )


async def cancel_signup(event: SessionSignupCancelled, deps: Deps) -> Step:
    """participant_withdrawn, and the first waitlisted person promoted to the free place."""
    request = event.data
    address = address_or_poison(request.email)

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        repository = deps.repository
        participant = await repository.find_participant(
            request.session_id, address.key, session=session
        )
        if participant is None:
            return []  # not signed up, or already withdrawn
        locked = await repository.lock_session(request.session_id, session=session)
        if locked is None or not upcoming(locked[1], now):
            return []  # the session is over: its history stays as it was
        return await withdraw(
            participant,
            reason="cancelled_by_participant",
            cause=event,
            deps=deps,
            session=session,
            now=now,
        )

    return step(event, work, deps, keys=[address.person_key], others=True)


async def track_session(event: SessionScheduled | SessionRescheduled, deps: Deps) -> Step:
    """Keep the latest state of a session (the highest ICS sequence wins)."""
    data = event.data
    incoming = SessionRecord(data.session_id, data.starts_at, data.ends_at, data.sequence)

    async def work(session: AsyncClientSession) -> Emitted:
        stored = await deps.repository.find_session(data.session_id, session=session)
        if stored is None or (not stored.cancelled and stored.sequence <= incoming.sequence):
            await deps.repository.save_session(incoming, session=session)
        return []

    return step(event, work, deps, keys=[])


async def close_session(event: SessionCancelled, deps: Deps) -> Step:
    """The session is cancelled: every participant is withdrawn (reason session_cancelled)."""
    data = event.data

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        repository = deps.repository
        stored = await repository.find_session(data.session_id, session=session)
        sequence = max(data.sequence, stored.sequence if stored else 0)
        record = SessionRecord(data.session_id, data.starts_at, data.ends_at, sequence, True)
        await repository.save_session(record, session=session)
        people = await repository.participants(data.session_id, session=session)
        await repository.clear_session(data.session_id, session=session)
        return [
            events.participant_withdrawn(p, reason="session_cancelled", cause=event, at=now)
            for p in people
        ]

    return step(event, work, deps, keys=[], others=True)


async def withdraw(
    participant: Participant,
    *,
    reason: events.WithdrawalReason,
    cause: CloudEvent[Any],
    deps: Deps,
    session: AsyncClientSession,
    now: datetime,
) -> Emitted:
    """Free the place (the session is locked by the caller) and promote who comes next."""
    repository = deps.repository
    await repository.remove_participant(participant.participant_id, session=session)
    emitted: Emitted = [
        events.participant_withdrawn(participant, reason=reason, cause=cause, at=now)
    ]
    enrolled, waitlisted = await repository.count_places(participant.session_id, session=session)
    due = promotions(enrolled=enrolled, waitlisted=waitlisted, capacity=deps.capacity)
    if due:
        for person in await repository.waitlist(participant.session_id, limit=due, session=session):
            await repository.promote(person.participant_id, session=session)
            emitted.append(events.participant_enrolled(person, cause=cause, at=now, promoted=True))
    return emitted
