"""RGPD erasure: after member_erased the programme database holds nothing of the person."""

from __future__ import annotations

import json

import pytest
from bson import json_util

from services.programme.app import create_app
from services.programme.domain import topic_id_for
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.kafka import eventually
from tests.harness.services import running
from tests.programme.builders import member, proposal, unique_email

pytestmark = pytest.mark.integration


async def dump_database(db) -> str:
    """Every document of every collection, as one lower-case text."""
    texts = []
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            texts.append(json_util.dumps(doc, ensure_ascii=False))
    return "\n".join(texts).lower()


async def test_an_erased_member_leaves_no_email_or_name_in_any_collection(
    settings, publisher, tap, mongo
):
    reader = await tap("topic_accepted", "programme_published")
    db = mongo[settings.database_name("programme")]
    email = unique_email("Eloise.Zanetti").replace("eloise", "Eloise")
    late = unique_email("ysolde.quernec")
    other = unique_email("bastien")
    gone, late_member = (
        member(email, first_name="Éloïse", last_name="Zanetti"),
        member(late, first_name="Ysolde", last_name="Quernec"),
    )

    async def processed(*events):
        ids = [e["id"] for e in events]
        return await db[COLLECTION].count_documents({"_id": {"$in": ids}}) == len(ids)

    async with running(create_app, settings):
        setup = [
            await publisher.event("member_registered", gone, subject=email),
            await publisher.event("member_registered", member(other), subject=other),
            # Ysolde's erasure overtakes her registration (another topic, another order).
            await publisher.event("member_erased", {"member_id": late_member["member_id"]}),
        ]
        await eventually(lambda: processed(*setup), message="the members projection")
        her_topic = await publisher.event(
            "topic_proposed", proposal("Restauration scolaire", email=email, name="Éloïse Z.")
        )
        topic_id = topic_id_for(her_topic["id"])
        await reader.wait_for("topic_accepted")
        contributions = [
            await publisher.event(
                "topic_proposed", proposal("restauration  SCOLAIRE", email=other, name="Bastien")
            ),
            await publisher.event(
                "topic_proposed", proposal("Jardins partagés", email=late, name="Ysolde Q.")
            ),
            await publisher.event(
                "topic_commented",
                {"topic_id": topic_id, "email": email, "comment": "Nos cantines bio"},
                subject=topic_id,
            ),
            await publisher.event(
                "topic_commented",
                {"topic_id": topic_id, "email": other, "comment": "Et les légumeries ?"},
                subject=topic_id,
            ),
            await publisher.event("topic_vote_cast", {"email": email, "ranking": [topic_id]}),
            await publisher.event("topic_vote_cast", {"email": other, "ranking": [topic_id]}),
        ]
        await eventually(lambda: processed(*setup, *contributions), timeout=60)
        await publisher.event("programme_publication_requested", {"year": 2021})
        [programme] = await reader.wait_for("programme_published")
        assert "Éloïse Zanetti" in json.dumps(programme, ensure_ascii=False)
        before = await dump_database(db)
        assert all(t in before for t in (email.lower(), "zanetti", late, "ysolde q."))

        left = {"member_id": gone["member_id"], "email": email, "first_name": "Éloïse"}
        erasure = [
            await publisher.event("member_left", {**left, "erase": True}, subject=email),
            await publisher.event("member_erased", {"member_id": gone["member_id"]}),
            await publisher.event("member_registered", late_member, subject=late),
        ]
        await eventually(lambda: processed(*erasure), timeout=60)

    text = await dump_database(db)
    for trace in (email, "eloise", "éloïse", "zanetti", late, "ysolde", "quernec"):
        assert trace.lower() not in text, trace
    # Everyone else's data stays: the topic, the other proposer, comment and ballot.
    topic = await db["topics"].find_one({"_id": topic_id})
    assert [p["name"] for p in topic["proposers"]] == ["Bastien"]
    assert [c["comment"] for c in topic["comments"]] == ["Et les légumeries ?"]
    assert await db["ballots"].count_documents({}) == 1
    assert await db["members"].count_documents({"status": "erased"}) == 2
