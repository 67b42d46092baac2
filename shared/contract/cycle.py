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
    Url,
    printable_text,
)

QuestionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(printable_text),
]
"""A question or case brought to a session (2,000 characters at most)."""

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
    attendees: list[EmailText] = Field(
        max_length=2000, description="Email addresses of the attendees."
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
