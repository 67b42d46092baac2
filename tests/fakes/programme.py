"""The programme service's unit of work in memory (services/programme/repository.py's twin).

Like MongoDB, it raises DuplicateKeyError on the unique keys (a topic's title key, a
year's version number, any `_id`) and keeps times to the millisecond (BSON dates), so
that ties and "latest wins" rules decide the same way on both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.programme.domain import Ballot, Comment, Member, Proposer, Topic
from services.programme.ranking import Candidate, ProgrammeVersion
from services.programme.unit import Unit
from tests.fakes.inbox import MemoryProcessedEvents


def stored_time(at: datetime) -> datetime:
    """`at` as MongoDB gives it back: to the millisecond."""
    return at.replace(microsecond=at.microsecond - at.microsecond % 1000)


class MemoryTopics:
    def __init__(self) -> None:
        self.by_id: dict[str, Topic] = {}

    async def find(self, topic_id: str) -> Topic | None:
        return self.by_id.get(topic_id)

    async def find_by_title(self, key: str) -> Topic | None:
        return next((t for t in self.by_id.values() if t.key == key), None)

    async def all(self) -> list[Topic]:
        return list(self.by_id.values())

    async def existing(self, topic_ids: Iterable[str]) -> set[str]:
        return {topic_id for topic_id in topic_ids if topic_id in self.by_id}

    async def add(self, topic: Topic) -> None:
        if topic.topic_id in self.by_id or await self.find_by_title(topic.key) is not None:
            raise DuplicateKeyError("topics: key")
        self.by_id[topic.topic_id] = replace(
            topic,
            proposed_at=stored_time(topic.proposed_at),
            proposers=tuple(_proposer(p) for p in topic.proposers),
            comments=tuple(_comment(c) for c in topic.comments),
        )

    async def add_proposer(self, topic: Topic, proposer: Proposer) -> None:
        stored = self.by_id.get(topic.topic_id)
        if stored is None:
            return
        proposers = stored.proposers
        if not topic.proposed_by(proposer.email_key):
            proposers += (_proposer(proposer),)
        earliest = min(stored.proposed_at, stored_time(proposer.proposed_at))
        self.by_id[topic.topic_id] = replace(stored, proposers=proposers, proposed_at=earliest)

    async def add_comment(self, topic_id: str, comment: Comment) -> None:
        stored = self.by_id.get(topic_id)
        if stored is not None:
            comments = (*stored.comments, _comment(comment))
            self.by_id[topic_id] = replace(stored, comments=comments)

    async def forget_person(self, email_key: str) -> None:
        for topic_id, topic in self.by_id.items():
            self.by_id[topic_id] = replace(
                topic,
                proposers=tuple(p for p in topic.proposers if p.email_key != email_key),
                comments=tuple(c for c in topic.comments if c.email_key != email_key),
            )


class MemoryMembers:
    def __init__(self) -> None:
        self.by_id: dict[str, Member] = {}

    async def find(self, member_id: str) -> Member | None:
        return self.by_id.get(member_id)

    async def save(self, member: Member) -> None:
        state = replace(member.state, since=stored_time(member.state.since))
        self.by_id[member.member_id] = replace(member, state=state)

    async def is_active(self, email_key: str) -> bool:
        return any(
            m.email_key == email_key and m.state.status == "active" for m in self.by_id.values()
        )

    async def names(self) -> dict[str, str]:
        return {
            m.email_key: m.name
            for m in self.by_id.values()
            if m.email_key is not None and m.name is not None
        }

    async def forget_person(self, email_key: str) -> None:
        for member_id in [i for i, m in self.by_id.items() if m.email_key == email_key]:
            del self.by_id[member_id]


class MemoryBallots:
    def __init__(self) -> None:
        self.by_voter: dict[str, Ballot] = {}

    async def find(self, email_key: str) -> Ballot | None:
        return self.by_voter.get(email_key)

    async def save(self, ballot: Ballot) -> None:
        self.by_voter[ballot.email_key] = replace(ballot, cast_at=stored_time(ballot.cast_at))

    async def remove(self, email_key: str) -> None:
        self.by_voter.pop(email_key, None)

    async def all(self) -> list[Ballot]:
        return list(self.by_voter.values())


class MemoryProgrammes:
    def __init__(self) -> None:
        self.versions: list[ProgrammeVersion] = []

    async def latest(self, year: int) -> ProgrammeVersion | None:
        of_year = [p for p in self.versions if p.year == year]
        return max(of_year, key=lambda p: p.version, default=None)

    async def add(self, programme: ProgrammeVersion) -> None:
        if any(
            p.programme_id == programme.programme_id
            or (p.year, p.version) == (programme.year, programme.version)
            for p in self.versions
        ):
            raise DuplicateKeyError("programmes: year, version")
        candidates = tuple(
            Candidate(c.topic_id, stored_time(c.proposed_at)) for c in programme.candidates
        )
        self.versions.append(replace(programme, candidates=candidates))


class MemoryUnit(Unit):
    """Every repository in memory; the state lives as long as the unit."""

    def __init__(self) -> None:
        super().__init__(MemoryProcessedEvents())
        self.topics = MemoryTopics()
        self.members = MemoryMembers()
        self.ballots = MemoryBallots()
        self.programmes = MemoryProgrammes()


def _proposer(proposer: Proposer) -> Proposer:
    return replace(proposer, proposed_at=stored_time(proposer.proposed_at))


def _comment(comment: Comment) -> Comment:
    return replace(comment, at=stored_time(comment.at))
