"""Registration service wiring: every topic it reads and writes."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.registration import cycle, handlers, report
from services.registration.handlers import Deps
from services.registration.repository import MongoUnit, create_indexes
from services.registration.status import status_view
from services.registration.unit import Unit
from shared.clock import Clock, system_clock
from shared.contract.cycle import (
    AttendanceAccepted,
    AttendanceRecorded,
    AttendanceRejected,
    FeedbackRejected,
    FeedbackSubmitted,
    SessionQuestionAccepted,
    SessionQuestionRejected,
    SessionQuestionSubmitted,
)
from shared.contract.interest import (
    InterestDeclared,
    InterestRecorded,
    InterestRejected,
    InterestRemoved,
    InterestWithdrawn,
    PersonErased,
)
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
from shared.mongo import Database
from shared.service import Service
from shared.settings import Settings

NAME = "registration"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> AsgiFastStream:
    """The registration service's FastStream application (`clock` decides what is past)."""
    service: Service[Deps, Unit] = Service(
        NAME,
        settings or Settings(),
        description=(
            "Members of the PAT/SAT practice-exchange group (eligibility, leaving, "
            "erasure), the participants of each session (places and waitlist), and the "
            "interest list of those told of the sessions whose question interests them."
        ),
        publishes=[
            MemberRegistered,
            RegistrationRejected,
            ParticipantEnrolled,
            ParticipantWithdrawn,
            SessionSignupRejected,
            MemberLeft,
            MemberErased,
            InterestRecorded,
            InterestRejected,
            InterestRemoved,
            PersonErased,
            SessionQuestionAccepted,
            SessionQuestionRejected,
            AttendanceAccepted,
            AttendanceRejected,
            FeedbackRejected,
        ],
        unit=MongoUnit,
    )

    service.consume(RegistrationRequested, handlers.register_member)
    service.consume(SessionSignupRequested, handlers.sign_up)
    service.consume(SessionSignupCancelled, handlers.cancel_signup)
    service.consume(MemberLeaveRequested, handlers.leave_group)
    service.consume(SessionScheduled, handlers.track_session)
    service.consume(SessionRescheduled, handlers.track_session)
    service.consume(SessionCancelled, handlers.close_session)
    service.consume(InterestDeclared, handlers.declare_interest)
    service.consume(InterestWithdrawn, handlers.withdraw_interest)
    service.consume(SessionQuestionSubmitted, cycle.accept_question)
    service.consume(AttendanceRecorded, cycle.record_attendance)
    service.consume(FeedbackSubmitted, cycle.record_feedback)
    service.expose("/report", report.activity, description="The year's members and sessions.")
    service.add_status(status_view(clock or system_clock, service.settings.session_capacity))

    async def setup(svc: Service[Deps, Unit], db: Database) -> Deps:
        await create_indexes(db)
        return Deps(clock=clock or system_clock, capacity=svc.settings.session_capacity)

    return service.create_app(setup)
