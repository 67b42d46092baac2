"""Scheduling service wiring: every topic it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

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
from shared.inbox import Inbox
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "scheduling"


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once at start-up."""

    inbox: Inbox


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """The scheduling service's FastStream application."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description="Sessions, the bimonthly cadence, changes and reminders.",
        publishes=[
            SessionScheduled,
            SessionRescheduled,
            SessionCancelled,
            SessionRejected,
            SessionReminderDue,
        ],
    )

    @service.subscriber(SessionScheduleRequested)
    async def on_session_schedule_requested(event: SessionScheduleRequested) -> None:
        """session_schedule_requested."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    @service.subscriber(SessionRescheduleRequested)
    async def on_session_reschedule_requested(event: SessionRescheduleRequested) -> None:
        """session_reschedule_requested."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    @service.subscriber(SessionCancelRequested)
    async def on_session_cancel_requested(event: SessionCancelRequested) -> None:
        """session_cancel_requested."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        inbox = Inbox(svc.mongo, db)  # type: ignore[arg-type]
        await inbox.create_indexes()
        return Deps(inbox=inbox)

    return service.create_app(setup)


async def _no_effect(session: object) -> list[Any]:
    return []
