"""Scheduling service wiring: every topic it reads and writes, and the session timer
(reminders, digests and the experts' silences)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from faststream.asgi import AsgiFastStream

from services.scheduling import handlers, report
from services.scheduling.handlers import Deps
from services.scheduling.repository import (
    MongoDigestsToSend,
    MongoDueTimers,
    MongoSessions,
    MongoSilentExperts,
    MongoUnit,
    create_indexes,
)
from services.scheduling.timer import LEASE, SessionTimer, run_timer
from services.scheduling.unit import Unit
from shared.clock import Clock, system_clock
from shared.contract.cycle import (
    ExpertInvitationRequested,
    ExpertResponseSubmitted,
    QuestionDigestDue,
    SessionQuestionAccepted,
    SessionQuestionForwarded,
    SessionReportPublished,
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
from shared.contract.interest import PersonErased
from shared.contract.programme import ProgrammePublished
from shared.contract.scheduling import (
    SessionCancelled,
    SessionCancelRequested,
    SessionRejected,
    SessionReminderDue,
    SessionRescheduled,
    SessionRescheduleRequested,
    SessionScheduled,
    SessionScheduleRequested,
)
from shared.mongo import Database
from shared.service import Service
from shared.settings import Settings
from shared.storage import Storage

NAME = "scheduling"


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, lease: timedelta = LEASE
) -> AsgiFastStream:
    """The scheduling service's FastStream application; `clock` replaces the real time,
    `lease` the timer's claim lease (the crash tests shorten it)."""
    service: Service[Deps, Unit] = Service(
        NAME,
        settings or Settings(),
        description=(
            "Sessions of the PAT/SAT practice-exchange group: requested sessions, the "
            "bimonthly cadence of the published programme, changes, durable J-7/J-1 "
            "reminders, the questions asked before a session (one digest when it is "
            "near, then each on its own) and its compte rendu after; the experts invited "
            "to a session, their answers, the notice of their silence 7 days before it, "
            "and the session's update naming those who accepted."
        ),
        publishes=[
            SessionScheduled,
            SessionRescheduled,
            SessionCancelled,
            SessionRejected,
            SessionReminderDue,
            QuestionDigestDue,
            SessionQuestionForwarded,
            SessionReportShared,
            ExpertInvited,
            ExpertAccepted,
            ExpertDeclined,
            ExpertNoAnswer,
            ExpertInvitationRejected,
            ExpertResponseRejected,
        ],
        unit=MongoUnit,
    )

    service.consume(SessionScheduleRequested, handlers.schedule_session)
    service.consume(SessionRescheduleRequested, handlers.reschedule_session)
    service.consume(SessionCancelRequested, handlers.cancel_session)
    service.consume(ProgrammePublished, handlers.apply_programme)
    service.consume(SessionQuestionAccepted, handlers.keep_question)
    service.consume(SessionReportPublished, handlers.share_report)
    service.consume(ExpertInvitationRequested, handlers.invite_expert)
    service.consume(ExpertResponseSubmitted, handlers.record_expert_answer)
    service.consume(PersonErased, handlers.erase_person)
    service.background(lambda deps: run_timer(deps.timer), work="timers")
    service.expose("/report", report.activity, description="The year's sessions, as counts.")

    async def setup(svc: Service[Deps, Unit], db: Database) -> Deps:
        await create_indexes(db)
        now = clock or system_clock
        outside_transactions = Storage(db)
        timer = SessionTimer(
            entries=MongoDueTimers(outside_transactions),
            sessions=MongoSessions(outside_transactions),
            digests=MongoDigestsToSend(outside_transactions),
            experts=MongoSilentExperts(outside_transactions),
            publisher=svc.publisher,
            clock=now,
            owner=f"{NAME}-{uuid.uuid4().hex[:12]}",
            poll_seconds=svc.settings.reminder_poll_seconds,
            lease=lease,
        )
        return Deps(
            clock=now,
            webconference_base_url=svc.settings.webconference_base_url,
            digest_ahead=timedelta(hours=svc.settings.question_digest_hours),
            timer=timer,
        )

    return service.create_app(setup)
