"""The session cycle and experts: questions before, attendance, the compte rendu and
ratings after, and experts invited to a session (inbound requests)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import (
    EmailText,
    Identifier,
    LongText,
    Name,
    ShortText,
    Timestamp,
    Url,
    printable_text,
    single_line,
)
from shared.contract.scheduling import SessionData

QuestionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(printable_text),
]
"""A question or case brought to a session (2,000 characters at most)."""

AttendeeText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=254),
    AfterValidator(single_line),
]
"""An entry of a webconference tool's export: an address, or whatever the tool wrote (an
entry matched to nobody is counted, not refused)."""

SummaryText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(printable_text),
]
"""The compte rendu of a session (20,000 characters at most), plain text."""


class SessionQuestionSubmittedData(Data):
    """A member or participant brings a question or a case to a session."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="Who asks (a member or a participant).")
    question: QuestionText = Field(description="The question or case, plain text.")


class AttendanceRecordedData(Data):
    """Who attended a session (the webconference tool's export); recorded again replaces."""

    session_id: Identifier = Field(description="The session.")
    attendees: list[AttendeeText] = Field(
        max_length=2000, description="Email addresses of the attendees, as exported."
    )


class Resource(Data):
    """A resource shared after a session."""

    title: ShortText = Field(description="Its title.")
    url: Url = Field(description="An http or https link.")


class SessionReportPublishedData(Data):
    """The compte rendu of a session; a later one for the same session replaces it."""

    session_id: Identifier = Field(description="The session.")
    summary: SummaryText = Field(description="The summary, plain text (paragraphs, lists).")
    resources: list[Resource] = Field(default_factory=list, max_length=50)
    next_steps: list[LongText] = Field(default_factory=list, max_length=50)
    expertise_needs: list[LongText] = Field(default_factory=list, max_length=50)


class FeedbackSubmittedData(Data):
    """An attendee rates a session."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="The attendee.")
    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    comment: LongText | None = Field(default=None, description="An optional comment.")


class ExpertInvitationRequestedData(Data):
    """A coordinator invites an expert to a session."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="The expert's address.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    organisation: ShortText = Field(description="The expert's organisation.")
    expertise: ShortText = Field(description="Their expertise, as members will read it.")
    message: LongText | None = Field(default=None, description="The coordinator's message.")


class ExpertResponseSubmittedData(Data):
    """An expert accepts or declines an invitation."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="The expert's address.")
    response: Literal["accepted", "declined"] = Field(description="The answer.")
    note: LongText | None = Field(default=None, description="An optional note.")


class SessionQuestionSubmitted(CloudEvent[SessionQuestionSubmittedData]):
    """session_question_submitted"""

    type: Literal["session_question_submitted"]


class AttendanceRecorded(CloudEvent[AttendanceRecordedData]):
    """attendance_recorded"""

    type: Literal["attendance_recorded"]


class SessionReportPublished(CloudEvent[SessionReportPublishedData]):
    """session_report_published"""

    type: Literal["session_report_published"]


class FeedbackSubmitted(CloudEvent[FeedbackSubmittedData]):
    """feedback_submitted"""

    type: Literal["feedback_submitted"]


class ExpertInvitationRequested(CloudEvent[ExpertInvitationRequestedData]):
    """expert_invitation_requested"""

    type: Literal["expert_invitation_requested"]


class ExpertResponseSubmitted(CloudEvent[ExpertResponseSubmittedData]):
    """expert_response_submitted"""

    type: Literal["expert_response_submitted"]


# --- produced: the registration service (people: who may ask, attend, rate) -------------

QuestionRejectionReason = Literal[
    "unknown_session", "cancelled_session", "past_session", "not_a_participant", "invalid"
]


class SessionQuestionAcceptedData(Data):
    """A member or participant's question for a session, accepted."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="Who asked (for erasure; never shown to others).")
    asked_by: Name = Field(description="Who asked, as the coordinators read it.")
    question: QuestionText = Field(description="The question or case, plain text.")


class SessionQuestionRejectedData(Data):
    """A question was refused; the person is told why."""

    session_id: Identifier = Field(description="The session asked about.")
    email: EmailText = Field(description="Who asked (may be invalid).")
    first_name: Name | None = Field(default=None, description="First name, if known.")
    reason: QuestionRejectionReason = Field(description="Why the question was refused.")
    detail: LongText = Field(description="Explanation in French, for the email.")


class Attendee(Data):
    """Someone matched among the members and participants."""

    email: EmailText = Field(description="Their address as registered.")
    first_name: Name | None = Field(default=None, description="First name.")


class AttendanceAcceptedData(Data):
    """Who attended a session (members and participants); a later one replaces it."""

    session_id: Identifier = Field(description="The session.")
    attendees: list[Attendee] = Field(max_length=2000, description="Those matched.")
    unmatched: int = Field(ge=0, description="Addresses matched to nobody (counted only).")
    ends_at: Timestamp = Field(description="When the session ends (thank-you emails after).")


class AttendanceRejectedData(Data):
    """An attendance list was refused (e.g. recorded before the session started)."""

    session_id: Identifier = Field(description="The session.")
    reason: Literal["unknown_session", "not_started", "cancelled_session"] = Field(
        description="Why it was refused."
    )
    detail: LongText = Field(description="Explanation in French, for the coordinators.")


class FeedbackRejectedData(Data):
    """A rating was refused; the person is told why."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="Who rated (may be invalid).")
    reason: Literal["not_an_attendee", "unknown_session", "invalid"] = Field(
        description="Why it was refused."
    )
    detail: LongText = Field(description="Explanation in French, for the email.")


# --- produced: the scheduling service (sessions: the digest, the compte rendu) ----------


class AskedQuestion(Data):
    """A question as the coordinators and experts read it."""

    asked_by: Name = Field(description="Who asked.")
    question: QuestionText = Field(description="The question or case.")
    asked_at: Timestamp = Field(description="When it was accepted.")


class QuestionDigestDueData(SessionData):
    """The questions of a session, once it is within QUESTION_DIGEST_HOURS of its start."""

    questions: list[AskedQuestion] = Field(
        default_factory=list, max_length=500, description="Every question so far."
    )


class SessionQuestionForwardedData(SessionData):
    """A question that arrived after the digest, on its own."""

    asked: AskedQuestion = Field(description="The question.")


class SessionReportSharedData(SessionData):
    """The compte rendu of a session, to share; a version above 1 replaces the earlier."""

    report_version: int = Field(ge=1, description="1 for the first, then +1 per update.")
    summary: SummaryText = Field(description="The summary, plain text.")
    resources: list[Resource] = Field(default_factory=list, max_length=50)
    next_steps: list[LongText] = Field(default_factory=list, max_length=50)
    expertise_needs: list[LongText] = Field(default_factory=list, max_length=50)


class SessionQuestionAccepted(CloudEvent[SessionQuestionAcceptedData]):
    """session_question_accepted"""

    type: Literal["session_question_accepted"]


class SessionQuestionRejected(CloudEvent[SessionQuestionRejectedData]):
    """session_question_rejected"""

    type: Literal["session_question_rejected"]


class AttendanceAccepted(CloudEvent[AttendanceAcceptedData]):
    """attendance_accepted"""

    type: Literal["attendance_accepted"]


class AttendanceRejected(CloudEvent[AttendanceRejectedData]):
    """attendance_rejected"""

    type: Literal["attendance_rejected"]


class FeedbackRejected(CloudEvent[FeedbackRejectedData]):
    """feedback_rejected"""

    type: Literal["feedback_rejected"]


class QuestionDigestDue(CloudEvent[QuestionDigestDueData]):
    """question_digest_due"""

    type: Literal["question_digest_due"]


class SessionQuestionForwarded(CloudEvent[SessionQuestionForwardedData]):
    """session_question_forwarded"""

    type: Literal["session_question_forwarded"]


class SessionReportShared(CloudEvent[SessionReportSharedData]):
    """session_report_shared"""

    type: Literal["session_report_shared"]
