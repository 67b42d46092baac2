"""Scheduling service wiring: every topic it reads and writes.

Reads: session_schedule_requested, session_reschedule_requested,
session_cancel_requested, programme_published.
Writes: session_scheduled, session_rescheduled, session_cancelled, session_rejected,
session_reminder_due (the last one from the reminder timer).
"""

from __future__ import annotations

import uuid

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from services.scheduling import handlers
from services.scheduling.handlers import Clock, Deps, system_clock
from services.scheduling.repository import Repository
from services.scheduling.timer import run_reminder_timer
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
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "scheduling"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The scheduling service's FastStream application; `clock` replaces the real time."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description=(
            "Sessions of the PAT/SAT practice-exchange group: requested sessions, the "
            "bimonthly cadence of the published programme, changes, and durable J-7/J-1 "
            "reminders."
        ),
        publishes=[
            SessionScheduled,
            SessionRescheduled,
            SessionCancelled,
            SessionRejected,
            SessionReminderDue,
        ],
    )

    service.consume(SessionScheduleRequested, handlers.schedule_session)
    service.consume(SessionRescheduleRequested, handlers.reschedule_session)
    service.consume(SessionCancelRequested, handlers.cancel_session)
    service.consume(ProgrammePublished, handlers.apply_programme)
    service.background(run_reminder_timer)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        repository = Repository(db)
        await repository.create_indexes()
        return Deps(
            repository=repository,
            publish=svc.publisher.publish,
            clock=clock or system_clock,
            webconference_base_url=svc.settings.webconference_base_url,
            instance_id=f"{NAME}-{uuid.uuid4().hex[:12]}",
            reminder_poll_seconds=svc.settings.reminder_poll_seconds,
        )

    return service.create_app(setup)
