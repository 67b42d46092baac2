"""Receipts: an email the relay accepted is never sent again by whoever takes over."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from itertools import pairwise

import pytest

from services.notifications.app import create_app
from services.notifications.deliveries import MongoDeliveries
from services.notifications.domain import RetryPolicy
from shared.devstack.mailsink import MailStore
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


async def test_two_connections_overlap_but_each_message_waits_for_the_receipt_before_it(
    settings, publisher, mail, mongo, monkeypatch
):
    """Over two connections (SMTP_CONNECTIONS=2), the next email's envelope is accepted
    while a message is still being handed over; yet no message is handed over before
    the email before it is on record: at most one email accepted and not recorded."""
    mark = token()
    agents = [f"agent{i:02d}-{mark}@cc-exemple.fr" for i in range(8)]
    session_id = f"s-{mark}"
    db = mongo[settings.database_name("notifications")]
    log: list[tuple[str, str]] = []
    recording = False
    real_rcpt, real_data, real_receipt = (
        MailStore.handle_RCPT,
        MailStore.handle_DATA,
        MongoDeliveries.receipt,
    )

    async def handle_rcpt(self, server, session, envelope, address, options):
        if recording:
            log.append(("envelope", address))
        return await real_rcpt(self, server, session, envelope, address, options)

    async def handle_data(self, server, session, envelope):
        reply = await real_data(self, server, session, envelope)
        if recording:
            log.append(("accepted", envelope.rcpt_tos[0]))
        return reply

    async def receipt(self, delivery, *, at, subject):
        await real_receipt(self, delivery, at=at, subject=subject)
        if recording:
            log.append(("receipt", delivery.recipient_address))

    monkeypatch.setattr(MailStore, "handle_RCPT", handle_rcpt)
    monkeypatch.setattr(MailStore, "handle_DATA", handle_data)
    monkeypatch.setattr(MongoDeliveries, "receipt", receipt)
    two = settings.model_copy(update={"smtp_connections": 2})
    async with running(create_app, two):
        for address in agents:
            await publisher.event("member_registered", member(address))
        await eventually(
            lambda: counts(db, {"status": "sent"}, 8), timeout=60, message="8 welcomes"
        )
        recording = True
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        invitations = {"kind": "session_invitation", "status": "sent"}
        await eventually(
            lambda: counts(db, invitations, 8), timeout=60, message="8 invitations recorded"
        )
    accepted = [who for what, who in log if what == "accepted"]
    assert sorted(accepted) == agents  # each once
    for before, after in pairwise(accepted):
        # The email before was on record before this message was handed over.
        assert log.index(("receipt", before)) < log.index(("accepted", after))
    assert ("receipt", accepted[-1]) not in log  # the last one: its outcome, next
    overlapped = [
        after
        for before, after in pairwise(accepted)
        if log.index(("envelope", after)) < log.index(("accepted", before))
    ]
    assert overlapped, "an envelope accepted while the message before was handed over"
