"""Programme service wiring: every topic it reads and writes.

Reads topic_proposed, topic_commented, topic_vote_cast, programme_publication_requested
and, for its members projection, member_registered, member_left, member_erased.
Writes topic_accepted, ballot_rejected, programme_published.
"""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from services.programme import handlers
from services.programme.handlers import Clock, Deps
from services.programme.repository import ProgrammeRepository
from shared.contract.programme import (
    BallotRejected,
    ProgrammePublicationRequested,
    ProgrammePublished,
    TopicAccepted,
    TopicCommented,
    TopicProposed,
    TopicVoteCast,
)
from shared.contract.registration import MemberErased, MemberLeft, MemberRegistered
from shared.inbox import Inbox
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "programme"


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The programme service's FastStream application."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description="Topics proposed, debated and prioritised by the members; the annual "
        "programme ranked from their ballots (modified Borda count).",
        publishes=[TopicAccepted, BallotRejected, ProgrammePublished],
    )

    @service.subscriber(TopicProposed)
    async def on_topic_proposed(event: TopicProposed) -> None:
        """Store a proposed topic, or attach it to the topic with the same title."""
        await handlers.accept_topic(event, service.deps)

    @service.subscriber(TopicCommented)
    async def on_topic_commented(event: TopicCommented) -> None:
        """Append a contribution to a topic; an unknown topic is dead-lettered."""
        await handlers.record_comment(event, service.deps)

    @service.subscriber(TopicVoteCast)
    async def on_topic_vote_cast(event: TopicVoteCast) -> None:
        """Store a member's ballot (the latest replaces the earlier) or reject it whole."""
        await handlers.cast_vote(event, service.deps)

    @service.subscriber(ProgrammePublicationRequested)
    async def on_programme_publication_requested(event: ProgrammePublicationRequested) -> None:
        """Rank the topics from the stored ballots and publish the year's next version."""
        await handlers.publish_programme(event, service.deps)

    @service.subscriber(MemberRegistered)
    async def on_member_registered(event: MemberRegistered) -> None:
        """Add a member to the projection of those who may vote."""
        await handlers.record_member(event, service.deps)

    @service.subscriber(MemberLeft)
    async def on_member_left(event: MemberLeft) -> None:
        """Mark a member as gone and withdraw their ballot."""
        await handlers.record_departure(event, service.deps)

    @service.subscriber(MemberErased)
    async def on_member_erased(event: MemberErased) -> None:
        """Erase a former member's personal data from every collection."""
        await handlers.erase_member(event, service.deps)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        assert svc.mongo is not None
        inbox = Inbox(svc.mongo, db)
        repository = ProgrammeRepository(db)
        await inbox.create_indexes()
        await repository.create_indexes()
        return Deps(
            inbox=inbox, repository=repository, publisher=svc.publisher, clock=clock or _now
        )

    return service.create_app(setup)
