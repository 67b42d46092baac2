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
from services.programme.handlers import Deps
from services.programme.repository import ProgrammeRepository
from shared.contract.programme import TopicProposed
from shared.inbox import Inbox
from tests.harness.kafka import cloudevent
from tests.programme.builders import proposal

pytestmark = pytest.mark.integration


class RacingRepository(ProgrammeRepository):
    """The real repository, holding the first look-ups until every racer has made one."""

    def __init__(self, db, racers: int) -> None:
        super().__init__(db)
        self._barrier = asyncio.Barrier(racers)
        self._first_lookups = racers

    async def topic_by_key(self, key, *, session):
        found = await super().topic_by_key(key, session=session)
        if self._first_lookups > 0:
            self._first_lookups -= 1
            async with asyncio.timeout(20):
                await self._barrier.wait()
        return found


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
    inbox, repository = Inbox(mongo, db), RacingRepository(db, racers=len(variants))
    await inbox.create_indexes()
    await repository.create_indexes()
    deps = Deps(inbox=inbox, repository=repository, clock=lambda: datetime.now(UTC))
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
    steps = [await handlers.accept_topic(event, deps) for event in events]

    results = await asyncio.gather(*(inbox.process_batch([step]) for step in steps))

    accepted = [emission for [emissions] in results for emission in emissions]
    assert len(accepted) == len(variants)
    topic = await db["topics"].find_one({})
    assert await db["topics"].count_documents({}) == 1
    assert sorted(p["name"] for p in topic["proposers"]) == [f"P{n}" for n in range(5)]
    topic_ids = {json.loads(e.body)["data"]["topic_id"] for e in accepted}
    assert topic_ids == {topic["_id"]}
