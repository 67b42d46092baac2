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

    service.consume(TopicProposed, handlers.accept_topic)
    service.consume(TopicCommented, handlers.record_comment)
    service.consume(TopicVoteCast, handlers.cast_vote)
    service.consume(ProgrammePublicationRequested, handlers.publish_programme)
    service.consume(MemberRegistered, handlers.record_member)
    service.consume(MemberLeft, handlers.record_departure)
    service.consume(MemberErased, handlers.erase_member)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        repository = ProgrammeRepository(db)
        await repository.create_indexes()
        return Deps(inbox=svc.inbox, repository=repository, clock=clock or _now)

    return service.create_app(setup)
