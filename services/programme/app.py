"""Programme service wiring: every topic it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from shared.contract.programme import (
    BallotRejected,
    ProgrammePublicationRequested,
    ProgrammePublished,
    TopicAccepted,
    TopicCommented,
    TopicProposed,
    TopicVoteCast,
)
from shared.inbox import Inbox
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "programme"


@dataclass(frozen=True)
class Deps:
    """What the handlers need, built once at start-up."""

    inbox: Inbox


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """The programme service's FastStream application."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description="Topics, ballots and the annual programme.",
        publishes=[TopicAccepted, ProgrammePublished, BallotRejected],
    )

    @service.subscriber(TopicProposed)
    async def on_topic_proposed(event: TopicProposed) -> None:
        """topic_proposed."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    @service.subscriber(TopicCommented)
    async def on_topic_commented(event: TopicCommented) -> None:
        """topic_commented."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    @service.subscriber(TopicVoteCast)
    async def on_topic_vote_cast(event: TopicVoteCast) -> None:
        """topic_vote_cast."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    @service.subscriber(ProgrammePublicationRequested)
    async def on_programme_publication_requested(event: ProgrammePublicationRequested) -> None:
        """programme_publication_requested."""
        emissions = await service.deps.inbox.process(event, _no_effect)
        await service.publisher.publish(emissions)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        inbox = Inbox(svc.mongo, db)  # type: ignore[arg-type]
        await inbox.create_indexes()
        return Deps(inbox=inbox)

    return service.create_app(setup)


async def _no_effect(session: object) -> list[Any]:
    return []
