"""Reliable delivery: SMTP outages, refused recipients, redeliveries, restarts, bad input."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from services.notifications.app import create_app
from services.notifications.domain import RetryPolicy
from tests.harness.kafka import eventually
from tests.harness.mail import received_by, wait_for_mail
from tests.harness.services import running
from tests.notifications.builders import member, session, token

pytestmark = pytest.mark.integration

QUICK_RETRY = RetryPolicy(base_seconds=0.5, max_seconds=2.0, max_attempts=100)


def deliveries(mongo, settings):
    """The service's deliveries collection."""
    return mongo[settings.database_name("notifications")]["deliveries"]


async def reaches(collection, query, count: int) -> bool:
    """True once `count` documents match."""
    return bool(await collection.count_documents(query) >= count)


def per_recipient(mail, addresses) -> Counter[str]:
    """How many messages each address received."""
    return Counter({a: len(received_by(mail, a)) for a in addresses})


async def test_smtp_down_then_up_every_email_arrives_once(settings, publisher, tap, mail, mongo):
    mark = token()
    members = [f"agent{i}-{mark}@cc-exemple.fr" for i in range(5)]
    session_id = f"s-{mark}"
    reader = await tap("notification_sent")
    app = partial(create_app, retry=QUICK_RETRY)
    async with running(app, settings):
        mail.stop()
        for address in members:
            await publisher.event("member_registered", member(address))
        stored = deliveries(mongo, settings)
        await eventually(
            lambda: reaches(stored, {"kind": "welcome"}, 5), timeout=60, message="5 welcomes"
        )
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        await eventually(
            lambda: reaches(stored, {"status": "pending", "attempts": {"$gte": 2}}, 10),
            timeout=60,
            message="10 deliveries pending after two failed attempts",
        )
        pending = await stored.find_one({"kind": "session_invitation"})
        assert "injoignable" in pending["error"]
        mail.start()
        for address in members:
            await wait_for_mail(mail, address, count=2, timeout=30)
        await reader.wait_for("notification_sent", count=10)
        assert await stored.count_documents({"status": "sent"}) == 10

    assert per_recipient(mail, members) == Counter(dict.fromkeys(members, 2))
    assert len(reader.events("notification_sent")) == 10


async def test_a_refused_recipient_is_failed_and_announced_while_the_others_receive_theirs(
    settings, publisher, tap, mail, mongo
):
    mark = token()
    refused = f"refuse-{mark}@cc-exemple.fr"
    others = [f"ok{i}-{mark}@cc-exemple.fr" for i in range(3)]
    session_id = f"s-{mark}"
    reader = await tap("notification_sent", "notification_failed")
    async with running(create_app, settings):
        for address in [others[0], refused, *others[1:]]:
            await publisher.event("member_registered", member(address))
        await reader.wait_for("notification_failed", timeout=60)
        for address in others:
            await wait_for_mail(mail, address)
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        failed = await reader.wait_for("notification_failed", count=2)
        for address in others:
            await wait_for_mail(mail, address, count=2)
        await reader.wait_for("notification_sent", count=6)
        stored = deliveries(mongo, settings)
        assert await stored.count_documents({"status": "failed", "attempts": 1}) == 2

    assert {f["data"]["kind"] for f in failed} == {"welcome", "session_invitation"}
    assert all(f["data"]["recipient"] == refused for f in failed)
    assert all(f["data"]["error"].startswith("550") for f in failed)
    assert received_by(mail, refused) == []
    assert per_recipient(mail, others) == Counter(dict.fromkeys(others, 2))


async def test_a_redelivered_session_scheduled_sends_no_duplicate(
    settings, publisher, tap, mail, mongo
):
    mark = token()
    agents = [f"agent{i}-{mark}@cc-exemple.fr" for i in range(3)]
    session_id = f"s-{mark}"
    reader = await tap("notification_sent")
    async with running(create_app, settings):
        for address in agents:
            await publisher.event("member_registered", member(address))
        for address in agents:
            await wait_for_mail(mail, address, timeout=60)
        scheduled = await publisher.event(
            "session_scheduled", session(session_id), subject=session_id
        )
        for address in agents:
            await wait_for_mail(mail, address, count=2)
        await publisher.again(scheduled)
        await publisher.again(scheduled)
        # A later event on the same topic and key is processed after the redeliveries.
        later = f"s2-{mark}"
        await publisher.event(
            "session_scheduled", session(later, title="Séance suivante"), subject=session_id
        )
        for address in agents:
            await wait_for_mail(mail, address, count=3)
        await reader.wait_for("notification_sent", count=9)

    assert per_recipient(mail, agents) == Counter(dict.fromkeys(agents, 3))
    assert await deliveries(mongo, settings).count_documents({}) == 9
    assert len(reader.events("notification_sent")) == 9


async def test_a_restart_in_the_middle_of_a_fan_out_sends_each_email_once(
    settings, publisher, mail, mongo
):
    settings = settings.model_copy(update={"delivery_batch_size": 1})
    mark = token()
    agents = [f"agent{i:02d}-{mark}@cc-exemple.fr" for i in range(40)]
    session_id = f"s-{mark}"
    async with running(create_app, settings):
        for address in agents:
            await publisher.event("member_registered", member(address))
        await eventually(
            lambda: reaches(deliveries(mongo, settings), {"status": "sent"}, 40),
            timeout=60,
            message="40 welcome emails sent",
        )
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        await eventually(
            lambda: reaches(
                deliveries(mongo, settings), {"kind": "session_invitation", "status": "sent"}, 1
            ),
            timeout=30,
            interval=0.02,
            message="the fan-out started",
        )
    stopped_at = await deliveries(mongo, settings).count_documents(
        {"kind": "session_invitation", "status": "sent"}
    )
    async with running(create_app, settings):
        for address in agents:
            await wait_for_mail(mail, address, count=2, timeout=60)

    assert stopped_at < 40, "the service stopped after the fan-out ended: nothing was tested"
    assert per_recipient(mail, agents) == Counter(dict.fromkeys(agents, 2))


async def test_bad_input_is_dead_lettered_and_the_next_event_is_processed(
    settings, publisher, tap, mail
):
    mark = token()
    reader = await tap("member_registered", "session_scheduled", dlq=True)
    good = f"good-{mark}@cc-exemple.fr"
    async with running(create_app, settings):
        await publisher.raw("member_registered", b"\x00{not json", key="k1")
        broken = member(f"bad-{mark}@cc-exemple.fr")
        broken["first_name"] = "Eve\r\nBcc: victim@example.org"
        await publisher.event("member_registered", broken, validate=False)
        await publisher.event(
            "session_scheduled",
            session(f"s-{mark}", ends_at="2020-03-17T08:00:00+00:00"),
            validate=False,
        )
        await publisher.event("member_registered", member(good))
        [welcome] = await wait_for_mail(mail, good, timeout=60)
        await reader.wait_for_dlq("member_registered", count=2)
        await reader.wait_for_dlq("session_scheduled", count=1)

    assert welcome.message["Subject"] == "Bienvenue dans le groupe d'échange PAT/SAT"
    assert not [m for m in mail.store.snapshot() if "victim@example.org" in m.recipients]
