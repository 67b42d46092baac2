"""The ranking method and the programme it yields (pure, reproducible from stored ballots).

Method: a Borda count adapted to partial ballots (the "modified Borda count"). A ballot
that ranks k topics gives k points to its first, k - 1 to its second, ... 1 to its last;
topics it does not rank get nothing. A topic's score is the sum over the ballots.
Topics are ordered by score (highest first), ties by earliest proposal, then by id, so
that the result depends only on the ballots and the topics, never on arrival order.

Why not the textbook Borda (n - 1 points for a first place among all n topics)? With
partial ballots it depends on how many topics exist when the programme is published and
rewards ranking a single topic; the modified count depends on the ballots alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.programme.domain import ANONYMOUS_AUTHOR, Topic
from shared.contract.programme import ProgrammeComment, ProgrammeTopic
from shared.identity import person_key

COMMENT_BUDGET_BYTES = 400_000
"""UTF-8 bytes of contributions one programme carries (the event stays under 1 MB)."""


@dataclass(frozen=True)
class Candidate:
    """A topic in the running: its id and when it was first proposed (tie-break)."""

    topic_id: str
    proposed_at: datetime


@dataclass(frozen=True)
class Ranked:
    """A topic's place in the ranking."""

    topic_id: str
    rank: int
    score: int


@dataclass(frozen=True)
class ProgrammeVersion:
    """One published version of a year's programme, as stored: what it counted and the
    ranking that yields (`rank_topics(candidates, ballots)` computes it again)."""

    programme_id: str
    year: int
    version: int
    event_id: str
    """The publication request's CloudEvent id."""
    candidates: tuple[Candidate, ...]
    ballots: tuple[tuple[str, ...], ...]
    """The ballots counted, anonymous: topic ids only, sorted (no voter, no order)."""
    ranking: tuple[Ranked, ...]


def borda_scores(ballots: Iterable[Sequence[str]]) -> dict[str, int]:
    """Points by topic id: k, k - 1, ... 1 for the k topics a ballot ranks."""
    scores: dict[str, int] = {}
    for ballot in ballots:
        size = len(ballot)
        for position, topic_id in enumerate(ballot):
            scores[topic_id] = scores.get(topic_id, 0) + size - position
    return scores


def rank_topics(candidates: Iterable[Candidate], ballots: Iterable[Sequence[str]]) -> list[Ranked]:
    """Every candidate, best first: by score, then earliest proposal, then id."""
    scores = borda_scores(ballots)
    order = sorted(
        candidates, key=lambda c: (-scores.get(c.topic_id, 0), c.proposed_at, c.topic_id)
    )
    return [
        Ranked(topic_id=c.topic_id, rank=rank, score=scores.get(c.topic_id, 0))
        for rank, c in enumerate(order, start=1)
    ]


def programme_topics(
    ranking: Sequence[Ranked],
    topics: Mapping[str, Topic],
    *,
    size: int,
    names: Mapping[str, str],
    budget: int = COMMENT_BUDGET_BYTES,
) -> list[ProgrammeTopic]:
    """The `size` best topics, each with its contributions in order (within a budget).

    Each contribution shows its author's display name (`names`, by email key) and their
    pseudonym (`author_id`): namesakes stay two people, and an erasure finds its own.
    """
    chosen: list[ProgrammeTopic] = []
    remaining = budget
    for ranked in ranking[:size]:
        topic = topics[ranked.topic_id]
        comments: list[ProgrammeComment] = []
        # Chronological (CloudEvent time), arrival order for equal times: a contribution
        # keyed differently may arrive on another partition, out of order.
        for comment in sorted(topic.comments, key=lambda c: c.at):
            cost = len(comment.comment.encode())
            if cost > remaining:
                break
            remaining -= cost
            author = names.get(comment.email_key, ANONYMOUS_AUTHOR)
            comments.append(
                ProgrammeComment(
                    author=author,
                    author_id=person_key(comment.email_key),
                    comment=comment.comment,
                )
            )
        chosen.append(
            ProgrammeTopic(
                topic_id=topic.topic_id,
                title=topic.title,
                question=topic.question,
                rank=ranked.rank,
                score=ranked.score,
                comments=comments,
            )
        )
    return chosen
