"""Every event of the contract, by type name (also its Kafka topic name)."""

from __future__ import annotations

from typing import Any

from shared.contract.cycle import (
    AttendanceAccepted,
    AttendanceRecorded,
    AttendanceRejected,
    ExpertInvitationRequested,
    ExpertResponseSubmitted,
    FeedbackRejected,
    FeedbackSubmitted,
    QuestionDigestDue,
    SessionQuestionAccepted,
    SessionQuestionForwarded,
    SessionQuestionRejected,
    SessionQuestionSubmitted,
    SessionReportPublished,
    SessionReportShared,
)
from shared.contract.envelope import CloudEvent
from shared.contract.experts import (
    ExpertAccepted,
    ExpertDeclined,
    ExpertInvitationRejected,
    ExpertInvited,
    ExpertNoAnswer,
    ExpertResponseRejected,
)
from shared.contract.interest import (
    ConfirmationRequested,
    InterestDeclared,
    InterestRecorded,
    InterestRejected,
    InterestRemoved,
    InterestWithdrawn,
    PersonErased,
)
from shared.contract.notifications import NotificationFailed, NotificationSent
from shared.contract.programme import (
    BallotRejected,
    ProgrammePublicationRequested,
    ProgrammePublished,
    TopicAccepted,
    TopicCommented,
    TopicProposed,
    TopicVoteCast,
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

INBOUND: tuple[type[CloudEvent[Any]], ...] = (
    RegistrationRequested,
    SessionSignupRequested,
    SessionSignupCancelled,
    MemberLeaveRequested,
    TopicProposed,
    TopicCommented,
    TopicVoteCast,
    ProgrammePublicationRequested,
    SessionScheduleRequested,
    SessionRescheduleRequested,
    SessionCancelRequested,
    InterestDeclared,
    InterestWithdrawn,
    SessionQuestionSubmitted,
    AttendanceRecorded,
    SessionReportPublished,
    FeedbackSubmitted,
    ExpertInvitationRequested,
    ExpertResponseSubmitted,
)
"""Requests that other Cap Rural systems (or the gateway) publish into the platform."""

PRODUCED: tuple[type[CloudEvent[Any]], ...] = (
    MemberRegistered,
    RegistrationRejected,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    SessionSignupRejected,
    MemberLeft,
    MemberErased,
    TopicAccepted,
    ProgrammePublished,
    BallotRejected,
    SessionScheduled,
    SessionRescheduled,
    SessionCancelled,
    SessionRejected,
    SessionReminderDue,
    NotificationSent,
    NotificationFailed,
    InterestRecorded,
    InterestRejected,
    InterestRemoved,
    PersonErased,
    ConfirmationRequested,
    SessionQuestionAccepted,
    SessionQuestionRejected,
    AttendanceAccepted,
    AttendanceRejected,
    FeedbackRejected,
    QuestionDigestDue,
    SessionQuestionForwarded,
    SessionReportShared,
    ExpertInvited,
    ExpertAccepted,
    ExpertDeclined,
    ExpertNoAnswer,
    ExpertInvitationRejected,
    ExpertResponseRejected,
)
"""Facts (and the gateway's confirmation requests) the platform's services publish."""

EVENTS: dict[str, type[CloudEvent[Any]]] = {cls.event_type: cls for cls in INBOUND + PRODUCED}


def event_model(event_type: str) -> type[CloudEvent[Any]]:
    """The envelope model of an event type; KeyError names the known types."""
    try:
        return EVENTS[event_type]
    except KeyError:
        known = ", ".join(sorted(EVENTS))
        raise KeyError(f"unknown event type {event_type!r}; known types: {known}") from None


def topic_name(event_type: str, prefix: str = "") -> str:
    """The Kafka topic of an event type: its name, with the deployment's prefix."""
    return f"{prefix}{event_type}"


def dlq_topic_name(topic: str) -> str:
    """The dead-letter topic of a topic."""
    return f"{topic}.dlq"
