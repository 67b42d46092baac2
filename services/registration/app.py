"""Registration service wiring: every topic it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from shared.contract.registration import (
    MemberRegistered,
    RegistrationRejected,
    RegistrationRequested,
)
from shared.inbox import Inbox
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "registration"


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once at start-up."""

    inbox: Inbox


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """The registration service's FastStream application."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description="Members of the PAT/SAT practice-exchange group.",
        publishes=[MemberRegistered, RegistrationRejected],
    )

    @service.subscriber(RegistrationRequested)
    async def on_registration_requested(event: RegistrationRequested) -> None:
        """Someone asks to join the group."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        inbox = Inbox(svc.mongo, db)  # type: ignore[arg-type]
        await inbox.create_indexes()
        return Deps(inbox=inbox)

    return service.create_app(setup)


async def _no_effect(session: object) -> list[MemberRegistered]:
    return []
