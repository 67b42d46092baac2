"""Programme service wiring: every topic it reads and writes."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.programme import handlers, report
from services.programme.handlers import Deps
from services.programme.repository import MongoUnit, create_indexes
from services.programme.unit import Unit
from shared.clock import Clock, system_clock
from shared.contract.interest import PersonErased
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
from shared.mongo import Database
from shared.service import Service
from shared.settings import Settings

NAME = "programme"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The programme service's FastStream application (`clock` stamps what it emits)."""
    service: Service[Deps, Unit] = Service(
        NAME,
        settings or Settings(),
        description="Topics proposed, debated and prioritised by the members; the annual "
        "programme ranked from their ballots (modified Borda count).",
        publishes=[TopicAccepted, BallotRejected, ProgrammePublished],
        unit=MongoUnit,
    )

    service.consume(TopicProposed, handlers.accept_topic)
    service.consume(TopicCommented, handlers.record_comment)
    service.consume(TopicVoteCast, handlers.cast_vote)
    service.consume(ProgrammePublicationRequested, handlers.publish_programme)
    service.consume(MemberRegistered, handlers.record_member)
    service.consume(MemberLeft, handlers.record_departure)
    service.consume(MemberErased, handlers.erase_member)
    service.consume(PersonErased, handlers.erase_person)
    service.expose("/report", report.activity, description="The year's programme and its vote.")

    async def setup(svc: Service[Deps, Unit], db: Database) -> Deps:
        await create_indexes(db)
        return Deps(clock=clock or system_clock)

    return service.create_app(setup)
