"""What the programme handlers may ask of storage: the unit of work and its repositories.

`repository.py` implements these on MongoDB; the tests have in-memory ones
(tests/fakes/programme.py), held to the same behaviour by the handler tests, which run
on both (tests/programme/test_handlers.py, tests/programme/test_storage_contract.py).
People are known by their address key (`shared.identity.email_key`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from services.programme.domain import Ballot, Comment, Member, Proposer, Topic
from services.programme.ranking import ProgrammeVersion
from shared.unit_of_work import UnitOfWork


class Topics(Protocol):
    """Topics, with their proposers and contributions."""

    async def find(self, topic_id: str) -> Topic | None:
        """A topic by id."""
        ...

    async def find_by_title(self, key: str) -> Topic | None:
        """The topic whose title has this de-duplication key (`title_key`)."""
        ...

    async def all(self) -> list[Topic]:
        """Every topic."""
        ...

    async def existing(self, topic_ids: Iterable[str]) -> set[str]:
        """Which of `topic_ids` name a topic."""
        ...

    async def add(self, topic: Topic) -> None:
        """A new topic (its title key is unique among topics: a race raises)."""
        ...

    async def add_proposer(self, topic: Topic, proposer: Proposer) -> None:
        """One more proposal of `topic` (a person is listed once); the topic's date
        becomes its earliest proposal."""
        ...

    async def add_comment(self, topic_id: str, comment: Comment) -> None:
        """Append a contribution (arrival order)."""
        ...

    async def forget_person(self, email_key: str) -> None:
        """Remove the person's proposer entries and contributions (the topics stay)."""
        ...


class Members(Protocol):
    """The projection of the registration service's members, by member id."""

    async def find(self, member_id: str) -> Member | None:
        """What the projection holds of a member id (a tombstone once erased)."""
        ...

    async def save(self, member: Member) -> None:
        """Store a member id's state, replacing what was held."""
        ...

    async def is_active(self, email_key: str) -> bool:
        """True when an active member has this address."""
        ...

    async def names(self) -> dict[str, str]:
        """Display name by address key of every member whose name is known."""
        ...

    async def forget_person(self, email_key: str) -> None:
        """Remove every member record with this address (tombstones have none)."""
        ...


class Ballots(Protocol):
    """Each voter's current ballot, by address key."""

    async def find(self, email_key: str) -> Ballot | None:
        """The voter's current ballot."""
        ...

    async def save(self, ballot: Ballot) -> None:
        """Store a ballot, replacing the voter's earlier one."""
        ...

    async def remove(self, email_key: str) -> None:
        """Withdraw the voter's ballot (they left, or were erased)."""
        ...

    async def all(self) -> list[Ballot]:
        """Every current ballot."""
        ...


class Programmes(Protocol):
    """Every published version of every year's programme."""

    async def latest(self, year: int) -> ProgrammeVersion | None:
        """The year's current (highest) version, if any was published."""
        ...

    async def add(self, programme: ProgrammeVersion) -> None:
        """Store a new version, which supersedes the year's earlier ones (the version
        number is unique within a year: a race raises)."""
        ...


class Unit(UnitOfWork):
    """The programme service's unit of work."""

    topics: Topics
    members: Members
    ballots: Ballots
    programmes: Programmes
