"""Pure rules of the programme: topics and their titles, members, ballots.

No I/O here: the handlers load what a rule needs, call it, and store what it returns.
Who a person is (address key, pseudonym, display name) is decided by shared.identity:
`email_key` fields below hold `shared.identity.email_key(address)`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shared.contract import derived_id

MAX_COMMENTS_PER_TOPIC = 200
"""Comments kept per topic: the most a published programme carries for one topic."""

ANONYMOUS_AUTHOR = "Participant·e au groupe"
"""Author shown for a contribution whose writer we know no name for."""

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})

Origin = Literal["interview", "member", "coordinator"]
MemberStatus = Literal["active", "left", "erased"]
RejectionReason = Literal["not_member", "unknown_topic", "duplicate_topic"]


# --- titles and ids ------------------------------------------------------------------


def title_key(title: str) -> str:
    """The de-duplication key of a title: case, accents, punctuation and spacing ignored.

    "Gouvernance des démarches !" and "gouvernance  des DEMARCHES" share one key.
    Empty when the title has no letter or digit at all.
    """
    decomposed = unicodedata.normalize("NFKD", title.translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char for char in bare.casefold() if char.isalnum())


def topic_id_for(event_id: str) -> str:
    """A topic's id, derived from the CloudEvent that first proposed it."""
    return derived_id(event_id, "topic")


def programme_id_for(event_id: str) -> str:
    """A programme version's id, derived from the request that published it."""
    return derived_id(event_id, "programme")


# --- topics ------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposer:
    """One proposal of a topic (the first one, or a duplicate attached to it)."""

    email: str
    email_key: str
    name: str
    origin: Origin
    event_id: str
    proposed_at: datetime


@dataclass(frozen=True)
class Comment:
    """A contribution to a topic, in arrival order."""

    event_id: str
    email_key: str
    comment: str
    at: datetime


@dataclass(frozen=True)
class Topic:
    """A topic of the programme, with its proposers and contributions."""

    topic_id: str
    key: str
    title: str
    question: str
    description: str | None
    origin: Origin
    proposed_at: datetime
    proposers: tuple[Proposer, ...] = ()
    comments: tuple[Comment, ...] = ()

    def proposed_by(self, key: str) -> bool:
        """True when the person with this email key already proposed it."""
        return any(p.email_key == key for p in self.proposers)

    @property
    def accepts_comments(self) -> bool:
        """False once the topic holds as many comments as a programme carries."""
        return len(self.comments) < MAX_COMMENTS_PER_TOPIC


def new_topic(
    *, event_id: str, title: str, question: str, description: str | None, proposer: Proposer
) -> Topic:
    """A topic first proposed by `proposer` in the event `event_id`."""
    return Topic(
        topic_id=topic_id_for(event_id),
        key=title_key(title),
        title=title,
        question=question,
        description=description,
        origin=proposer.origin,
        proposed_at=proposer.proposed_at,
        proposers=(proposer,),
    )


def author_names(topics: Sequence[Topic], members: Mapping[str, str]) -> dict[str, str]:
    """Display name by email key: a member's name first, else a name given in a proposal."""
    names: dict[str, str] = {}
    for topic in topics:
        for proposer in topic.proposers:
            names.setdefault(proposer.email_key, proposer.name)
    names.update(members)
    return names


# --- members -----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberState:
    """A member id's status, and the CloudEvent time of the fact that set it."""

    status: MemberStatus
    since: datetime


@dataclass(frozen=True)
class Member:
    """What the projection keeps of one member id; of an erased one, only its state."""

    member_id: str
    state: MemberState
    email_key: str | None = None
    """The address key (`shared.identity.email_key`); None once erased."""
    name: str | None = None
    """"First Last" from a registration, or the first name a departure gave."""


def member_transition(
    current: MemberState | None, *, status: MemberStatus, at: datetime
) -> MemberState | None:
    """The member's new state, or None when the event changes nothing.

    Events of different topics may arrive out of order: the most recent fact (by its
    CloudEvent time) wins, and erasure is final.
    """
    if current is None:
        return MemberState(status, at)
    if current.status == "erased":
        return None
    if status == "erased" or at >= current.since:
        return MemberState(status, at)
    return None


# --- ballots -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ballot:
    """A member's latest ranking, most wanted first."""

    email_key: str
    ranking: tuple[str, ...]
    cast_at: datetime
    event_id: str = field(default="")


@dataclass(frozen=True)
class BallotRejection:
    """Why a ballot was refused whole, with the explanation sent to the voter (French)."""

    reason: RejectionReason
    detail: str


def check_ballot(
    ranking: Sequence[str], *, is_member: bool, known_topics: Collection[str]
) -> BallotRejection | None:
    """None when the ballot counts; otherwise the first rule it breaks."""
    if not is_member:
        return BallotRejection(
            "not_member",
            "Seuls les membres du groupe votent : aucun membre n'est inscrit avec cette adresse.",
        )
    seen: set[str] = set()
    for topic_id in ranking:
        if topic_id in seen:
            return BallotRejection(
                "duplicate_topic", f"Le sujet {topic_id} figure plusieurs fois dans le classement."
            )
        seen.add(topic_id)
    for topic_id in ranking:
        if topic_id not in known_topics:
            return BallotRejection("unknown_topic", f"Sujet inconnu : {topic_id}.")
    return None


def supersedes(new_at: datetime, old: Ballot | None) -> bool:
    """A ballot replaces the stored one unless it was cast before it (late delivery)."""
    return old is None or new_at >= old.cast_at
