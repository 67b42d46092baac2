"""Topics on the embedded stack: the seed, de-duplication, contributions, redelivery."""

from __future__ import annotations

import pytest

from services.programme.app import create_app
from services.programme.domain import topic_id_for
from services.programme.seed import INTERVIEW_TOPICS, seed
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.kafka import eventually
from tests.harness.services import running
from tests.programme.builders import proposal

pytestmark = pytest.mark.integration


async def test_seeding_twice_and_a_duplicate_title_leave_nine_topics(
    settings, publisher, tap, mongo
):
    reader = await tap("topic_accepted")
    db = mongo[settings.database_name("programme")]
    async with running(create_app, settings):
        assert await seed(settings) == 9
        await reader.wait_for("topic_accepted", count=9, timeout=60)
        assert await seed(settings) == 9
        duplicate = await publisher.event(
            "topic_proposed", proposal("  GOUVERNANCE des demarches alimentaires !")
        )
        await reader.wait_for("topic_accepted", lambda e: "duplicate_of" in e["data"])
        # The second run's events are processed again: they re-publish the same events.
        await reader.wait_for("topic_accepted", count=9 + 9 + 1)
        processed = await db[COLLECTION].find_one({"_id": duplicate["id"]})
    accepted = reader.events("topic_accepted")
    assert len({e["id"] for e in accepted}) == 10
    assert processed is not None
    first_topic = next(
        e["data"] for e in accepted if e["data"]["title"] == INTERVIEW_TOPICS[0].title
    )
    attached = next(e["data"] for e in accepted if "duplicate_of" in e["data"])
    assert attached["duplicate_of"] == attached["topic_id"] == first_topic["topic_id"]
    assert attached["title"] == INTERVIEW_TOPICS[0].title
    assert attached["proposed_by"]["name"] == "Camille Martin"
    assert await db["topics"].count_documents({}) == 9
    stored = await db["topics"].find_one({"_id": first_topic["topic_id"]})
    assert [p["origin"] for p in stored["proposers"]] == ["interview", "member"]
    assert await db[COLLECTION].count_documents({"type": "topic_proposed"}) == 10


async def test_contributions_are_stored_in_order_and_a_redelivery_has_one_effect(
    settings, publisher, tap, mongo
):
    reader = await tap("topic_accepted")
    db = mongo[settings.database_name("programme")]
    async with running(create_app, settings):
        proposed = await publisher.event("topic_proposed", proposal("Circuits courts"))
        topic_id = topic_id_for(proposed["id"])
        await publisher.again(proposed)
        # A contribution names a topic its author learnt from topic_accepted.
        await reader.wait_for("topic_accepted")
        comments = []
        for text in ("Premier retour", "Deuxième retour", "Troisième retour"):
            comments.append(
                await publisher.event(
                    "topic_commented",
                    {"topic_id": topic_id, "email": "lea@cc-exemple.fr", "comment": text},
                    subject=topic_id,
                )
            )
        await publisher.again(comments[0])
        last = await publisher.event(
            "topic_commented",
            {"topic_id": topic_id, "email": "lea@cc-exemple.fr", "comment": "Dernier"},
            subject=topic_id,
        )
        await eventually(
            lambda: db[COLLECTION].find_one({"_id": last["id"]}), message="the last comment"
        )
        await reader.wait_for("topic_accepted", count=2)  # the redelivery's
    topic = await db["topics"].find_one({"_id": topic_id})
    assert [c["comment"] for c in topic["comments"]] == [
        "Premier retour",
        "Deuxième retour",
        "Troisième retour",
        "Dernier",
    ]
    assert len(topic["proposers"]) == 1
    # The redelivered proposal re-published the very same event.
    assert {e["id"] for e in reader.events("topic_accepted")} == {
        reader.events("topic_accepted")[0]["id"]
    }
