"""Bad input never stops the programme service: it is dead-lettered and the next event runs."""

from __future__ import annotations

import json

import pytest

from services.programme.app import create_app
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.kafka import eventually
from tests.harness.services import running
from tests.programme.builders import proposal

pytestmark = pytest.mark.integration


def event_id(body: bytes) -> str | None:
    """The CloudEvent id of a dead letter, when it has one."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return str(value.get("id"))


async def test_poison_messages_go_to_the_dlq_and_the_next_good_event_is_processed(
    settings, publisher, tap, mongo
):
    reader = await tap(
        "topic_proposed",
        "topic_commented",
        "topic_vote_cast",
        "programme_publication_requested",
        "member_erased",
        "topic_accepted",
        dlq=True,
    )
    db = mongo[settings.database_name("programme")]
    async with running(create_app, settings):
        too_early = await publisher.event("programme_publication_requested", {"year": 2022})
        await reader.wait_for_dlq("programme_publication_requested", timeout=60)

        await publisher.raw("topic_proposed", b"{not json", key="k1")
        no_letters = await publisher.event("topic_proposed", proposal("?!… —"))
        injected = await publisher.event(
            "topic_proposed", proposal("Titre\r\nBcc: x@y.fr"), validate=False
        )
        # A field the contract does not know yet is ignored (a tolerant reader).
        good = await publisher.event(
            "topic_proposed", {**proposal("Logistique alimentaire"), "priority": "haute"}
        )
        orphan = await publisher.event(
            "topic_commented", {"topic_id": "nope", "email": "a@b.fr", "comment": "?"}
        )
        empty_ballot = await publisher.event(
            "topic_vote_cast", {"email": "a@b.fr", "ranking": []}, validate=False
        )
        await publisher.raw("member_erased", json.dumps({"specversion": "1.0"}).encode())

        [accepted] = await reader.wait_for("topic_accepted")
        for event_type, count in (
            ("topic_proposed", 3),
            ("topic_commented", 1),
            ("topic_vote_cast", 1),
            ("member_erased", 1),
        ):
            await reader.wait_for_dlq(event_type, count=count)
        # The consumers go on after the dead letters.
        follow_up = await publisher.event(
            "topic_commented",
            {"topic_id": accepted["data"]["topic_id"], "email": "a@b.fr", "comment": "Oui"},
        )
        await eventually(lambda: db[COLLECTION].find_one({"_id": follow_up["id"]}))

    assert accepted["data"]["title"] == "Logistique alimentaire"
    reasons = {
        event_id(m.value): m.headers["x-dlq-error"].decode()
        for m in reader.messages
        if m.topic.endswith(".dlq")
    }
    assert "no topic has been proposed yet" in reasons[too_early["id"]]
    assert "no letter or digit" in reasons[no_letters["id"]]
    # Contract violations name the field at fault, one readable line each.
    assert reasons[injected["id"]].startswith("data.title: ")
    assert "single line" in reasons[injected["id"]]
    assert "unknown topic 'nope'" in reasons[orphan["id"]]
    assert reasons[empty_ballot["id"]].startswith("data.ranking: ")
    assert await db["topics"].count_documents({}) == 1
    assert await db[COLLECTION].count_documents({"_id": good["id"]}) == 1
