"""The in-memory repositories behave like MongoDB's where the handlers cannot show it:
unique keys raise, and times come back to the millisecond.

Each test runs on both units of work (the `backend` fixture).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pymongo.errors import DuplicateKeyError

from services.programme.domain import Proposer, new_topic
from services.programme.ranking import Candidate, ProgrammeVersion, Ranked

AT = datetime(2025, 11, 3, 9, 0, 0, 123456, tzinfo=UTC)


def proposer(email: str = "camille@cc-exemple.fr") -> Proposer:
    return Proposer(
        email=email, email_key=email, name="Cam", origin="member", event_id="e1", proposed_at=AT
    )


def version(programme_id: str, year: int, number: int) -> ProgrammeVersion:
    return ProgrammeVersion(
        programme_id=programme_id,
        year=year,
        version=number,
        event_id=f"request-{programme_id}",
        candidates=(Candidate("t1", AT),),
        ballots=(("t1",),),
        ranking=(Ranked("t1", 1, 1),),
    )


async def test_two_topics_with_one_title_key_are_a_duplicate_key(backend):
    topic = new_topic(
        event_id="e1",
        title="Circuits courts",
        question="Q ?",
        description=None,
        proposer=proposer(),
    )
    async with backend.unit() as uow:
        await uow.topics.add(topic)
        with pytest.raises(DuplicateKeyError):
            await uow.topics.add(replace(topic, topic_id="another", title="CIRCUITS courts !"))
        assert [t.topic_id for t in await uow.topics.all()] == [topic.topic_id]


async def test_a_years_version_number_is_unique(backend):
    async with backend.unit() as uow:
        await uow.programmes.add(version("p1", 2026, 1))
        await uow.programmes.add(version("p2", 2027, 1))
        with pytest.raises(DuplicateKeyError):
            await uow.programmes.add(version("p3", 2026, 1))
        latest = await uow.programmes.latest(2026)
    assert latest is not None
    assert latest.programme_id == "p1"


async def test_times_come_back_to_the_millisecond(backend):
    topic = new_topic(
        event_id="e1", title="Eau", question="Q ?", description=None, proposer=proposer()
    )
    async with backend.unit() as uow:
        await uow.topics.add(topic)
        stored = await uow.topics.find(topic.topic_id)
    assert stored is not None
    assert stored.proposed_at == AT.replace(microsecond=123000)
    assert stored.proposers[0].proposed_at == AT.replace(microsecond=123000)


async def test_forgetting_a_person_keeps_the_topic_and_everyone_else(backend):
    topic = new_topic(
        event_id="e1", title="Eau", question="Q ?", description=None, proposer=proposer()
    )
    async with backend.unit() as uow:
        await uow.topics.add(topic)
        await uow.topics.add_proposer(topic, proposer("dom@pnr.fr"))
        await uow.topics.forget_person("camille@cc-exemple.fr")
        stored = await uow.topics.find(topic.topic_id)
    assert stored is not None
    assert [p.email_key for p in stored.proposers] == ["dom@pnr.fr"]
