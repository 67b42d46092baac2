"""Handlers of members: joining, leaving and erasure (parse, rules, store, publish)."""

from __future__ import annotations

import logging
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
    Applicant,
    Refusal,
    already_member,
    person_tag,
    screen_registration,
)
from services.registration.records import Member
from services.registration.signups import withdraw
from shared.contract import CloudEvent
from shared.contract.registration import MemberLeaveRequested, RegistrationRequested
from shared.inbox import Step

logger = logging.getLogger(__name__)


async def register_member(event: RegistrationRequested, deps: Deps) -> Step:
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
    return step(event, work, deps, keys=[tag or person_tag(request.email)])


async def leave_group(event: MemberLeaveRequested, deps: Deps) -> Step:
    """member_left (withdrawn from upcoming sessions); with erase, also member_erased."""
    request = event.data
    address = address_or_poison(request.email)

    async def work(session: AsyncClientSession) -> Emitted:
        now = deps.clock()
        repository = deps.repository
        member = await repository.find_member(address.key, session=session)
        if member is None or (member.status == "left" and not request.erase):
            logger.info(
                "leave request for no active member: no effect", extra={"event_id": event.id}
            )
            return []
        emitted: Emitted = []
        if member.status == "active":
            holdings = await repository.participations(address.key, session=session)
            known = await repository.sessions({p.session_id for p in holdings}, session=session)
            for participant in holdings:
                record = known.get(participant.session_id)
                if record is not None and upcoming(record, now):
                    await repository.lock_session(participant.session_id, session=session)
                    emitted += await withdraw(
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

    # Once member_erased is published, every stored output that names the person is
    # scrubbed, this event's own record included: a redelivery has nothing to publish.
    keys = [address.person_key]
    return step(event, work, deps, keys=keys, others=True, forget=keys)
