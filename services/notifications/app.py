"""Notifications service wiring: every topic it reads and writes.

Reads: member_registered, registration_rejected, participant_enrolled,
participant_withdrawn, session_signup_rejected, member_left, member_erased (registration);
topic_accepted, programme_published, ballot_rejected (programme); session_scheduled,
session_rescheduled, session_cancelled, session_reminder_due (scheduling).
Writes: notification_sent, notification_failed (from the background sender).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import get_args

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications import handlers
from services.notifications.domain import RetryPolicy
from services.notifications.handlers import Clock, Deps, system_clock
from services.notifications.rendering import Renderer
from services.notifications.repository import Repository
from services.notifications.sender import Sender
from shared.contract.notifications import EmailKind, NotificationFailed, NotificationSent
from shared.contract.programme import BallotRejected, ProgrammePublished, TopicAccepted
from shared.contract.registration import (
    MemberErased,
    MemberLeft,
    MemberRegistered,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    RegistrationRejected,
    SessionSignupRejected,
)
from shared.contract.scheduling import (
    SessionCancelled,
    SessionReminderDue,
    SessionRescheduled,
    SessionScheduled,
)
from shared.inbox import Inbox
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "notifications"
DEFAULT_LEASE = timedelta(minutes=2)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> AsgiFastStream:
    """The notifications service's FastStream application.

    `clock` replaces the real time, `retry` the backoff of deferred deliveries and
    `lease` how long a claimed delivery stays reserved to this instance.
    """
    config = settings or Settings()
    now = clock or system_clock
    policy = retry or RetryPolicy(max_attempts=config.delivery_max_attempts)
    service: Service[Deps] = Service(
        NAME,
        config,
        description=(
            "The agents' emails (French, HTML and plain text) and calendar invitations: "
            "a recipients projection, one delivery per (cause, recipient, kind), sent over "
            "SMTP with retries; each outcome is announced."
        ),
        publishes=[NotificationSent, NotificationFailed],
    )

    @service.subscriber(MemberRegistered)
    async def on_member_registered(event: MemberRegistered) -> None:
        """Add the member to the recipients projection; send the welcome email."""
        await handlers.welcome_member(event, service.deps)

    @service.subscriber(RegistrationRejected)
    async def on_registration_rejected(event: RegistrationRejected) -> None:
        """Explain the refusal (and how to join single sessions)."""
        await handlers.explain_rejection(event, service.deps)

    @service.subscriber(ParticipantEnrolled)
    async def on_participant_enrolled(event: ParticipantEnrolled) -> None:
        """Record the participant; confirm the place (with the ICS) or the waitlist."""
        await handlers.confirm_signup(event, service.deps)

    @service.subscriber(ParticipantWithdrawn)
    async def on_participant_withdrawn(event: ParticipantWithdrawn) -> None:
        """Stop inviting a participant who withdrew."""
        await handlers.forget_participation(event, service.deps)

    @service.subscriber(SessionSignupRejected)
    async def on_session_signup_rejected(event: SessionSignupRejected) -> None:
        """Explain why a sign-up was refused."""
        await handlers.explain_signup_rejection(event, service.deps)

    @service.subscriber(MemberLeft)
    async def on_member_left(event: MemberLeft) -> None:
        """Confirm the leaving; nothing more is sent to that member."""
        await handlers.confirm_leave(event, service.deps)

    @service.subscriber(MemberErased)
    async def on_member_erased(event: MemberErased) -> None:
        """Erase the member's address and names from every collection."""
        await handlers.erase_member(event, service.deps)

    @service.subscriber(TopicAccepted)
    async def on_topic_accepted(event: TopicAccepted) -> None:
        """Acknowledge the proposal; notify the coordinators (COORDINATOR_EMAILS)."""
        await handlers.acknowledge_topic(event, service.deps)

    @service.subscriber(ProgrammePublished)
    async def on_programme_published(event: ProgrammePublished) -> None:
        """Announce the programme to every member."""
        await handlers.announce_programme(event, service.deps)

    @service.subscriber(BallotRejected)
    async def on_ballot_rejected(event: BallotRejected) -> None:
        """Explain why a ballot was refused."""
        await handlers.explain_ballot_rejection(event, service.deps)

    @service.subscriber(SessionScheduled)
    async def on_session_scheduled(event: SessionScheduled) -> None:
        """Invite members and enrolled participants (ICS, METHOD:REQUEST)."""
        await handlers.invite_to_session(event, service.deps)

    @service.subscriber(SessionRescheduled)
    async def on_session_rescheduled(event: SessionRescheduled) -> None:
        """Send the new slot (ICS, METHOD:REQUEST, next SEQUENCE)."""
        await handlers.invite_to_session(event, service.deps)

    @service.subscriber(SessionCancelled)
    async def on_session_cancelled(event: SessionCancelled) -> None:
        """Send the cancellation (ICS, METHOD:CANCEL)."""
        await handlers.invite_to_session(event, service.deps)

    @service.subscriber(SessionReminderDue)
    async def on_session_reminder_due(event: SessionReminderDue) -> None:
        """Remind members and enrolled participants (J-7, J-1)."""
        await handlers.remind_session(event, service.deps)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        assert svc.mongo is not None
        inbox = Inbox(svc.mongo, db)
        await inbox.create_indexes()
        repo = Repository(db)
        await repo.create_indexes()
        renderer = Renderer()
        renderer.check(list(get_args(EmailKind)))
        return Deps(
            inbox=inbox,
            repo=repo,
            renderer=renderer,
            publisher=svc.publisher,
            settings=config,
            clock=now,
            wake=asyncio.Event(),
        )

    async def send_deliveries(deps: Deps) -> None:
        sender = Sender(
            repo=deps.repo,
            renderer=deps.renderer,
            publisher=deps.publisher,
            settings=deps.settings,
            clock=deps.clock,
            retry=policy,
            lease=lease,
        )
        await sender.run(deps.wake)

    service.background(send_deliveries)
    return service.create_app(setup)
