"""Scheduling service wiring: every topic it reads and writes, and the reminder timer."""

from __future__ import annotations

import uuid

from faststream.asgi import AsgiFastStream

from services.scheduling import handlers
from services.scheduling.handlers import Deps
from services.scheduling.repository import (
    MongoDueReminders,
    MongoSessions,
    MongoUnit,
    create_indexes,
)
from services.scheduling.timer import ReminderTimer, run_reminder_timer
from services.scheduling.unit import Unit
from shared.clock import Clock, system_clock
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


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The scheduling service's FastStream application; `clock` replaces the real time."""
    service: Service[Deps, Unit] = Service(
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
        unit=MongoUnit,
    )

    service.consume(SessionScheduleRequested, handlers.schedule_session)
    service.consume(SessionRescheduleRequested, handlers.reschedule_session)
    service.consume(SessionCancelRequested, handlers.cancel_session)
    service.consume(ProgrammePublished, handlers.apply_programme)
    service.background(lambda deps: run_reminder_timer(deps.timer))

    async def setup(svc: Service[Deps, Unit], db: Database) -> Deps:
        await create_indexes(db)
        now = clock or system_clock
        outside_transactions = Storage(db)
        timer = ReminderTimer(
            reminders=MongoDueReminders(outside_transactions),
            sessions=MongoSessions(outside_transactions),
            publisher=svc.publisher,
            clock=now,
            owner=f"{NAME}-{uuid.uuid4().hex[:12]}",
            poll_seconds=svc.settings.reminder_poll_seconds,
        )
        return Deps(
            clock=now, webconference_base_url=svc.settings.webconference_base_url, timer=timer
        )

    return service.create_app(setup)
