"""Events of the notifications service: one per delivery outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import EmailText, Identifier, Reason, ShortText, Timestamp

EmailKind = Literal[
    "welcome",
    "rejection",
    "topic_acknowledgement",
    "topic_notice",
    "programme_announcement",
    "session_invitation",
    "session_update",
    "session_cancellation",
    "reminder",
    "signup_confirmation",
    "signup_waitlist",
    "signup_promotion",
    "signup_rejection",
    "ballot_rejection",
    "leave_confirmation",
    "interest_confirmation",
    "interest_rejection",
    "session_announcement",
    "confirmation_link",
    "question_rejection",
    "question_digest",
    "question_forward",
    "attendance_rejection",
    "thanks",
    "feedback_rejection",
    "session_report",
    "expertise_needs",
    "expert_invitation",
    "expert_confirmation",
    "expert_acceptance",
    "expert_decline",
    "expert_no_answer",
    "expert_invitation_rejection",
    "expert_response_rejection",
]


class NotificationSentData(Data):
    """An email was accepted by the SMTP relay."""

    delivery_id: Identifier = Field(description="Delivery key (cause id, recipient, kind).")
    cause_id: Identifier = Field(description="Id of the event that caused the email.")
    cause_type: ShortText = Field(description="Type of that event.")
    kind: EmailKind = Field(description="Which email.")
    recipient: EmailText = Field(description="Recipient address.")
    subject: ShortText = Field(description="Email subject.")
    sent_at: Timestamp = Field(description="When the relay accepted it.")


class NotificationFailedData(Data):
    """An email could not be delivered and will not be retried."""

    delivery_id: Identifier = Field(description="Delivery key (cause id, recipient, kind).")
    cause_id: Identifier = Field(description="Id of the event that caused the email.")
    cause_type: ShortText = Field(description="Type of that event.")
    kind: EmailKind = Field(description="Which email.")
    recipient: EmailText = Field(description="Recipient address.")
    error: Reason = Field(description="The SMTP server's answer or the cause.")
    failed_at: Timestamp = Field(description="When it was given up.")


class NotificationSent(CloudEvent[NotificationSentData]):
    """notification_sent"""

    type: Literal["notification_sent"]


class NotificationFailed(CloudEvent[NotificationFailedData]):
    """notification_failed"""

    type: Literal["notification_failed"]
