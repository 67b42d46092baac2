"""The open group: the interest list, erasure of anyone, and confirmations by email.

Anyone may ask to be told of the sessions whose question interests them
(`interest_declared`); the registration service keeps the list, the notifications
service announces each new session to the people it concerns. `person_erased` asks every
service to forget a person, member or not, by pseudonym. `confirmation_requested` is the
gateway asking for a link to be mailed before it acts on a form (double opt-in).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import EmailText, Identifier, Name, Reason, ShortText

# --- inbound (other systems, or the gateway) -------------------------------------------


class InterestDeclaredData(Data):
    """Someone asks to be told of the sessions on some topics, or on every topic."""

    email: EmailText = Field(description="Email address, as typed by the person.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    organisation: ShortText | None = Field(default=None, description="Employer, if given.")
    topic_ids: list[Identifier] = Field(
        default_factory=list,
        max_length=50,
        description="Programme topics of interest; empty: every session.",
    )
    consent: StrictBool = Field(description="Consent to be emailed; must be true.")


class InterestWithdrawnData(Data):
    """Someone no longer wants to be told of the sessions."""

    email: EmailText = Field(description="The address on the interest list.")


# --- produced by the registration service ----------------------------------------------


class InterestRecordedData(Data):
    """A person is on the interest list (new, or with new topics)."""

    email: EmailText = Field(description="Email address as given (for sending).")
    first_name: Name = Field(description="First name.")
    last_name: Name | None = Field(default=None, description="Last name, if known.")
    topic_ids: list[Identifier] = Field(
        default_factory=list, max_length=50, description="Topics of interest; empty: all."
    )
    origin: Literal["declared", "not_eligible"] = Field(
        description="declared (asked for), or not_eligible (refused membership: put on the "
        "list for every session, which the rejection email says)."
    )


class InterestRejectedData(Data):
    """A declaration of interest was refused; the person is told why."""

    email: EmailText = Field(description="Email address as given (may be invalid).")
    first_name: Name | None = Field(default=None, description="First name, if known.")
    reason: Literal["invalid"] = Field(description="invalid (consent, address or names).")
    detail: Reason = Field(description="Explanation in French, for the email.")


class InterestRemovedData(Data):
    """A person is no longer on the interest list."""

    email: EmailText = Field(description="The address that was on the list.")
    reason: Literal["withdrawn", "erased"] = Field(description="Why.")


class PersonErasedData(Data):
    """Every service must forget a person, member or not (RGPD)."""

    person: Identifier = Field(
        description="The person's pseudonym (a digest of their address key, never the "
        "address): what every service finds their data by."
    )


# --- produced by the gateway ------------------------------------------------------------


class ConfirmationRequestedData(Data):
    """A form was filled in on the public pages: mail a one-click confirmation link to the
    address given; the request is made only once the link is followed (nobody can sign
    someone else up). The link is made by the notifications service: no capability
    travels on Kafka."""

    purpose: Literal["signup", "interest"] = Field(
        description="What the link confirms: a session sign-up, or a declaration of interest."
    )
    email: EmailText = Field(description="Email address, as typed.")
    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    organisation: ShortText | None = Field(default=None, description="Employer, if given.")
    session_id: Identifier | None = Field(default=None, description="The session (sign-up).")
    topic_ids: list[Identifier] = Field(
        default_factory=list, max_length=50, description="Topics of interest (interest)."
    )


class InterestDeclared(CloudEvent[InterestDeclaredData]):
    """interest_declared"""

    type: Literal["interest_declared"]


class InterestWithdrawn(CloudEvent[InterestWithdrawnData]):
    """interest_withdrawn"""

    type: Literal["interest_withdrawn"]


class InterestRecorded(CloudEvent[InterestRecordedData]):
    """interest_recorded"""

    type: Literal["interest_recorded"]


class InterestRejected(CloudEvent[InterestRejectedData]):
    """interest_rejected"""

    type: Literal["interest_rejected"]


class InterestRemoved(CloudEvent[InterestRemovedData]):
    """interest_removed"""

    type: Literal["interest_removed"]


class PersonErased(CloudEvent[PersonErasedData]):
    """person_erased"""

    type: Literal["person_erased"]


class ConfirmationRequested(CloudEvent[ConfirmationRequestedData]):
    """confirmation_requested"""

    type: Literal["confirmation_requested"]
