"""Experts mobilised for a session: invited by a coordinator, answering in one click.

The scheduling service keeps each session's experts (the session's `experts` and its
SEQUENCE change when one accepts or changes their mind); the notifications service tells
the expert, the coordinators and the group.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import EmailText, Identifier, LongText, Name, ShortText

SessionRefusal = Literal["unknown_session", "cancelled_session", "past_session"]


class ExpertData(Data):
    """An expert and the session they are invited to."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="The expert's address.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    organisation: ShortText = Field(description="Their organisation.")
    expertise: ShortText = Field(description="Their expertise.")


class ExpertInvitedData(ExpertData):
    """An expert is invited to a session (once per session, whatever the requests)."""

    message: LongText | None = Field(default=None, description="The coordinator's message.")


class ExpertAcceptedData(ExpertData):
    """An expert accepted to contribute to the session."""

    note: LongText | None = Field(default=None, description="Their note, if any.")


class ExpertDeclinedData(ExpertData):
    """An expert declined (or, having accepted, changed their mind)."""

    note: LongText | None = Field(default=None, description="Their note, if any.")
    changed_mind: bool = Field(default=False, description="True when they had accepted.")


class ExpertNoAnswerData(ExpertData):
    """An invited expert has not answered 7 days before the session (told once)."""


class ExpertInvitationRejectedData(Data):
    """An invitation could not be sent; the coordinators are told why."""

    session_id: Identifier = Field(description="The session asked for.")
    email: EmailText = Field(description="The expert's address as given.")
    reason: Literal[SessionRefusal, "invalid"] = Field(description="Why.")
    detail: LongText = Field(description="Explanation in French, for the coordinators.")


class ExpertResponseRejectedData(Data):
    """An answer could not be taken; the person is told why."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="Who answered.")
    reason: Literal[SessionRefusal, "not_invited", "invalid"] = Field(description="Why.")
    detail: LongText = Field(description="Explanation in French, for the email.")


class ExpertInvited(CloudEvent[ExpertInvitedData]):
    """expert_invited"""

    type: Literal["expert_invited"]


class ExpertAccepted(CloudEvent[ExpertAcceptedData]):
    """expert_accepted"""

    type: Literal["expert_accepted"]


class ExpertDeclined(CloudEvent[ExpertDeclinedData]):
    """expert_declined"""

    type: Literal["expert_declined"]


class ExpertNoAnswer(CloudEvent[ExpertNoAnswerData]):
    """expert_no_answer"""

    type: Literal["expert_no_answer"]


class ExpertInvitationRejected(CloudEvent[ExpertInvitationRejectedData]):
    """expert_invitation_rejected"""

    type: Literal["expert_invitation_rejected"]


class ExpertResponseRejected(CloudEvent[ExpertResponseRejectedData]):
    """expert_response_rejected"""

    type: Literal["expert_response_rejected"]
