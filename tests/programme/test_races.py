"""Concurrent transactions on the real database: racing proposals converge on one topic.

The racing transactions all look the title up before any of them inserts (a barrier
holds each one after its first look-up), so each finds no topic and inserts one: the
unique index on the title key must make the losers retry and attach their proposal.
(On SecantusDB the racing inserts already end in a retried write conflict, even without
the unique index; on MongoDB the index is what makes them converge.)
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest

from services.programme import handlers
from services.programme.domain import Topic
from services.programme.handlers import Deps
from services.programme.repository import MongoTopics, MongoUnit, create_indexes
from services.programme.unit import Unit
from shared.contract.programme import TopicProposed
from shared.inbox import Done, Inbox, Step
from shared.storage import Storage
from tests.harness.kafka import cloudevent
from tests.programme.builders import proposal

pytestmark = pytest.mark.integration


class Race:
    """Holds the racers' first look-ups until every racer has made one."""

    def __init__(self, racers: int) -> None:
        self._barrier = asyncio.Barrier(racers)
        self._first_lookups = racers

    async def after_lookup(self) -> None:
        if self._first_lookups > 0:
            self._first_lookups -= 1
            async with asyncio.timeout(20):
                await self._barrier.wait()


class RacingTopics(MongoTopics):
    """The real topics, whose title look-ups wait for the race."""

    def __init__(self, storage: Storage, race: Race) -> None:
        super().__init__(storage)
        self._race = race

    async def find_by_title(self, key: str) -> Topic | None:
        found = await super().find_by_title(key)
        await self._race.after_lookup()
        return found


class RacingUnit(MongoUnit):
    """The real unit of work, with racing topics (one per transaction attempt)."""

    def __init__(self, storage: Storage, race: Race) -> None:
        super().__init__(storage)
        self.topics = RacingTopics(storage, race)


async def test_concurrent_proposals_of_one_title_make_one_topic_with_every_proposer(
    settings, mongo
):
    db = mongo[settings.database_name("programme")]
    variants = [
        "Sujet disputé",
        "SUJET DISPUTE",
        "sujet  disputé ?",
        "Sujet-disputé",
        "sujet disputé",
    ]
    race = Race(racers=len(variants))
    inbox: Inbox[Unit] = Inbox(mongo, db, lambda storage: RacingUnit(storage, race))
    await inbox.create_indexes()
    await create_indexes(db)
    deps = Deps(clock=lambda: datetime.now(UTC))
    events = [
        TopicProposed.model_validate(
            cloudevent(
                "topic_proposed",
                proposal(title, email=f"p{n}@cc-exemple.fr", name=f"P{n}"),
                event_id=str(uuid.uuid4()),
            )
        )
        for n, title in enumerate(variants)
    ]

    def step(event: TopicProposed) -> Step[Unit]:
        return Step(event, lambda uow: handlers.accept_topic(event, uow, deps))

    results = await asyncio.gather(*(inbox.process([step(event)]) for event in events))

    done = [outcome for [outcome] in results if isinstance(outcome, Done)]
    assert len(done) == len(variants)
    accepted = [emission for outcome in done for emission in outcome.outputs]
    assert len(accepted) == len(variants)
    topic = await db["topics"].find_one({})
    assert await db["topics"].count_documents({}) == 1
    assert sorted(p["name"] for p in topic["proposers"]) == [f"P{n}" for n in range(5)]
    topic_ids = {json.loads(e.body)["data"]["topic_id"] for e in accepted}
    assert topic_ids == {topic["_id"]}
