"""Batch consumption (shared/consumer.py): one bad event never costs the others."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.contract.programme import BallotRejected, BallotRejectedData, TopicCommented
from shared.errors import PoisonMessage
from shared.mongo import Document
from shared.service import Service
from shared.storage import Storage
from shared.unit_of_work import MongoProcessedEvents, UnitOfWork
from tests.harness.kafka import eventually
from tests.harness.services import running

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Deps:
    pass


class ToyUnit(UnitOfWork):
    def __init__(self, storage: Storage) -> None:
        super().__init__(MongoProcessedEvents(storage))
        self.comments = storage.collection("comments")


async def note_comment(event: TopicCommented, uow: ToyUnit, deps: Deps) -> list[Any]:
    """Store a comment; `poison` and `bug` comments fail on purpose (after a write)."""
    await uow.comments.insert_one({"_id": event.id, "text": event.data.comment})
    if event.data.comment == "poison":
        raise PoisonMessage("this comment can never be stored")
    if event.data.comment == "bug":
        raise KeyError("a bug")
    data = BallotRejectedData(email=event.data.email, reason="not_member", detail="test")
    return [
        BallotRejected.create(data, source="urn:test", subject=event.data.email, cause_id=event.id)
    ]


def toy_app(settings):
    service: Service[Deps, ToyUnit] = Service(
        "toy", settings, description="Batch test.", publishes=[BallotRejected], unit=ToyUnit
    )
    service.consume(TopicCommented, note_comment)

    async def setup(svc: Service[Deps, ToyUnit], db: AsyncDatabase[Document]) -> Deps:
        return Deps()

    return service.create_app(setup)


def comment(text: str) -> dict[str, str]:
    return {"topic_id": "t1", "email": f"{text}@caprural.test", "comment": text}


async def test_a_batch_keeps_its_good_events_and_dead_letters_each_bad_one(
    settings, publisher, tap, mongo
):
    reader = await tap("topic_commented", "ballot_rejected", dlq=True)
    sent = [await publisher.event("topic_commented", comment("first"), subject="same-key")]
    await publisher.raw("topic_commented", b"{not json", key="same-key")
    await publisher.event("topic_commented", {"topic_id": "t1"}, subject="same-key", validate=False)
    poison = await publisher.event("topic_commented", comment("poison"), subject="same-key")
    bug = await publisher.event("topic_commented", comment("bug"), subject="same-key")
    sent.append(await publisher.event("topic_commented", comment("second"), subject="same-key"))
    await publisher.again(sent[0])
    sent.append(await publisher.event("topic_commented", comment("third"), subject="same-key"))

    async with running(toy_app, settings):
        comments = mongo[settings.database_name("toy")].comments
        await eventually(lambda: comments.count_documents({}), message="comments")
        dead = await reader.wait_for_dlq("topic_commented", count=4, timeout=60)
        await reader.wait_for("ballot_rejected", count=3)
        stored = sorted([doc["text"] async for doc in comments.find()])

    assert stored == ["first", "second", "third"]
    emitted = reader.events("ballot_rejected")
    assert len({e["id"] for e in emitted}) == 3
    by_reason = {}
    for letter in dead:
        body = letter.value
        key = json.loads(body)["id"] if body.startswith(b'{"') else body.decode()
        by_reason[key] = letter.headers["x-dlq-reason"].decode()
    assert by_reason[poison["id"]] == "poison"
    assert by_reason[bug["id"]] == "retries_exhausted"
    assert by_reason["{not json"] == "poison"
    assert len(dead) == 4
