"""What each service's report view answers (`GET /report?year=Y`), as typed models.

The views build these models and answer with their JSON; the builder validates the
JSON it fetches against them, so that a view and the report cannot drift apart
unnoticed. Counts only: the only texts are territories, approaches, the sessions' and
topics' titles and questions, and email kinds; never a person's name, address or key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Count = int


class Figures(BaseModel):
    """A view's answer: the year it covers."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(description="The Europe/Paris calendar year covered.")


# --- registration --------------------------------------------------------------------


class Month(BaseModel):
    """Members who joined and who left in one month."""

    model_config = ConfigDict(frozen=True)

    month: int = Field(ge=1, le=12, description="1 for January.")
    joined: Count = Field(ge=0, description="Registrations (a rejoining member: the latest).")
    left: Count = Field(ge=0, description="Departures, erasures included.")


class Territory(BaseModel):
    """A territory and how many members work for it."""

    model_config = ConfigDict(frozen=True)

    territory: str
    members: Count = Field(ge=0)


class Approach(BaseModel):
    """PAT or SAT, and how many members lead one."""

    model_config = ConfigDict(frozen=True)

    approach: str
    members: Count = Field(ge=0)


class Places(BaseModel):
    """A session as the registration service counts it."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    enrolled: Count = Field(ge=0, description="Places held.")
    waitlisted: Count = Field(ge=0, description="People on the waitlist.")
    attended: Count = Field(ge=0, description="Members and participants matched as present.")
    ratings: Count = Field(ge=0, description="Ratings given (1 to 5), one per attendee.")
    average_rating: float | None = Field(description="Their mean, to 2 decimals; None if none.")


class RegistrationFigures(Figures):
    """Members and places of the year."""

    months: list[Month] = Field(min_length=12, max_length=12)
    members_during_year: Count = Field(ge=0, description="Members at some time of the year.")
    members_at_end_of_year: Count = Field(ge=0, description="Members on 31 December (or now).")
    territories: list[Territory] = Field(description="Of the members during the year.")
    approaches: list[Approach] = Field(description="Of the members during the year.")
    sessions: list[Places] = Field(description="The sessions starting in the year.")


# --- scheduling ----------------------------------------------------------------------


class Session(BaseModel):
    """A session of the year as the scheduling service knows it."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    title: str
    question: str
    starts_at: datetime
    ends_at: datetime
    status: Literal["scheduled", "cancelled"]
    questions: Count = Field(ge=0, description="Questions accepted before the session.")
    experts_invited: Count = Field(ge=0, description="Experts invited, whatever their answer.")
    experts_confirmed: Count = Field(ge=0, description="Experts who accepted.")
    report_shared: bool = Field(description="Its compte rendu was shared.")


class SchedulingFigures(Figures):
    """The sessions of the year, by start."""

    sessions: list[Session]


# --- programme -----------------------------------------------------------------------


class Ranked(BaseModel):
    """A topic's place in the programme."""

    model_config = ConfigDict(frozen=True)

    rank: int = Field(ge=1)
    title: str | None = Field(description="None when the topic is no longer known.")
    score: int = Field(ge=0, description="Its points (modified Borda count).")


class Programme(BaseModel):
    """The year's programme as last published."""

    model_config = ConfigDict(frozen=True)

    version: int = Field(ge=1)
    ballots: Count = Field(ge=0, description="The ballots it counted.")
    active_members: Count = Field(ge=0, description="Members active now (who may vote).")
    ranking: list[Ranked]


class ProgrammeFigures(Figures):
    """The year's programme, if one was published."""

    programme: Programme | None


# --- notifications -------------------------------------------------------------------


class Emails(BaseModel):
    """The emails of one kind."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="The email kind (shared.contract.notifications.EmailKind).")
    sent: Count = Field(ge=0, description="Accepted by the SMTP relay in the year.")
    failed: Count = Field(ge=0, description="Given up in the year.")


class NotificationsFigures(Figures):
    """The emails of the year, by kind."""

    emails: list[Emails]
