"""Events of the registration service: members, sign-ups, leaving and erasure."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import EmailText, Identifier, Name, Reason, ShortText, Timestamp

# --- inbound (published by other Cap Rural systems) -------------------------------


class RegistrationRequestedData(Data):
    """Someone asks to join the practice-exchange group (website form, CRM)."""

    email: EmailText = Field(description="Email address, as typed by the person.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    role: ShortText = Field(
        description="Job: charge_de_mission, chef_de_projet, or another free value "
        "(usual spellings such as 'Chargée de mission' are recognised)."
    )
    organisation: ShortText = Field(description="Employer (community of communes, PNR...).")
    territory: ShortText = Field(description="Territory the person works for.")
    approach: ShortText = Field(
        description="Territorial food approach led: PAT, SAT or other (case-insensitive)."
    )
    topics_of_interest: list[ShortText] = Field(
        default_factory=list, max_length=20, description="Topics the person cares about."
    )
    consent: StrictBool = Field(
        description="Consent to the processing of personal data; must be true."
    )


class SessionSignupRequestedData(Data):
    """Someone (member or not) signs up for one session."""

    session_id: Identifier = Field(description="The session signed up for.")
    email: EmailText = Field(description="Email address of the participant.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    organisation: ShortText | None = Field(default=None, description="Employer, if given.")


class SessionSignupCancelledData(Data):
    """A participant withdraws from one session."""

    session_id: Identifier = Field(description="The session.")
    email: EmailText = Field(description="Email address used to sign up.")


class MemberLeaveRequestedData(Data):
    """A member leaves the group, optionally erasing their personal data (RGPD)."""

    email: EmailText = Field(description="The member's email address.")
    erase: StrictBool = Field(default=False, description="Also erase all personal data.")


# --- produced by the registration service -----------------------------------------

RejectionReason = Literal["not_eligible", "already_member", "invalid"]
SignupRejectionReason = Literal[
    "unknown_session", "past_session", "cancelled_session", "invalid", "already_enrolled"
]


class MemberRegisteredData(Data):
    """A new member joined the group."""

    member_id: Identifier = Field(description="Pseudonymous member id (stable, random).")
    email: EmailText = Field(description="Email address as given (for sending).")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    role: ShortText = Field(description="Normalised role: charge_de_mission or chef_de_projet.")
    organisation: ShortText = Field(description="Employer.")
    territory: ShortText = Field(description="Territory.")
    approach: Literal["PAT", "SAT"] = Field(description="Normalised approach.")
    topics_of_interest: list[ShortText] = Field(default_factory=list, max_length=20)
    registered_at: Timestamp = Field(description="When the member was registered.")


class RegistrationRejectedData(Data):
    """A registration was refused; the person is told why."""

    email: EmailText = Field(description="Email address as given (may be invalid).")
    first_name: Name | None = Field(default=None, description="First name, if known.")
    reason: RejectionReason = Field(description="not_eligible, already_member or invalid.")
    detail: Reason = Field(description="Explanation in French, for the email.")


class ParticipantEnrolledData(Data):
    """A person holds a place (or a waitlist position) for a session."""

    session_id: Identifier = Field(description="The session.")
    participant_id: Identifier = Field(description="Pseudonymous participant id.")
    email: EmailText = Field(description="Email address as given.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    status: Literal["enrolled", "waitlisted"] = Field(description="Place or waitlist.")
    waitlist_position: int | None = Field(
        default=None, ge=1, description="1-based position on the waitlist when waitlisted."
    )
    promoted: bool = Field(default=False, description="True when moved from the waitlist.")
    is_member: bool = Field(default=False, description="True when the person is a member.")


class ParticipantWithdrawnData(Data):
    """A participant gave up their place or waitlist position."""

    session_id: Identifier = Field(description="The session.")
    participant_id: Identifier = Field(description="Pseudonymous participant id.")
    email: EmailText = Field(description="Email address as given.")
    reason: Literal["cancelled_by_participant", "member_left", "session_cancelled"] = Field(
        description="Why the participant was withdrawn."
    )


class SessionSignupRejectedData(Data):
    """A sign-up could not be accepted."""

    session_id: Identifier = Field(description="The session asked for.")
    email: EmailText = Field(description="Email address as given.")
    first_name: Name | None = Field(default=None, description="First name, if known.")
    reason: SignupRejectionReason = Field(description="Why the sign-up was refused.")
    detail: Reason = Field(description="Explanation in French, for the email.")


class MemberLeftData(Data):
    """A member left the group; they receive nothing more."""

    member_id: Identifier = Field(description="Pseudonymous member id.")
    email: EmailText = Field(description="Email address (for the leave confirmation).")
    first_name: Name = Field(description="First name.")
    erase: bool = Field(description="True when the personal data is being erased too.")


class MemberErasedData(Data):
    """A former member's personal data must be erased from every service."""

    member_id: Identifier = Field(description="Pseudonymous member id; the only trace kept.")


class RegistrationRequested(CloudEvent[RegistrationRequestedData]):
    """registration_requested"""

    type: Literal["registration_requested"]


class SessionSignupRequested(CloudEvent[SessionSignupRequestedData]):
    """session_signup_requested"""

    type: Literal["session_signup_requested"]


class SessionSignupCancelled(CloudEvent[SessionSignupCancelledData]):
    """session_signup_cancelled"""

    type: Literal["session_signup_cancelled"]


class MemberLeaveRequested(CloudEvent[MemberLeaveRequestedData]):
    """member_leave_requested"""

    type: Literal["member_leave_requested"]


class MemberRegistered(CloudEvent[MemberRegisteredData]):
    """member_registered"""

    type: Literal["member_registered"]


class RegistrationRejected(CloudEvent[RegistrationRejectedData]):
    """registration_rejected"""

    type: Literal["registration_rejected"]


class ParticipantEnrolled(CloudEvent[ParticipantEnrolledData]):
    """participant_enrolled"""

    type: Literal["participant_enrolled"]


class ParticipantWithdrawn(CloudEvent[ParticipantWithdrawnData]):
    """participant_withdrawn"""

    type: Literal["participant_withdrawn"]


class SessionSignupRejected(CloudEvent[SessionSignupRejectedData]):
    """session_signup_rejected"""

    type: Literal["session_signup_rejected"]


class MemberLeft(CloudEvent[MemberLeftData]):
    """member_left"""

    type: Literal["member_left"]


class MemberErased(CloudEvent[MemberErasedData]):
    """member_erased"""

    type: Literal["member_erased"]
