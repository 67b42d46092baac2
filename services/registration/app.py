"""Registration service wiring: every topic it reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.asgi import AsgiFastStream
from pymongo.asynchronous.database import AsyncDatabase

from services.registration import handlers, signups
from services.registration.common import Clock, Deps
from services.registration.repository import Repository
from shared.contract.registration import (
    MemberErased,
    MemberLeaveRequested,
    MemberLeft,
    MemberRegistered,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    RegistrationRejected,
    RegistrationRequested,
    SessionSignupCancelled,
    SessionSignupRejected,
    SessionSignupRequested,
)
from shared.contract.scheduling import SessionCancelled, SessionRescheduled, SessionScheduled
from shared.mongo import Document
from shared.service import Service
from shared.settings import Settings

NAME = "registration"


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The registration service's FastStream application (`clock` decides what is past)."""
    service: Service[Deps] = Service(
        NAME,
        settings or Settings(),
        description=(
            "Members of the PAT/SAT practice-exchange group (eligibility, leaving, "
            "erasure) and the participants of each session (places and waitlist)."
        ),
        publishes=[
            MemberRegistered,
            RegistrationRejected,
            ParticipantEnrolled,
            ParticipantWithdrawn,
            SessionSignupRejected,
            MemberLeft,
            MemberErased,
        ],
    )

    service.consume(RegistrationRequested, handlers.register_member)
    service.consume(SessionSignupRequested, signups.sign_up)
    service.consume(SessionSignupCancelled, signups.cancel_signup)
    service.consume(MemberLeaveRequested, handlers.leave_group)
    service.consume(SessionScheduled, signups.track_session)
    service.consume(SessionRescheduled, signups.track_session)
    service.consume(SessionCancelled, signups.close_session)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        repository = Repository(db)
        await repository.create_indexes()
        return Deps(
            inbox=svc.inbox,
            repository=repository,
            clock=clock or _now,
            capacity=svc.settings.session_capacity,
        )

    return service.create_app(setup)
