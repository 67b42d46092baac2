"""Notifications service wiring: every topic it reads and writes.

Reads: member_registered, registration_rejected, participant_enrolled,
participant_withdrawn, session_signup_rejected, member_left, member_erased,
interest_recorded, interest_removed, interest_rejected, person_erased (registration);
topic_accepted, programme_published, ballot_rejected (programme); session_scheduled,
session_rescheduled, session_cancelled, session_reminder_due, question_digest_due,
session_question_forwarded, session_report_shared (scheduling); session_question_rejected,
attendance_accepted, attendance_rejected, feedback_rejected (registration); expert_invited,
expert_accepted, expert_declined, expert_no_answer, expert_invitation_rejected,
expert_response_rejected (scheduling);
confirmation_requested (gateway).
Writes: notification_sent, notification_failed (from the background sender).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from typing import get_args

from faststream.asgi import AsgiFastStream

from services.notifications import cycle, experts, handlers, report
from services.notifications.deliveries import Handoff, MongoDeliveries
from services.notifications.domain import RetryPolicy
from services.notifications.emails import Composer
from services.notifications.emails.rendering import Renderer
from services.notifications.handlers import Deps
from services.notifications.metrics import DeliveryMetrics
from services.notifications.recipients import MongoRecipients
from services.notifications.repository import MongoUnit, create_indexes
from services.notifications.sender import Sender
from services.notifications.status import status_view
from services.notifications.unit import Unit
from shared.clock import Clock, system_clock
from shared.contract.cycle import (
    AttendanceAccepted,
    AttendanceRejected,
    FeedbackRejected,
    QuestionDigestDue,
    SessionQuestionForwarded,
    SessionQuestionRejected,
    SessionReportShared,
)
from shared.contract.experts import (
    ExpertAccepted,
    ExpertDeclined,
    ExpertInvitationRejected,
    ExpertInvited,
    ExpertNoAnswer,
    ExpertResponseRejected,
)
from shared.contract.interest import (
    ConfirmationRequested,
    InterestRecorded,
    InterestRejected,
    InterestRemoved,
    PersonErased,
)
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
from shared.links import Links
from shared.mongo import Database
from shared.service import Service
from shared.settings import Settings
from shared.storage import Storage

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
    handoff = Handoff(lease=lease)  # from the handlers' commits to this instance's sender
    service: Service[Deps, Unit] = Service(
        NAME,
        config,
        description=(
            "The agents' emails (French, HTML and plain text) and calendar invitations: "
            "a recipients projection, one delivery per (cause, recipient, kind), sent over "
            "SMTP with retries; each outcome is announced."
        ),
        publishes=[NotificationSent, NotificationFailed],
        unit=partial(MongoUnit, chunk=config.delivery_batch_size, handoff=handoff),
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
    service.consume(InterestRecorded, handlers.note_interest)
    service.consume(InterestRemoved, handlers.forget_interest)
    service.consume(InterestRejected, handlers.explain_interest_rejection)
    service.consume(PersonErased, handlers.erase_person)
    service.consume(ConfirmationRequested, handlers.send_confirmation_link)
    service.consume(SessionQuestionRejected, cycle.explain_question_rejection)
    service.consume(QuestionDigestDue, cycle.send_question_digest)
    service.consume(SessionQuestionForwarded, cycle.forward_question)
    service.consume(AttendanceRejected, cycle.explain_attendance_rejection)
    service.consume(AttendanceAccepted, cycle.thank_attendees)
    service.consume(FeedbackRejected, cycle.explain_feedback_rejection)
    service.consume(SessionReportShared, cycle.share_report)
    service.consume(ExpertInvited, experts.invite_expert)
    service.consume(ExpertAccepted, experts.confirm_expert)
    service.consume(ExpertDeclined, experts.note_decline)
    service.consume(ExpertNoAnswer, experts.warn_no_answer)
    service.consume(ExpertInvitationRejected, experts.explain_invitation_rejection)
    service.consume(ExpertResponseRejected, experts.explain_response_rejection)

    renderer = Renderer()
    renderer.check(list(get_args(EmailKind)))  # a broken template stops the start
    senders: list[Sender] = []

    async def setup(svc: Service[Deps, Unit], db: Database) -> Deps:
        await create_indexes(db)
        links = Links(
            secret=config.required_link_secret(),
            base_url=config.public_base_url,
            ttl_days=config.link_ttl_days,
            clock=now,
        )
        outside = Storage(db)  # the sender works outside transactions
        store = MongoDeliveries(outside, chunk=config.delivery_batch_size)
        metrics = DeliveryMetrics(svc.metrics.registry)
        svc.metrics.on_scrape(lambda: metrics.refresh(store, now))
        senders.append(
            Sender(
                store=store,
                sessions=MongoRecipients(outside),
                composer=Composer(
                    mail_from=config.mail_from, clock=now, links=links, renderer=renderer
                ),
                publisher=svc.publisher,
                settings=config,
                clock=now,
                retry=policy,
                lease=lease,
                metrics=metrics,
                tracing=svc.tracing,
                handoff=handoff,
            )
        )
        return Deps(
            clock=now,
            coordinators=config.coordinators,
            capacity=config.session_capacity,
            wake=asyncio.Event(),
        )

    async def send_deliveries(deps: Deps) -> None:
        await senders[-1].run(deps.wake)

    service.background(send_deliveries, work="deliveries")
    service.add_status(status_view(now))
    service.after_batch(lambda deps: deps.wake.set())
    service.expose("/report", report.activity, description="The year's emails, by kind.")
    return service.create_app(setup)
