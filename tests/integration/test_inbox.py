"""The inbox (shared/inbox.py): one effect per event id, one unit of work per attempt."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from shared.contract.programme import BallotRejected, BallotRejectedData, TopicCommented
from shared.errors import PoisonMessage
from shared.identity import person_key
from shared.inbox import Done, Inbox, Refused, Step
from shared.storage import Storage
from shared.unit_of_work import PROCESSED_EVENTS, MongoProcessedEvents, Record, UnitOfWork
from tests.harness.kafka import cloudevent

pytestmark = pytest.mark.integration


class CountingUnit(UnitOfWork):
    """A unit whose one repository remembers what it was asked in its attempt."""

    opened: ClassVar[list[CountingUnit]] = []

    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.notes = storage.collection("notes")
        self.calls = 0
        CountingUnit.opened.append(self)


def commented(text: str) -> TopicCommented:
    data = {"topic_id": "t-1", "email": f"{text}@cc-exemple.fr", "comment": text}
    return TopicCommented.model_validate(cloudevent("topic_commented", data))


async def note(event: TopicCommented, uow: CountingUnit) -> list[Any]:
    uow.calls += 1
    if event.data.comment == "refused":
        raise PoisonMessage("refused before any write")
    await uow.notes.insert_one({"_id": event.id})
    if event.data.comment == "poison-after-write":
        raise PoisonMessage("refused after a write")
    refused = BallotRejectedData(email=event.data.email, reason="not_member", detail="x")
    return [BallotRejected.create(refused, source="urn:test", cause_id=event.id)]


def step(event: TopicCommented) -> Step[CountingUnit]:
    return Step(event, lambda uow: note(event, uow))


@pytest.fixture
def inbox(mongo) -> Inbox[CountingUnit]:
    CountingUnit.opened = []
    return Inbox(mongo, mongo[f"inbox_{uuid.uuid4().hex[:8]}"], CountingUnit)


async def test_a_batch_shares_one_unit_and_each_batch_gets_a_fresh_one(inbox):
    await inbox.process([step(commented("a")), step(commented("b"))])
    await inbox.process([step(commented("c"))])

    assert [unit.calls for unit in CountingUnit.opened] == [2, 1]


async def test_an_event_seen_before_gets_its_outputs_again_and_has_one_effect(inbox):
    first = commented("a")
    [done] = await inbox.process([step(first)])
    again = await inbox.process([step(first), step(first)])

    assert isinstance(done, Done)
    assert [d.outputs for d in again if isinstance(d, Done)] == [done.outputs, done.outputs]
    assert await inbox._db["notes"].count_documents({}) == 1  # one effect
    # The redelivery costs one attempt that aborts (the records are not read first:
    # events are almost always new), then one that reads them and runs nothing.
    assert [unit.calls for unit in CountingUnit.opened] == [1, 1, 0]


async def test_poison_before_any_write_is_set_aside_and_the_batch_goes_on(inbox):
    outcomes = await inbox.process(
        [step(commented("a")), step(commented("refused")), step(commented("b"))]
    )

    assert [type(o).__name__ for o in outcomes] == ["Done", "Refused", "Done"]
    # Set aside only once the records were read: the first attempt aborts at the poison.
    assert [unit.calls for unit in CountingUnit.opened] == [2, 3]
    assert await inbox._db["notes"].count_documents({}) == 2


async def test_a_batch_of_new_events_reads_no_record_first(inbox, mongo):
    reads: list[str] = []

    class Watching(MongoProcessedEvents):
        async def find(self, event_ids: Sequence[str]) -> dict[str, Record]:
            reads.extend(event_ids)
            return await super().find(event_ids)

    class WatchedUnit(CountingUnit):
        def __init__(self, storage: Storage) -> None:
            super().__init__(storage)
            self.processed = Watching(storage)

    watched: Inbox[CountingUnit] = Inbox(mongo, inbox._db, WatchedUnit)
    await watched.process([step(commented("a")), step(commented("b"))])

    assert reads == []


async def test_poison_after_a_write_aborts_the_attempt(inbox):
    good = commented("a")
    with pytest.raises(PoisonMessage):
        await inbox.process([step(good), step(commented("poison-after-write"))])

    db = inbox._db  # nothing of the aborted attempt was committed
    assert await db["notes"].count_documents({}) == 0
    assert await db[PROCESSED_EVENTS].count_documents({"_id": good.id}) == 0


async def test_records_name_the_people_of_their_outputs_and_an_erasure_empties_them(inbox, mongo):
    event = commented("camille")
    [done] = await inbox.process([step(event)])
    db = inbox._db
    stored = await db[PROCESSED_EVENTS].find_one({"_id": event.id})

    assert stored["keys"] == [person_key("camille@cc-exemple.fr")]
    assert await inbox.forget([person_key("CAMILLE@cc-exemple.fr")]) == 1
    erased = await db[PROCESSED_EVENTS].find_one({"_id": event.id})
    assert erased["outputs"] == []
    assert "keys" not in erased
    [again] = await inbox.process([step(event)])  # a redelivery: nothing to publish
    assert isinstance(again, Done)
    assert again.outputs == ()
    assert not isinstance(done, Refused)
