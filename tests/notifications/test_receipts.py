"""Receipts: an email the relay accepted is never sent again by whoever takes over."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest

from services.notifications.app import create_app
from services.notifications.domain import RetryPolicy
from services.notifications.emails import Composer
from tests.harness.kafka import eventually
from tests.harness.mail import received_by, wait_for_mail
from tests.harness.services import running
from tests.notifications.builders import member, session, token

pytestmark = pytest.mark.integration

QUICK_RETRY = RetryPolicy(base_seconds=0.3, max_seconds=1.0, max_attempts=100)


async def counts(db, query, expected: int) -> bool:
    """True once exactly `expected` deliveries match."""
    return bool(await db.deliveries.count_documents(query) == expected)


async def test_a_delivery_with_a_receipt_is_recorded_sent_without_being_sent_again(
    settings, publisher, mail, mongo
):
    mark = token()
    agents = [f"agent{i}-{mark}@cc-exemple.fr" for i in range(3)]
    db = mongo[settings.database_name("notifications")]
    async with running(partial(create_app, retry=QUICK_RETRY), settings):
        mail.stop()
        for address in agents:
            await publisher.event("member_registered", member(address))
        await eventually(
            lambda: counts(db, {"status": "pending", "attempts": {"$gte": 1}}, 3),
            timeout=60,
            message="three welcomes deferred while the relay is down",
        )
        # As if a sender had handed agent 0's welcome to the relay, written its receipt,
        # then crashed before recording the outcome.
        accepted = await db.deliveries.find_one({"recipient.email": agents[0]})
        sent_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        await db.receipts.insert_one(
            {
                "_id": accepted["_id"],
                "batch": accepted["batch"],
                "sent_at": sent_at,
                "subject": "Bienvenue dans le groupe d'échange PAT/SAT",
            }
        )
        mail.start()
        for address in agents[1:]:
            await wait_for_mail(mail, address, timeout=60)
        await eventually(
            lambda: counts(db, {"status": "sent"}, 3),
            timeout=60,
            message="the three deliveries recorded sent",
        )
    assert received_by(mail, agents[0]) == []
    recorded = await db.deliveries.find_one({"_id": accepted["_id"]})
    assert recorded["status"] == "sent"
    assert recorded["subject"] == "Bienvenue dans le groupe d'échange PAT/SAT"


async def test_every_invitation_but_the_last_of_the_fan_out_has_a_receipt(
    settings, publisher, mail, mongo
):
    mark = token()
    agents = [f"agent{i:02d}-{mark}@cc-exemple.fr" for i in range(12)]
    session_id = f"s-{mark}"
    db = mongo[settings.database_name("notifications")]
    async with running(create_app, settings.model_copy(update={"delivery_batch_size": 5})):
        for address in agents:
            await publisher.event("member_registered", member(address))
        await eventually(
            lambda: counts(db, {"status": "sent"}, 12), timeout=60, message="12 welcomes"
        )
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        invitations = {"kind": "session_invitation", "status": "sent"}
        await eventually(
            lambda: counts(db, invitations, 12), timeout=60, message="12 invitations recorded"
        )
        sent = [doc async for doc in db.deliveries.find(invitations).sort("order", 1)]
        receipt_ids = {doc["_id"] async for doc in db.receipts.find({})}
    # Chunks of 5, 5 and 2, sent one after the other: every accepted email gets a
    # receipt before the next is handed over, but the very last one, whose outcome is
    # written next with nothing sent in between (a crash there re-sends that one email,
    # as a crash at any moment may).
    assert [d["_id"] for d in sent if d["_id"] not in receipt_ids] == [sent[-1]["_id"]]


async def test_the_next_email_is_built_while_the_relay_answers_and_a_failure_there_loses_nothing(
    settings, publisher, mail, mongo, monkeypatch
):
    """Email n+1 is built once email n's envelope is on the wire, before n is accepted:
    when it is built, the relay holds n-1 of the fan-out's emails (built after n's
    acceptance, it would hold n). A build that fails there is done again in its turn."""
    mark = token()
    agents = [f"agent{i:02d}-{mark}@cc-exemple.fr" for i in range(6)]
    session_id = f"s-{mark}"
    db = mongo[settings.database_name("notifications")]
    real = Composer.compose
    held_when_built: list[int] = []

    def compose(self, delivery, content, session):
        if delivery.kind == "session_invitation":
            welcomes = len(agents)
            held_when_built.append(sum(len(received_by(mail, a)) for a in agents) - welcomes)
            if len(held_when_built) == 4:
                raise RuntimeError("a bug while building the fourth invitation ahead")
        return real(self, delivery, content, session)

    async with running(create_app, settings):
        for address in agents:
            await publisher.event("member_registered", member(address))
        await eventually(
            lambda: counts(db, {"status": "sent"}, 6), timeout=60, message="6 welcomes"
        )
        monkeypatch.setattr(Composer, "compose", compose)
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        invitations = {"kind": "session_invitation", "status": "sent"}
        await eventually(
            lambda: counts(db, invitations, 6), timeout=60, message="6 invitations recorded"
        )
    # Built: the first before anything was sent, each next one while the one before it
    # was being sent; the fourth twice (ahead, failing; then in its turn, once the third
    # was accepted).
    assert held_when_built == [0, 0, 1, 2, 3, 3, 4]
    for address in agents:
        assert len(received_by(mail, address)) == 2, "a welcome and one invitation"
