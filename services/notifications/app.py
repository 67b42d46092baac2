"""Notifications service wiring: every topic it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from shared.contract.notifications import NotificationFailed, NotificationSent
from shared.contract.registration import MemberRegistered
from shared.inbox import Inbox
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "notifications"


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once at start-up."""

    inbox: Inbox


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """The notifications service's FastStream application."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description="The agents' emails and calendar invitations.",
        publishes=[NotificationSent, NotificationFailed],
    )

    @service.subscriber(MemberRegistered)
    async def on_member_registered(event: MemberRegistered) -> None:
        """member_registered."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        inbox = Inbox(svc.mongo, db)  # type: ignore[arg-type]
        await inbox.create_indexes()
        return Deps(inbox=inbox)

    return service.create_app(setup)


async def _no_effect(session: object) -> list[Any]:
    return []
