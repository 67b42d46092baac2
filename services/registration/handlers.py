"""Handlers: parse, apply the rules, store and publish, each event once (Inbox)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.registration import events
from services.registration.domain import (
    Applicant,
    EmailAddress,
    Refusal,
    already_enrolled,
    already_member,
    check_email,
    names_refusal,
    person_tag,
    place_for,
    promotions,
    screen_registration,
    signup_refusal,
)
from services.registration.records import Member, Participant, SessionRecord
from services.registration.repository import Repository
from shared.contract import CloudEvent
from shared.contract.registration import (
    MemberErased,
    MemberLeaveRequested,
    RegistrationRequested,
    SessionSignupCancelled,
    SessionSignupRequested,
)
from shared.contract.scheduling import SessionCancelled, SessionRescheduled, SessionScheduled
from shared.errors import PoisonMessage
from shared.inbox import Inbox, Work
from shared.kafka import Emission, EventPublisher

logger = logging.getLogger(__name__)

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


async def register_member(event: RegistrationRequested, deps: Deps) -> None:
    """member_registered, or registration_rejected (invalid, not_eligible, already_member)."""
    request = event.data
    screened = screen_registration(
        email=request.email,
        first_name=request.first_name,
        last_name=request.last_name,
        role=request.role,
        approach=request.approach,
        consent=request.consent,
    )

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        if isinstance(screened, Refusal):
            return [reject(screened, at=now)]
        existing = await deps.repository.find_member(screened.email.key, session=session)
        if existing is not None and existing.status == "active":
            return [reject(already_member(), at=now)]
        member = Member(
            member_id=existing.member_id if existing else str(uuid.uuid4()),
            email_key=screened.email.key,
            email=screened.email.given,
            first_name=request.first_name,
            last_name=request.last_name,
            role=screened.role,
            organisation=request.organisation,
            territory=request.territory,
            approach=screened.approach,
            topics_of_interest=tuple(request.topics_of_interest),
            registered_at=now,
        )
        await deps.repository.save_member(member, rejoining=existing is not None, session=session)
        return [events.member_registered(member, cause=event)]

    def reject(refusal: Refusal, *, at: datetime) -> CloudEvent[Any]:
        return events.registration_rejected(
            refusal, email=request.email, first_name=request.first_name, cause=event, at=at
        )

    tag = screened.email.person_key if isinstance(screened, Applicant) else None
    await _settle(event, work, deps, keys=[tag or person_tag(request.email)])


async def sign_up(event: SessionSignupRequested, deps: Deps) -> None:
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
    await _settle(event, work, deps, keys=[tag])


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


async def cancel_signup(event: SessionSignupCancelled, deps: Deps) -> None:
    """participant_withdrawn, and the first waitlisted person promoted to the free place."""
    request = event.data
    address = _address_or_poison(request.email)

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        repository = deps.repository
        participant = await repository.find_participant(
            request.session_id, address.key, session=session
        )
        if participant is None:
            return []  # not signed up, or already withdrawn
        locked = await repository.lock_session(request.session_id, session=session)
        if locked is None or not _upcoming(locked[1], now):
            return []  # the session is over: its history stays as it was
        return await _withdraw(
            participant,
            reason="cancelled_by_participant",
            cause=event,
            deps=deps,
            session=session,
            now=now,
        )

    await _settle(event, work, deps, keys=[address.person_key], others=True)


async def leave_group(event: MemberLeaveRequested, deps: Deps) -> None:
    """member_left (withdrawn from upcoming sessions); with erase, also member_erased."""
    request = event.data
    address = _address_or_poison(request.email)

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        repository = deps.repository
        member = await repository.find_member(address.key, session=session)
        if member is None or (member.status == "left" and not request.erase):
            logger.info("leave request for no active member: no effect", extra={"id": event.id})
            return []
        emitted: Emitted = []
        if member.status == "active":
            holdings = await repository.participations(address.key, session=session)
            known = await repository.sessions({p.session_id for p in holdings}, session=session)
            for participant in holdings:
                record = known.get(participant.session_id)
                if record is not None and _upcoming(record, now):
                    await repository.lock_session(participant.session_id, session=session)
                    emitted += await _withdraw(
                        participant,
                        reason="member_left",
                        cause=event,
                        deps=deps,
                        session=session,
                        now=now,
                    )
            emitted.append(events.member_left(member, erase=request.erase, cause=event, at=now))
            await repository.mark_left(member.member_id, at=now, session=session)
        if request.erase:
            await repository.erase_member(member, at=now, session=session)
            emitted.append(events.member_erased(member, cause=event, at=now))
        return emitted

    emissions = await _settle(event, work, deps, keys=[address.person_key], others=True)
    if any(e.event_type == MemberErased.event_type for e in emissions):
        # Published: now scrub every stored output that names the person, this
        # event's own record included. A redelivery finds nothing left to publish.
        await deps.inbox.forget([address.person_key])


async def track_session(event: SessionScheduled | SessionRescheduled, deps: Deps) -> None:
    """Keep the latest state of a session (the highest ICS sequence wins)."""
    data = event.data
    incoming = SessionRecord(data.session_id, data.starts_at, data.ends_at, data.sequence)

    async def work(session: AsyncClientSession) -> Emitted:
        stored = await deps.repository.find_session(data.session_id, session=session)
        if stored is None or (not stored.cancelled and stored.sequence <= incoming.sequence):
            await deps.repository.save_session(incoming, session=session)
        return []

    await _settle(event, work, deps, keys=[])


async def close_session(event: SessionCancelled, deps: Deps) -> None:
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

    await _settle(event, work, deps, keys=[], others=True)


async def _withdraw(
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


async def _settle(
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
        extra = set(_people_named(emissions)) - set(keys)
        if extra:
            await deps.repository.tag_processed(event.id, extra)
    await deps.publisher.publish(emissions)
    return emissions


def _people_named(emissions: Iterable[Emission]) -> Iterable[str]:
    for emission in emissions:
        email = json.loads(emission.body)["data"].get("email")
        if isinstance(email, str):
            yield person_tag(email)


def _address_or_poison(email: str) -> EmailAddress:
    address = check_email(email)
    if isinstance(address, Refusal):
        # The address stays out of the error: it ends up in headers and logs.
        raise PoisonMessage("invalid email address in data.email (no such person can exist)")
    return address


def _upcoming(record: SessionRecord, now: datetime) -> bool:
    return not record.cancelled and record.starts_at > now
