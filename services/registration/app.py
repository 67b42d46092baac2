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
from shared.inbox import Inbox
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

    @service.subscriber(RegistrationRequested)
    async def on_registration_requested(event: RegistrationRequested) -> None:
        """Someone asks to join: member_registered or registration_rejected."""
        await handlers.register_member(event, service.deps)

    @service.subscriber(SessionSignupRequested)
    async def on_session_signup_requested(event: SessionSignupRequested) -> None:
        """Someone signs up for a session: participant_enrolled or session_signup_rejected."""
        await signups.sign_up(event, service.deps)

    @service.subscriber(SessionSignupCancelled)
    async def on_session_signup_cancelled(event: SessionSignupCancelled) -> None:
        """A participant withdraws: participant_withdrawn, the waitlist moves up."""
        await signups.cancel_signup(event, service.deps)

    @service.subscriber(MemberLeaveRequested)
    async def on_member_leave_requested(event: MemberLeaveRequested) -> None:
        """A member leaves: member_left, and member_erased when erasure is asked."""
        await handlers.leave_group(event, service.deps)

    @service.subscriber(SessionScheduled)
    async def on_session_scheduled(event: SessionScheduled) -> None:
        """A session exists: sign-ups for it are now accepted."""
        await signups.track_session(event, service.deps)

    @service.subscriber(SessionRescheduled)
    async def on_session_rescheduled(event: SessionRescheduled) -> None:
        """A session moved: its new start decides when sign-ups close."""
        await signups.track_session(event, service.deps)

    @service.subscriber(SessionCancelled)
    async def on_session_cancelled(event: SessionCancelled) -> None:
        """A session is cancelled: its participants are withdrawn, sign-ups refused."""
        await signups.close_session(event, service.deps)

    async def setup(svc: Service[Deps], db: AsyncDatabase[Document]) -> Deps:
        assert svc.mongo is not None
        inbox = Inbox(svc.mongo, db)
        repository = Repository(db)
        await inbox.create_indexes()
        await repository.create_indexes()
        return Deps(
            inbox=inbox,
            repository=repository,
            publisher=svc.publisher,
            clock=clock or _now,
            capacity=svc.settings.session_capacity,
        )

    return service.create_app(setup)
