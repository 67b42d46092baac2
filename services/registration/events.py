"""The events the registration service emits, built from its records (deterministic ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.registration.domain import Refusal
from services.registration.records import (
    Attendance,
    InterestedPerson,
    Member,
    Participant,
    SessionRecord,
)
from shared.contract import CloudEvent
from shared.contract.cycle import (
    AttendanceAccepted,
    AttendanceAcceptedData,
    AttendanceRejected,
    AttendanceRejectedData,
    Attendee,
    FeedbackRejected,
    FeedbackRejectedData,
    SessionQuestionAccepted,
    SessionQuestionAcceptedData,
    SessionQuestionRejected,
    SessionQuestionRejectedData,
)
from shared.contract.interest import (
    InterestRecorded,
    InterestRecordedData,
    InterestRejected,
    InterestRejectedData,
    InterestRemoved,
    InterestRemovedData,
    PersonErased,
    PersonErasedData,
)
from shared.contract.registration import (
    MemberErased,
    MemberErasedData,
    MemberLeft,
    MemberLeftData,
    MemberRegistered,
    MemberRegisteredData,
    ParticipantEnrolled,
    ParticipantEnrolledData,
    ParticipantWithdrawn,
    ParticipantWithdrawnData,
    RegistrationRejected,
    RegistrationRejectedData,
    SessionSignupRejected,
    SessionSignupRejectedData,
)
from shared.identity import person_key

SOURCE = "urn:caprural:registration"

WithdrawalReason = Literal["cancelled_by_participant", "member_left", "session_cancelled"]


def member_registered(member: Member, *, cause: CloudEvent[Any]) -> MemberRegistered:
    """A member joined (or joined again after leaving)."""
    data = MemberRegisteredData(
        member_id=member.member_id,
        email=member.email,
        first_name=member.first_name,
        last_name=member.last_name,
        role=member.role,
        organisation=member.organisation,
        territory=member.territory,
        approach=member.approach,
        topics_of_interest=list(member.topics_of_interest),
        registered_at=member.registered_at,
    )
    return MemberRegistered.create(
        data, source=SOURCE, subject=member.member_id, cause_id=cause.id, time=member.registered_at
    )


def registration_rejected(
    refusal: Refusal, *, email: str, first_name: str, cause: CloudEvent[Any], at: datetime
) -> RegistrationRejected:
    """A registration was refused, with the French reason."""
    data = RegistrationRejectedData.model_validate(
        {
            "email": email,
            "first_name": first_name,
            "reason": refusal.reason,
            "detail": refusal.detail,
        }
    )
    return RegistrationRejected.create(
        data, source=SOURCE, subject=person_key(email), cause_id=cause.id, time=at
    )


def signup_rejected(
    refusal: Refusal,
    *,
    session_id: str,
    email: str,
    first_name: str,
    cause: CloudEvent[Any],
    at: datetime,
) -> SessionSignupRejected:
    """A sign-up was refused, with the French reason."""
    data = SessionSignupRejectedData.model_validate(
        {
            "session_id": session_id,
            "email": email,
            "first_name": first_name,
            "reason": refusal.reason,
            "detail": refusal.detail,
        }
    )
    return SessionSignupRejected.create(
        data, source=SOURCE, subject=session_id, cause_id=cause.id, time=at
    )


def participant_enrolled(
    participant: Participant,
    *,
    cause: CloudEvent[Any],
    at: datetime,
    waitlist_position: int | None = None,
    promoted: bool = False,
) -> ParticipantEnrolled:
    """A place (or a waitlist position), new or obtained by promotion."""
    data = ParticipantEnrolledData(
        session_id=participant.session_id,
        participant_id=participant.participant_id,
        email=participant.email,
        first_name=participant.first_name,
        last_name=participant.last_name,
        status="enrolled" if promoted else participant.status,
        waitlist_position=waitlist_position,
        promoted=promoted,
        is_member=participant.is_member,
    )
    return ParticipantEnrolled.create(
        data,
        source=SOURCE,
        subject=participant.session_id,
        cause_id=cause.id,
        discriminator=participant.participant_id,
        time=at,
    )


def participant_withdrawn(
    participant: Participant, *, reason: WithdrawalReason, cause: CloudEvent[Any], at: datetime
) -> ParticipantWithdrawn:
    """A place or waitlist position was given up."""
    data = ParticipantWithdrawnData(
        session_id=participant.session_id,
        participant_id=participant.participant_id,
        email=participant.email,
        reason=reason,
    )
    return ParticipantWithdrawn.create(
        data,
        source=SOURCE,
        subject=participant.session_id,
        cause_id=cause.id,
        discriminator=participant.participant_id,
        time=at,
    )


def member_left(member: Member, *, erase: bool, cause: CloudEvent[Any], at: datetime) -> MemberLeft:
    """The member left; they get nothing more."""
    data = MemberLeftData(
        member_id=member.member_id, email=member.email, first_name=member.first_name, erase=erase
    )
    return MemberLeft.create(
        data, source=SOURCE, subject=member.member_id, cause_id=cause.id, time=at
    )


def member_erased(member: Member, *, cause: CloudEvent[Any], at: datetime) -> MemberErased:
    """Every service must now forget the member's personal data."""
    return MemberErased.create(
        MemberErasedData(member_id=member.member_id),
        source=SOURCE,
        subject=member.member_id,
        cause_id=cause.id,
        time=at,
    )


def interest_recorded(
    person: InterestedPerson, *, origin: Literal["declared", "not_eligible"], cause: CloudEvent[Any]
) -> InterestRecorded:
    """The person is on the interest list (for every session when `topic_ids` is empty)."""
    data = InterestRecordedData(
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        topic_ids=list(person.topic_ids),
        origin=origin,
    )
    return InterestRecorded.create(
        data,
        source=SOURCE,
        subject=person_key(person.email_key),
        cause_id=cause.id,
        time=person.since,
    )


def interest_rejected(
    refusal: Refusal, *, email: str, first_name: str, cause: CloudEvent[Any], at: datetime
) -> InterestRejected:
    """A declaration of interest was refused, with the French reason."""
    data = InterestRejectedData.model_validate(
        {"email": email, "first_name": first_name, "reason": "invalid", "detail": refusal.detail}
    )
    return InterestRejected.create(
        data, source=SOURCE, subject=person_key(email), cause_id=cause.id, time=at
    )


def interest_removed(
    person: InterestedPerson,
    *,
    reason: Literal["withdrawn", "erased"],
    cause: CloudEvent[Any],
    at: datetime,
) -> InterestRemoved:
    """The person is off the interest list."""
    data = InterestRemovedData(email=person.email, reason=reason)
    return InterestRemoved.create(
        data, source=SOURCE, subject=person_key(person.email_key), cause_id=cause.id, time=at
    )


def person_erased(email_key: str, *, cause: CloudEvent[Any], at: datetime) -> PersonErased:
    """Every service must now forget this person (found by pseudonym, never by address)."""
    person = person_key(email_key)
    return PersonErased.create(
        PersonErasedData(person=person), source=SOURCE, subject=person, cause_id=cause.id, time=at
    )


def question_accepted(
    *,
    session_id: str,
    email: str,
    asked_by: str,
    question: str,
    cause: CloudEvent[Any],
    at: datetime,
) -> SessionQuestionAccepted:
    """A question the asker may bring to the session."""
    data = SessionQuestionAcceptedData(
        session_id=session_id, email=email, asked_by=asked_by, question=question
    )
    return SessionQuestionAccepted.create(
        data, source=SOURCE, subject=session_id, cause_id=cause.id, time=at
    )


def question_rejected(
    refusal: Refusal,
    *,
    session_id: str,
    email: str,
    first_name: str | None,
    cause: CloudEvent[Any],
    at: datetime,
) -> SessionQuestionRejected:
    """A question was refused, with the French reason."""
    data = SessionQuestionRejectedData.model_validate(
        {
            "session_id": session_id,
            "email": email,
            "first_name": first_name,
            "reason": refusal.reason,
            "detail": refusal.detail,
        }
    )
    return SessionQuestionRejected.create(
        data, source=SOURCE, subject=session_id, cause_id=cause.id, time=at
    )


def attendance_accepted(
    session: SessionRecord,
    attendees: list[Attendance],
    *,
    unmatched: int,
    cause: CloudEvent[Any],
    at: datetime,
) -> AttendanceAccepted:
    """Who attended (those matched among members and participants)."""
    data = AttendanceAcceptedData(
        session_id=session.session_id,
        attendees=[Attendee(email=a.email, first_name=a.first_name) for a in attendees if a.email],
        unmatched=unmatched,
        ends_at=session.ends_at,
    )
    return AttendanceAccepted.create(
        data, source=SOURCE, subject=session.session_id, cause_id=cause.id, time=at
    )


def attendance_rejected(
    refusal: Refusal, *, session_id: str, cause: CloudEvent[Any], at: datetime
) -> AttendanceRejected:
    """An attendance list was refused, with the French reason."""
    data = AttendanceRejectedData.model_validate(
        {"session_id": session_id, "reason": refusal.reason, "detail": refusal.detail}
    )
    return AttendanceRejected.create(
        data, source=SOURCE, subject=session_id, cause_id=cause.id, time=at
    )


def feedback_rejected(
    refusal: Refusal, *, session_id: str, email: str, cause: CloudEvent[Any], at: datetime
) -> FeedbackRejected:
    """A rating was refused, with the French reason."""
    data = FeedbackRejectedData.model_validate(
        {
            "session_id": session_id,
            "email": email,
            "reason": refusal.reason,
            "detail": refusal.detail,
        }
    )
    return FeedbackRejected.create(
        data, source=SOURCE, subject=session_id, cause_id=cause.id, time=at
    )
