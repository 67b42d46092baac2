"""Crashes: a service killed (SIGKILL) in the middle of a burst, then restarted.

Every expected effect happens exactly once: no member lost or registered twice, no email
missing, no email twice (one Message-ID per email; physical re-sends are counted).
The registration burst runs in the background while the fan-out and the publication
scenarios run (`background_burst`); its assertions are in the module's last test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.harness.data import member, registration
from tests.harness.infra import Infra, make_settings
from tests.harness.kafka import Publisher, Tap, eventually, wait_until
from tests.reliability.mailbox import Tally, copies
from tests.reliability.people import (
    TOPIC_TITLES,
    address,
    next_year_tuesday,
    session,
    token,
    topic,
)
from tests.reliability.probes import (
    Stopwatch,
    copies_beyond_first,
    database,
    deliveries_settled,
    distinct_ids,
    processed,
    publish_many,
    wait_for_mailboxes,
)
from tests.reliability.stack import Stack, in_background

pytestmark = pytest.mark.reliability

REGISTRATIONS = 500
FAN_OUT = 300
PROGRAMME_MEMBERS = 20
PROGRAMME_SESSIONS = 5
LEASE_SECONDS = 10.0
EVENTS_SEEN = ("member_registered", "registration_rejected", "notification_sent")


@dataclass
class Burst:
    """What the registration burst found (it runs in the background, see below)."""

    people: list[str]
    reader: Tap
    registered_at_kill: int = 0
    stored: int = 0
    keys: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    alive: bool = False
    seconds: float = 0.0


async def announced(reader: Tap, count: int) -> None:
    """Wait until the reader has seen `count` distinct notification_sent (published
    before each outcome is recorded, they may still be on their way to the reader)."""
    await wait_until(
        lambda: len(distinct_ids(reader, "notification_sent")) >= count,
        timeout=60,
        message=lambda: (
            f"{count} notification_sent; {len(distinct_ids(reader, 'notification_sent'))} seen"
        ),
    )


async def registration_burst(infra: Infra, mongo: Any, logs: Path) -> Burst:
    """500 registrations; registration killed after a fifth of them, then restarted."""
    clock = Stopwatch()
    settings = make_settings(infra)
    mark = token()
    burst = Burst([address(mark, n) for n in range(REGISTRATIONS)], Tap(settings, EVENTS_SEEN))
    publisher = Publisher(settings)
    await publisher.start()
    await burst.reader.start()
    stack = await Stack(settings, logs).start(["registration", "notifications"])
    try:
        requests = [("registration_requested", registration(p), p) for p in burst.people]
        publishing = asyncio.create_task(publish_many(publisher, requests))
        await burst.reader.wait_for("member_registered", count=REGISTRATIONS // 5, timeout=120)
        stack.kill("registration")
        burst.registered_at_kill = len(distinct_ids(burst.reader, "member_registered"))
        await publishing
        await stack.restart("registration")

        await wait_until(
            lambda: len(distinct_ids(burst.reader, "member_registered")) >= REGISTRATIONS,
            timeout=180,
            message=lambda: (
                f"{REGISTRATIONS} members; {len(distinct_ids(burst.reader, 'member_registered'))}"
            ),
        )
        await wait_for_mailboxes(infra.mail, burst.people)
        burst.statuses = await deliveries_settled(mongo, settings, sent=REGISTRATIONS)
        await announced(burst.reader, REGISTRATIONS)
        members = database(mongo, settings, "registration")["members"]
        burst.stored = await members.count_documents({})
        burst.keys = len(await members.distinct("email_key"))
        burst.alive = stack.all_alive()
    finally:
        await burst.reader.stop()
        await publisher.stop()
        await stack.stop()
    burst.seconds = clock.seconds()
    return burst


@pytest.fixture(scope="module")
async def background_burst(
    infra: Infra, mongo: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[asyncio.Task[Burst]]:
    """The registration burst, started with the module's first test and awaited by its
    last: after the kill, MongoDB keeps the killed instance's open transaction until it
    expires (60 s, transactionLifetimeLimitSeconds), and the redelivered batch waits for
    it; the other scenarios run meanwhile, on topics and databases of their own."""
    scenario = registration_burst(infra, mongo, tmp_path_factory.mktemp("registration-burst"))
    async with in_background(scenario) as task:
        yield task


async def kill_during(mail: Any, stack: Stack, people: list[str], *, kind: str, since: int) -> int:
    """SIGKILL notifications once a fifth of `people` received this fan-out's first
    email; how many of `kind` they had received then."""
    targets = set(people)

    def received() -> int:
        # This fan-out's only: the module's background burst sends welcomes meanwhile.
        # No parsing: polled often.
        return sum(1 for m in mail.store.messages[since:] if targets & set(m.recipients))

    await wait_until(
        lambda: received() >= FAN_OUT // 5,
        timeout=120,
        interval=0.002,
        message=f"the {kind} fan-out under way",
    )
    stack.kill("notifications")
    return sum(1 for c in copies(mail.store.snapshot(), recipients=people) if c.kind == kind)


async def test_notifications_killed_during_fan_outs_of_300_invitations_and_a_compte_rendu(
    background_burst, settings, publisher, tap, mail, mongo, figures, tmp_path
):
    clock = Stopwatch()
    mark = token()
    people = [address(mark, n, prefix="invite") for n in range(FAN_OUT)]
    session_id = f"s-{mark}"
    reader = await tap("notification_sent")
    stack = Stack(settings, tmp_path, lease_seconds=LEASE_SECONDS)
    await stack.start(["notifications"])
    try:
        await publish_many(publisher, [("member_registered", member(p), p) for p in people])
        await deliveries_settled(mongo, settings, sent=FAN_OUT)
        data = session(session_id, starts_at=next_year_tuesday())
        before = len(mail.store.snapshot())
        await publisher.event("session_scheduled", data, subject=session_id)
        invited_at_kill = await kill_during(
            mail, stack, people, kind="session_invitation", since=before
        )
        await stack.restart("notifications")
        await wait_for_mailboxes(mail, people, per_recipient=2)
        await deliveries_settled(mongo, settings, sent=2 * FAN_OUT)

        # The compte rendu, after the session: the same fan-out, killed again.
        report = {**data, "report_version": 1, "summary": "Trois pistes retenues.\n\n- Une."}
        before = len(mail.store.snapshot())
        await publisher.event("session_report_shared", report, subject=session_id)
        reported_at_kill = await kill_during(
            mail, stack, people, kind="session_report", since=before
        )
        await stack.restart("notifications")
        await wait_for_mailboxes(mail, people, per_recipient=3)
        statuses = await deliveries_settled(mongo, settings, sent=3 * FAN_OUT)
        await announced(reader, 3 * FAN_OUT)
        assert stack.all_alive(), stack.alive()
    finally:
        await stack.stop()

    tally = Tally.of(copies(mail.store.snapshot(), recipients=people))
    duplicates = tally.duplicates()
    wrong = {
        kind: tally.wrong(people, kind, per_recipient=1)
        for kind in ("welcome", "session_invitation", "session_report")
    }
    figures.record(
        "crash_fan_out",
        events_sent=FAN_OUT + 2,
        faults_injected=(
            f"SIGKILL notifications after {invited_at_kill} invitations, "
            f"then after {reported_at_kill} comptes rendus"
        ),
        emails=sum(tally.emails.values()),
        lost_or_twice=sum(len(w) for w in wrong.values()),
        physical_duplicates=duplicates,
        seconds=clock.seconds(),
    )
    assert 0 < invited_at_kill < FAN_OUT
    assert 0 < reported_at_kill < FAN_OUT
    # Every member has exactly one email of each kind in their mailbox (one Message-ID)...
    assert wrong == {"welcome": {}, "session_invitation": {}, "session_report": {}}
    assert statuses == {"sent": 3 * FAN_OUT}
    assert len(distinct_ids(reader, "notification_sent")) == 3 * FAN_OUT
    # ...and a kill re-sends at most what was on the wire when it happened.
    assert duplicates <= stack.kills, f"{duplicates} physical duplicates for {stack.kills} kill(s)"


async def test_programme_and_scheduling_killed_during_a_publication_schedule_it_once(
    background_burst, settings, publisher, tap, mail, mongo, figures, tmp_path
):
    clock = Stopwatch()
    mark = token()
    people = [address(mark, n, prefix="prog") for n in range(PROGRAMME_MEMBERS)]
    proposer = address(mark, 0, prefix="coordination")
    year = next_year_tuesday().year
    reader = await tap("member_registered", "topic_accepted", "programme_published")
    session_reader = await tap("session_scheduled", "session_rejected")
    stack = await Stack(settings, tmp_path).start()
    try:
        await publish_many(
            publisher,
            [("registration_requested", registration(p), p) for p in people]
            + [("topic_proposed", topic(t, email=proposer), proposer) for t in TOPIC_TITLES],
        )
        await reader.wait_for("member_registered", count=PROGRAMME_MEMBERS, timeout=120)
        await reader.wait_for("topic_accepted", count=len(TOPIC_TITLES), timeout=120)
        await wait_for_mailboxes(mail, people)
        request = await publisher.event(
            "programme_publication_requested", {"year": year, "sessions": PROGRAMME_SESSIONS}
        )
        await eventually(
            lambda: processed(mongo, settings, "programme", request["id"]),
            timeout=120,
            interval=0.01,
            message="the publication stored by the programme service",
        )
        stack.kill("programme")
        published_before_kill = bool(reader.events("programme_published"))
        await stack.restart("programme")
        [published] = await reader.wait_for("programme_published", timeout=120)
        await eventually(
            lambda: processed(mongo, settings, "scheduling", published["id"]),
            timeout=120,
            interval=0.01,
            message="the programme stored by the scheduling service",
        )
        stack.kill("scheduling")
        scheduled_before_kill = len(distinct_ids(session_reader, "session_scheduled"))
        await stack.restart("scheduling")

        await session_reader.wait_for("session_scheduled", count=PROGRAMME_SESSIONS, timeout=120)
        await wait_for_mailboxes(mail, people, per_recipient=2 + PROGRAMME_SESSIONS)
        expected = PROGRAMME_MEMBERS * (2 + PROGRAMME_SESSIONS)
        statuses = await deliveries_settled(mongo, settings, sent=expected, timeout=120)
        programmes = database(mongo, settings, "programme")["programmes"]
        versions = await programmes.count_documents({"year": year})
        sessions = await database(mongo, settings, "scheduling")["sessions"].count_documents({})
        assert stack.all_alive(), stack.alive()
    finally:
        await stack.stop()

    tally = Tally.of(copies(mail.store.snapshot(), recipients=people))
    figures.record(
        "crash_programme",
        events_sent=PROGRAMME_MEMBERS + len(TOPIC_TITLES) + 1,
        faults_injected=(
            "SIGKILL programme after storing the publication "
            f"(published before the kill: {published_before_kill}); SIGKILL scheduling after "
            f"storing the programme ({scheduled_before_kill} sessions announced before the kill)"
        ),
        programme_versions=versions,
        sessions=sessions,
        programme_published_republished=copies_beyond_first(reader, "programme_published"),
        session_scheduled_republished=copies_beyond_first(session_reader, "session_scheduled"),
        emails=sum(tally.emails.values()),
        lost=sum(
            len(tally.wrong(people, kind, per_recipient=n))
            for kind, n in (("programme_announcement", 1), ("session_invitation", 5))
        ),
        duplicates=tally.duplicates(),
        seconds=clock.seconds(),
    )
    assert len(distinct_ids(reader, "programme_published")) == 1
    assert published["data"]["version"] == 1
    assert (versions, sessions) == (1, PROGRAMME_SESSIONS)
    assert len(distinct_ids(session_reader, "session_scheduled")) == PROGRAMME_SESSIONS
    assert session_reader.events("session_rejected") == []
    assert tally.wrong(people, "programme_announcement", per_recipient=1) == {}
    assert tally.wrong(people, "session_invitation", per_recipient=PROGRAMME_SESSIONS) == {}
    assert tally.duplicates() == 0
    assert statuses.get("sent", 0) >= PROGRAMME_MEMBERS * (2 + PROGRAMME_SESSIONS)
    assert set(statuses) == {"sent"}


async def test_registration_killed_during_500_registrations_registers_each_person_once(
    background_burst, mail, figures
):
    burst = await background_burst
    people, reader = burst.people, burst.reader
    tally = Tally.of(copies(mail.store.snapshot(), recipients=people))
    member_ids = {event["data"]["member_id"] for event in reader.events("member_registered")}
    figures.record(
        "crash_registration",
        events_sent=REGISTRATIONS,
        faults_injected=f"SIGKILL registration after {burst.registered_at_kill} members",
        members=burst.stored,
        member_registered_republished=copies_beyond_first(reader, "member_registered"),
        welcome_emails=sum(tally.emails.values()),
        lost=len(tally.wrong(people, "welcome", per_recipient=1)),
        duplicates=tally.duplicates(),
        seconds=burst.seconds,
    )
    assert burst.alive
    assert 0 < burst.registered_at_kill < REGISTRATIONS
    assert (burst.stored, burst.keys, len(member_ids)) == (REGISTRATIONS,) * 3
    assert reader.events("registration_rejected") == []
    assert tally.wrong(people, "welcome", per_recipient=1) == {}
    assert tally.duplicates() == 0
    assert burst.statuses == {"sent": REGISTRATIONS}
    assert len(distinct_ids(reader, "notification_sent")) == REGISTRATIONS
