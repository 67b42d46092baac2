"""Registration handlers: `verb_object(event, uow, deps) -> events to publish`.

Each one checks its request with the pure rules (domain.py), reads and writes through
the unit of work's repositories, and returns the events it emits; the inbox runs it
once per event id, in a transaction (shared/inbox.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.registration import events
from services.registration.domain import (
    CONSENT_REQUIRED,
    Refusal,
    already_enrolled,
    already_member,
    check_email,
    names_refusal,
    place_for,
    promotions,
    screen_registration,
    signup_refusal,
    upcoming,
)
from services.registration.records import InterestedPerson, Member, Participant, SessionRecord
from services.registration.unit import Unit
from shared.clock import Clock
from shared.contract import CloudEvent
from shared.contract.interest import InterestDeclared, InterestWithdrawn
from shared.contract.registration import (
    MemberLeaveRequested,
    RegistrationRequested,
    SessionSignupCancelled,
    SessionSignupRequested,
)
from shared.contract.scheduling import SessionCancelled, SessionRescheduled, SessionScheduled
from shared.errors import PoisonMessage
from shared.identity import EmailAddress

logger = logging.getLogger(__name__)

Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides storage, built once by the composition root."""

    clock: Clock
    capacity: int


# --- members -------------------------------------------------------------------------


async def register_member(event: RegistrationRequested, uow: Unit, deps: Deps) -> Emitted:
    """member_registered, or registration_rejected (invalid, not_eligible, already_member)."""
    request = event.data
    now = deps.clock()
    screened = screen_registration(
        email=request.email,
        first_name=request.first_name,
        last_name=request.last_name,
        role=request.role,
        approach=request.approach,
        consent=request.consent,
    )
    if isinstance(screened, Refusal):
        rejected = _rejected(event, screened, at=now)
        if screened.reason != "not_eligible":
            return [rejected]
        # Refused membership, they asked to join: told of every session from now on.
        return [rejected, await _put_on_interest_list(event, uow, at=now)]
    existing = await uow.members.find(screened.email.key)
    if existing is not None and existing.status == "active":
        return [_rejected(event, already_member(), at=now)]
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
    if existing is None:
        await uow.members.add(member)
    else:
        await uow.members.rejoin(member)
    return [events.member_registered(member, cause=event)]


async def leave_group(event: MemberLeaveRequested, uow: Unit, deps: Deps) -> Emitted:
    """member_left (withdrawn from upcoming sessions) for a member, interest_removed for
    someone on the interest list; with erase, anyone is forgotten: member_erased for a
    member, person_erased for everyone."""
    request = event.data
    address = _existing_person(request.email)
    now = deps.clock()
    member = await uow.members.find(address.key)
    interested = await uow.interested.find(address.key)
    active = member is not None and member.status == "active"
    if not (active or interested or request.erase):
        logger.info("leave request for nobody on a list: no effect", extra={"event_id": event.id})
        return []
    emitted: Emitted = []
    if active or request.erase:
        emitted += await _give_up_places(address, cause=event, uow=uow, deps=deps, now=now)
    if member is not None and active:
        emitted.append(events.member_left(member, erase=request.erase, cause=event, at=now))
        await uow.members.mark_left(member.member_id, at=now)
    if interested is not None:
        await uow.interested.remove(address.key)
        gone = events.interest_removed(
            interested, reason="erased" if request.erase else "withdrawn", cause=event, at=now
        )
        emitted.append(gone)
    if request.erase:
        if member is not None:
            await uow.members.erase(member.member_id, at=now)
            emitted.append(events.member_erased(member, cause=event, at=now))
        await uow.participants.forget_person(address.key)
        await uow.attendances.anonymise(address.key)
        await uow.ratings.anonymise(address.key)
        emitted.append(events.person_erased(address.key, cause=event, at=now))
        # Once the erasure is out, every stored output naming the person is emptied,
        # this event's own record included: a redelivery has nothing left to publish.
        uow.erase_once_published(address.key)
    return emitted


async def _give_up_places(
    address: EmailAddress, *, cause: CloudEvent[Any], uow: Unit, deps: Deps, now: datetime
) -> Emitted:
    """Withdraw the person from every upcoming session (promoting who comes next)."""
    holdings = await uow.participants.of_person(address.key)
    known = await uow.sessions.find_many(p.session_id for p in holdings)
    emitted: Emitted = []
    for participant in holdings:
        record = known.get(participant.session_id)
        if record is not None and upcoming(record.view, now):
            await uow.sessions.lock(participant.session_id)
            emitted += await _withdraw(
                participant, reason="member_left", cause=cause, uow=uow, deps=deps, now=now
            )
    return emitted


# --- the interest list ----------------------------------------------------------------


async def declare_interest(event: InterestDeclared, uow: Unit, deps: Deps) -> Emitted:
    """interest_recorded (on the list, for the topics given or every session), or
    interest_rejected (consent, address or names)."""
    request = event.data
    now = deps.clock()
    address = check_email(request.email)
    refusal = (
        address
        if isinstance(address, Refusal)
        else names_refusal(request.first_name, request.last_name)
    )
    if refusal is None and not request.consent:
        refusal = Refusal("invalid", CONSENT_REQUIRED)
    if refusal is not None or not isinstance(address, EmailAddress):
        detail = refusal or Refusal("invalid", CONSENT_REQUIRED)
        rejected = events.interest_rejected(
            detail, email=request.email, first_name=request.first_name, cause=event, at=now
        )
        return [rejected]
    person = InterestedPerson(
        email_key=address.key,
        email=address.given,
        first_name=request.first_name,
        last_name=request.last_name,
        organisation=request.organisation,
        topic_ids=tuple(dict.fromkeys(request.topic_ids)),
        since=now,
    )
    await uow.interested.save(person)
    return [events.interest_recorded(person, origin="declared", cause=event)]


async def withdraw_interest(event: InterestWithdrawn, uow: Unit, deps: Deps) -> Emitted:
    """interest_removed, when the person was on the list (else nothing)."""
    address = _existing_person(event.data.email)
    person = await uow.interested.find(address.key)
    if person is None or not await uow.interested.remove(address.key):
        return []
    return [events.interest_removed(person, reason="withdrawn", cause=event, at=deps.clock())]


# --- places --------------------------------------------------------------------------


async def sign_up(event: SessionSignupRequested, uow: Unit, deps: Deps) -> Emitted:
    """participant_enrolled (a place, or the waitlist) or session_signup_rejected."""
    request = event.data
    now = deps.clock()
    address = check_email(request.email)
    outcome: CloudEvent[Any] | Refusal | None = (
        address
        if isinstance(address, Refusal)
        else names_refusal(request.first_name, request.last_name)
    )
    if outcome is None and isinstance(address, EmailAddress):
        outcome = await _enrol(event, address, uow=uow, deps=deps, now=now)
    if isinstance(outcome, Refusal):
        refused = events.signup_rejected(
            outcome,
            session_id=request.session_id,
            email=request.email,
            first_name=request.first_name,
            cause=event,
            at=now,
        )
        return [refused]
    assert outcome is not None
    return [outcome]


async def _enrol(
    event: SessionSignupRequested, address: EmailAddress, *, uow: Unit, deps: Deps, now: datetime
) -> CloudEvent[Any] | Refusal:
    request = event.data
    locked = await uow.sessions.lock(request.session_id)
    refusal = signup_refusal(locked[1].view if locked else None, now=now)
    if refusal is not None or locked is None:
        return refusal or already_enrolled()
    if await uow.participants.find(request.session_id, address.key):
        return already_enrolled()
    enrolled, waitlisted = await uow.participants.count_places(request.session_id)
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
        rank=locked[0],
        signed_up_at=now,
        is_member=await uow.members.is_active(address.key),
    )
    await uow.participants.add(participant)
    return events.participant_enrolled(
        participant, cause=event, at=now, waitlist_position=place.waitlist_position
    )


async def cancel_signup(event: SessionSignupCancelled, uow: Unit, deps: Deps) -> Emitted:
    """participant_withdrawn, and the first waitlisted person promoted to the free place."""
    request = event.data
    address = _existing_person(request.email)
    now = deps.clock()
    participant = await uow.participants.find(request.session_id, address.key)
    if participant is None:
        return []  # not signed up, or already withdrawn
    locked = await uow.sessions.lock(request.session_id)
    if locked is None or not upcoming(locked[1].view, now):
        return []  # the session is over: its history stays as it was
    return await _withdraw(
        participant, reason="cancelled_by_participant", cause=event, uow=uow, deps=deps, now=now
    )


async def _withdraw(
    participant: Participant,
    *,
    reason: events.WithdrawalReason,
    cause: CloudEvent[Any],
    uow: Unit,
    deps: Deps,
    now: datetime,
) -> Emitted:
    """Free the place (the session is locked by the caller) and promote who comes next."""
    await uow.participants.remove(participant.participant_id)
    emitted: Emitted = [
        events.participant_withdrawn(participant, reason=reason, cause=cause, at=now)
    ]
    enrolled, waitlisted = await uow.participants.count_places(participant.session_id)
    due = promotions(enrolled=enrolled, waitlisted=waitlisted, capacity=deps.capacity)
    if due:
        for person in await uow.participants.waitlist(participant.session_id, limit=due):
            await uow.participants.promote(person.participant_id)
            emitted.append(events.participant_enrolled(person, cause=cause, at=now, promoted=True))
    return emitted


# --- the sessions projection ----------------------------------------------------------


async def track_session(
    event: SessionScheduled | SessionRescheduled, uow: Unit, deps: Deps
) -> Emitted:
    """Keep the latest state of a session (the highest ICS sequence wins)."""
    data = event.data
    incoming = SessionRecord(data.session_id, data.starts_at, data.ends_at, data.sequence)
    stored = await uow.sessions.find(data.session_id)
    if stored is None or (not stored.cancelled and stored.sequence <= incoming.sequence):
        await uow.sessions.save(incoming)
    return []


async def close_session(event: SessionCancelled, uow: Unit, deps: Deps) -> Emitted:
    """The session is cancelled: every participant is withdrawn (reason session_cancelled)."""
    data = event.data
    now = deps.clock()
    stored = await uow.sessions.find(data.session_id)
    sequence = max(data.sequence, stored.sequence if stored else 0)
    await uow.sessions.save(
        SessionRecord(data.session_id, data.starts_at, data.ends_at, sequence, cancelled=True)
    )
    people = await uow.participants.of_session(data.session_id)
    await uow.participants.clear_session(data.session_id)
    return [
        events.participant_withdrawn(p, reason="session_cancelled", cause=event, at=now)
        for p in people
    ]


# --- helpers -------------------------------------------------------------------------


async def _put_on_interest_list(
    event: RegistrationRequested, uow: Unit, *, at: datetime
) -> CloudEvent[Any]:
    request = event.data
    address = check_email(request.email)
    assert isinstance(address, EmailAddress)  # screened before eligibility
    person = InterestedPerson(
        email_key=address.key,
        email=address.given,
        first_name=request.first_name,
        last_name=request.last_name,
        organisation=request.organisation,
        topic_ids=(),
        since=at,
    )
    await uow.interested.save(person)
    return events.interest_recorded(person, origin="not_eligible", cause=event)


def _rejected(event: RegistrationRequested, refusal: Refusal, *, at: datetime) -> CloudEvent[Any]:
    request = event.data
    return events.registration_rejected(
        refusal, email=request.email, first_name=request.first_name, cause=event, at=at
    )


def _existing_person(email: str) -> EmailAddress:
    """The valid address of a request that names an existing person, else poison."""
    address = check_email(email)
    if isinstance(address, Refusal):
        # The address stays out of the error: it ends up in headers and logs.
        raise PoisonMessage("data.email: not a valid address (no such person can exist)")
    return address
