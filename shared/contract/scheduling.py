"""Events of the scheduling service: sessions, changes and reminders."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import Identifier, Name, Question, Reason, ShortText, Timestamp, Url

TIMEZONE = "Europe/Paris"

# --- inbound -----------------------------------------------------------------------


class SessionScheduleRequestedData(Data):
    """The coordinators ask for a session (the launch of a year, or an extra one)."""

    title: ShortText = Field(description="Title of the session.")
    question: Question = Field(description="The one question on the agenda.")
    starts_at: Timestamp = Field(description="Start, timezone-aware.")
    ends_at: Timestamp = Field(description="End, timezone-aware.")
    topic_id: Identifier | None = Field(default=None, description="Programme topic, if any.")
    join_url: Url | None = Field(default=None, description="Webconference link, if known.")


class SessionRescheduleRequestedData(Data):
    """Move a session to another slot."""

    session_id: Identifier = Field(description="The session.")
    starts_at: Timestamp = Field(description="New start, timezone-aware.")
    ends_at: Timestamp = Field(description="New end, timezone-aware.")


class SessionCancelRequestedData(Data):
    """Cancel a session."""

    session_id: Identifier = Field(description="The session.")
    reason: Reason = Field(description="Why (told to the participants).")


# --- produced ----------------------------------------------------------------------


class ExpertAtSession(Data):
    """An expert who accepted to contribute to a session, as members read it (no address)."""

    first_name: Name = Field(description="First name.")
    last_name: Name = Field(description="Last name.")
    organisation: ShortText = Field(description="Their organisation.")
    expertise: ShortText = Field(description="Their expertise.")


class SessionData(Data):
    """What every participant needs to know of a session."""

    session_id: Identifier = Field(description="Session id (also the ICS UID's root).")
    topic_id: Identifier | None = Field(default=None, description="Programme topic, if any.")
    title: ShortText = Field(description="Title.")
    question: Question = Field(description="The question on the agenda.")
    starts_at: Timestamp = Field(description="Start.")
    ends_at: Timestamp = Field(description="End.")
    timezone: Literal["Europe/Paris"] = Field(
        default="Europe/Paris", description="Always Europe/Paris."
    )
    join_url: Url = Field(description="Webconference link.")
    sequence: int = Field(ge=0, description="ICS SEQUENCE: 0, then +1 on every change.")
    experts: list[ExpertAtSession] = Field(
        default_factory=list,
        max_length=20,
        description="The experts who accepted to contribute (in the ICS DESCRIPTION too).",
    )

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionScheduledData(SessionData):
    """A session was scheduled."""


class SessionRescheduledData(SessionData):
    """A session changed: it moved (`previous_starts_at` is the old start), or the
    experts who will contribute changed (`change: experts`, the same slot)."""

    previous_starts_at: Timestamp = Field(description="Start before the change.")
    change: Literal["slot", "experts"] = Field(
        default="slot", description="What changed: the slot, or the experts."
    )


class SessionCancelledData(SessionData):
    """A session was cancelled."""

    reason: Reason = Field(description="Why.")


class SessionRejectedData(Data):
    """A schedule, reschedule or cancel request was refused."""

    request_type: Literal[
        "session_schedule_requested",
        "session_reschedule_requested",
        "session_cancel_requested",
        "programme_published",
    ] = Field(description="The kind of request refused.")
    session_id: Identifier | None = Field(default=None, description="Session, if any.")
    topic_id: Identifier | None = Field(
        default=None, description="Programme topic, for a programme topic left without a slot."
    )
    reason: Literal[
        "unknown_session",
        "past_session",
        "cancelled_session",
        "too_long",
        "ends_before_start",
        "public_holiday",
        "overlap",
        "no_slot",
    ] = Field(
        description="Rule that was broken (no_slot: a programme topic found no free slot "
        "on the cadence before the end of its year)."
    )
    detail: Reason = Field(description="Explanation.")


class SessionReminderDueData(SessionData):
    """A reminder is due (7 days or 1 day before the session)."""

    remind: Literal["J-7", "J-1"] = Field(description="Which reminder.")


class SessionScheduleRequested(CloudEvent[SessionScheduleRequestedData]):
    """session_schedule_requested"""

    type: Literal["session_schedule_requested"]


class SessionRescheduleRequested(CloudEvent[SessionRescheduleRequestedData]):
    """session_reschedule_requested"""

    type: Literal["session_reschedule_requested"]


class SessionCancelRequested(CloudEvent[SessionCancelRequestedData]):
    """session_cancel_requested"""

    type: Literal["session_cancel_requested"]


class SessionScheduled(CloudEvent[SessionScheduledData]):
    """session_scheduled"""

    type: Literal["session_scheduled"]


class SessionRescheduled(CloudEvent[SessionRescheduledData]):
    """session_rescheduled"""

    type: Literal["session_rescheduled"]


class SessionCancelled(CloudEvent[SessionCancelledData]):
    """session_cancelled"""

    type: Literal["session_cancelled"]


class SessionRejected(CloudEvent[SessionRejectedData]):
    """session_rejected"""

    type: Literal["session_rejected"]


class SessionReminderDue(CloudEvent[SessionReminderDueData]):
    """session_reminder_due"""

    type: Literal["session_reminder_due"]
