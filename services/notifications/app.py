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
from services.notifications.rendering import Renderer
from services.notifications.repository import Repository
from services.notifications.sender import Sender
from services.notifications.steps import Clock, Deps, system_clock
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

    service.consume(MemberRegistered, handlers.welcome_member)
    service.consume(RegistrationRejected, handlers.explain_rejection)
    service.consume(ParticipantEnrolled, handlers.confirm_signup)
    service.consume(ParticipantWithdrawn, handlers.forget_participation)
    service.consume(SessionSignupRejected, handlers.explain_signup_rejection)
    service.consume(MemberLeft, handlers.confirm_leave)
    service.consume(MemberErased, handlers.erase_member)
    service.consume(TopicAccepted, handlers.acknowledge_topic)
    service.consume(ProgrammePublished, handlers.announce_programme)
    service.consume(BallotRejected, handlers.explain_ballot_rejection)
    service.consume(SessionScheduled, handlers.invite_to_session)
    service.consume(SessionRescheduled, handlers.announce_new_slot)
    service.consume(SessionCancelled, handlers.announce_cancellation)
    service.consume(SessionReminderDue, handlers.remind_session)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        repo = Repository(db, chunk=svc.settings.delivery_batch_size)
        await repo.create_indexes()
        renderer = Renderer()
        renderer.check(list(get_args(EmailKind)))
        return Deps(
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
