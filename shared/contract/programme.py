"""Events of the programme service: topics, ballots and the annual programme."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contract.envelope import CloudEvent, Data
from shared.contract.fields import EmailText, Identifier, LongText, Name, Question, ShortText

# --- inbound -----------------------------------------------------------------------


class Person(Data):
    """Who proposed or wrote something."""

    email: EmailText = Field(description="Email address.")
    name: Name = Field(description="Display name.")


class TopicProposedData(Data):
    """A topic is proposed for the programme."""

    title: ShortText = Field(description="Short title of the topic.")
    question: Question = Field(description="The specific question a session would address.")
    description: LongText | None = Field(default=None, description="Optional details.")
    proposed_by: Person = Field(description="Who proposes it.")
    origin: Literal["interview", "member", "coordinator"] = Field(
        description="interview (preliminary interviews), member or coordinator."
    )


class TopicCommentedData(Data):
    """Someone enriches a topic with a comment."""

    topic_id: Identifier = Field(description="The topic commented on.")
    email: EmailText = Field(description="Author's email address.")
    comment: LongText = Field(description="The contribution.")


class TopicVoteCastData(Data):
    """A member's ballot: topics ranked, most wanted first."""

    email: EmailText = Field(description="The voting member's email address.")
    ranking: list[Identifier] = Field(
        min_length=1, max_length=50, description="Topic ids, most wanted first."
    )


class ProgrammePublicationRequestedData(Data):
    """The coordinators ask for the annual programme to be computed and published."""

    year: int = Field(ge=2020, le=2100, description="Programme year.")
    sessions: int = Field(
        default=5, ge=1, le=12, description="Number of sessions after the launch."
    )


# --- produced ----------------------------------------------------------------------


class TopicAcceptedData(Data):
    """A proposal was recorded (as a new topic, or attached to an existing one)."""

    topic_id: Identifier = Field(description="The topic (the existing one for a duplicate).")
    title: ShortText = Field(description="Title of the topic.")
    question: Question = Field(description="Its question.")
    proposed_by: Person = Field(description="Who proposed it (this proposal).")
    origin: Literal["interview", "member", "coordinator"] = Field(description="Origin.")
    duplicate_of: Identifier | None = Field(
        default=None, description="Set when the title matched an existing topic."
    )


class ProgrammeComment(Data):
    """A contribution carried into the programme."""

    author: Name = Field(description="Author's display name.")
    author_id: Identifier | None = Field(
        default=None,
        description="The author's pseudonym (a digest of their address, never the address): "
        "what lets every service erase an erased person's words, whatever their name.",
    )
    comment: LongText = Field(description="The contribution.")


class ProgrammeTopic(Data):
    """One topic of a published programme, in rank order."""

    topic_id: Identifier = Field(description="Topic id.")
    title: ShortText = Field(description="Title.")
    question: Question = Field(description="Question.")
    rank: int = Field(ge=1, description="1 is the most wanted.")
    score: int = Field(ge=0, description="Score under the ranking method.")
    comments: list[ProgrammeComment] = Field(default_factory=list, max_length=200)


class ProgrammePublishedData(Data):
    """The annual programme (a new version replaces the earlier one of that year)."""

    programme_id: Identifier = Field(description="Id of this version of the programme.")
    year: int = Field(ge=2020, le=2100, description="Programme year.")
    version: int = Field(ge=1, description="1 for the first publication of the year.")
    method: Literal["borda"] = Field(default="borda", description="Ranking method.")
    topics: list[ProgrammeTopic] = Field(max_length=12, description="Top topics, in order.")
    ballots: int = Field(ge=0, description="Number of ballots counted.")


class BallotRejectedData(Data):
    """A ballot was refused whole."""

    email: EmailText = Field(description="Email address the ballot came from.")
    reason: Literal["not_member", "unknown_topic", "duplicate_topic"] = Field(
        description="Why the ballot was refused."
    )
    detail: ShortText = Field(description="Explanation in French.")


class TopicProposed(CloudEvent[TopicProposedData]):
    """topic_proposed"""

    type: Literal["topic_proposed"]


class TopicCommented(CloudEvent[TopicCommentedData]):
    """topic_commented"""

    type: Literal["topic_commented"]


class TopicVoteCast(CloudEvent[TopicVoteCastData]):
    """topic_vote_cast"""

    type: Literal["topic_vote_cast"]


class ProgrammePublicationRequested(CloudEvent[ProgrammePublicationRequestedData]):
    """programme_publication_requested"""

    type: Literal["programme_publication_requested"]


class TopicAccepted(CloudEvent[TopicAcceptedData]):
    """topic_accepted"""

    type: Literal["topic_accepted"]


class ProgrammePublished(CloudEvent[ProgrammePublishedData]):
    """programme_published"""

    type: Literal["programme_published"]


class BallotRejected(CloudEvent[BallotRejectedData]):
    """ballot_rejected"""

    type: Literal["ballot_rejected"]
