"""Outages: MongoDB stopped for 10 s, the SMTP server stopped for 30 s, the broker restarted.

The four services run as subprocesses against servers of this module's own (never the
session's), and recover by themselves: whatever is published before, during and after
an outage is processed once. The SMTP outage needs only an SMTP server of its own: it
runs in the background on the session's Kafka and MongoDB (`smtp_scenario`) while the
MongoDB and broker scenarios run, and is checked by the module's last test.

Each phase registers people (registration, programme and notifications at work) and
asks for a session (scheduling, then invitations to every member): every person ends
with one welcome and one invitation per session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from shared.contract import EVENTS
from shared.devstack import processes
from shared.kafka import ensure_topics
from shared.settings import Settings
from tests.harness.data import registration
from tests.harness.infra import Infra, MailServer, make_settings
from tests.harness.kafka import Publisher, Tap, eventually, wait_until
from tests.reliability.mailbox import Tally, copies
from tests.reliability.people import address, next_year_tuesday, token
from tests.reliability.private import HOST, PrivateServers, outage
from tests.reliability.probes import (
    Stopwatch,
    database,
    deliveries_settled,
    distinct_ids,
    wait_for_mailboxes,
)
from tests.reliability.stack import Stack, in_background

pytestmark = pytest.mark.reliability

PER_PHASE = 10
MONGODB_OUTAGE = 10.0
SMTP_OUTAGE = 30.0


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateServers]:
    """Kafka, MongoDB and SMTP of this module only."""
    private = PrivateServers(tmp_path_factory.mktemp("outage-servers")).start()
    yield private
    private.stop()


@pytest.fixture(scope="module")
def outage_settings(servers: PrivateServers) -> Settings:
    """One set of topics and databases for the module's stack."""
    return make_settings(servers.infra)


@pytest.fixture(scope="module")
async def stack(
    outage_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The four services, shared by the module's scenarios (each uses its own people)."""
    running = await Stack(outage_settings, tmp_path_factory.mktemp("outage-logs")).start()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
async def mongo_client(servers: PrivateServers) -> AsyncIterator[Any]:
    """A client of the module's MongoDB (it reconnects after an outage)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        servers.infra.mongodb_url, tz_aware=True
    )
    yield client
    await client.close()


@pytest.fixture(scope="module")
def ledger() -> list[str]:
    """Every session asked for in the module's stack: each member is invited to all."""
    return []


@pytest.fixture
async def client(outage_settings: Settings) -> AsyncIterator[Publisher]:
    """Publishes into the module's stack."""
    publisher = Publisher(outage_settings)
    await publisher.start()
    yield publisher
    await publisher.stop()


class Phases:
    """People and sessions of one scenario, published phase by phase."""

    def __init__(self, publisher: Publisher, ledger: list[str], *, week: int) -> None:
        self.publisher = publisher
        self.mark = token()
        self.people: list[str] = []
        self.sessions = ledger
        self.mine: list[str] = []
        self.starts_at = next_year_tuesday() + timedelta(weeks=week)
        self.published = 0

    async def phase(self, name: str, *, session: bool = False) -> None:
        """Ask for PER_PHASE registrations (and, if told, a session)."""
        for _ in range(PER_PHASE):
            person = address(self.mark, len(self.people), prefix=name)
            self.people.append(person)
            await self.publisher.event(
                "registration_requested", registration(person), subject=person
            )
            self.published += 1
        if session:
            starts_at = self.starts_at + timedelta(hours=3 * len(self.mine))
            request = {
                "title": f"Séance {name}",
                "question": "Quelles priorités pour le programme ?",
                "starts_at": starts_at.isoformat(),
                "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            }
            sent = await self.publisher.event("session_schedule_requested", request)
            self.sessions.append(sent["id"])
            self.mine.append(sent["id"])
            self.published += 1


async def members_known(mongo: Any, settings: Settings, people: list[str]) -> bool:
    """True once registration and programme both hold every person as a member."""
    keys = {"email_key": {"$in": [p.lower() for p in people]}}
    registration = await database(mongo, settings, "registration")["members"].count_documents(keys)
    programme = await database(mongo, settings, "programme")["members"].count_documents(keys)
    return bool(registration == programme == len(people))


async def everything_processed(
    phases: Phases, *, settings: Settings, mail: Any, mongo: Any, reader: Tap
) -> Tally:
    """Wait until every person has a welcome and an invitation per session (late
    invitations for the sessions known when they joined); count them."""
    expected = 1 + len(phases.sessions)
    await wait_for_mailboxes(mail, phases.people, per_recipient=expected, timeout=180)
    await reader.wait_for("session_scheduled", count=len(phases.mine), timeout=60)
    await deliveries_settled(mongo, settings, sent=len(phases.people) * expected, timeout=120)
    await eventually(
        lambda: members_known(mongo, settings, phases.people),
        timeout=60,
        message="every member in the registration and programme databases",
    )
    return Tally.of(copies(mail.store.snapshot(), recipients=phases.people))


def check_once(tally: Tally, phases: Phases) -> dict[str, int]:
    """Lost and doubled emails of a scenario's people (asserted to be none)."""
    lost_or_twice = tally.wrong(phases.people, "welcome") | tally.wrong(
        phases.people, "session_invitation", per_recipient=len(phases.sessions)
    )
    return {"lost_or_twice": len(lost_or_twice), "duplicates": tally.duplicates()}


@dataclass
class SmtpOutage:
    """What the SMTP outage scenario found (it runs in the background, see below)."""

    phases: Phases
    tally: Tally
    lasted: float
    recovered: float
    alive: bool
    seconds: float


async def smtp_outage(infra: Infra, mongo: Any, logs: Path) -> SmtpOutage:
    """The four services with an SMTP server of their own, stopped for 30 s."""
    clock = Stopwatch()
    mail = MailServer(HOST, processes.free_port())
    mail.start()
    settings = make_settings(Infra(infra.kafka_bootstrap_servers, infra.mongodb_url, mail))
    stack = await Stack(settings, logs).start()
    publisher = Publisher(settings)
    await publisher.start()
    reader = Tap(settings, ["session_scheduled"])
    await reader.start()
    try:
        phases = Phases(publisher, [], week=1)
        await phases.phase("before", session=True)
        await wait_for_mailboxes(mail, phases.people, per_recipient=2, timeout=120)
        mail.stop()
        await phases.phase("during", session=True)
        lasted = await outage(SMTP_OUTAGE)
        mail.start()
        restarted = clock.seconds()
        await phases.phase("after", session=True)
        tally = await everything_processed(
            phases, settings=settings, mail=mail, mongo=mongo, reader=reader
        )
        recovered = round(clock.seconds() - restarted, 1)
        alive = stack.all_alive()
    finally:
        await reader.stop()
        await publisher.stop()
        await stack.stop()
        mail.stop()
    return SmtpOutage(phases, tally, lasted, recovered, alive, clock.seconds())


@pytest.fixture(scope="module")
async def smtp_scenario(
    infra: Infra, mongo: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[asyncio.Task[SmtpOutage]]:
    """The SMTP outage, started with the module's first test and awaited by its last:
    it needs no private Kafka or MongoDB, only an SMTP server of its own, so its 30 s
    outage and the backoff that follows overlap the other scenarios."""
    scenario = smtp_outage(infra, mongo, tmp_path_factory.mktemp("smtp"))
    async with in_background(scenario) as task:
        yield task


async def test_mongodb_stopped_for_10_s_loses_nothing_published_before_during_or_after(
    smtp_scenario, stack, servers, outage_settings, client, mongo_client, ledger, figures
):
    clock = Stopwatch()
    settings, mail = outage_settings, servers.mail
    reader = Tap(settings, ["session_scheduled"])
    await reader.start()
    try:
        phases = Phases(client, ledger, week=0)
        await phases.phase("before", session=True)
        servers.stop_mongodb()
        await phases.phase("during", session=True)
        lasted = await outage(MONGODB_OUTAGE)
        servers.start_mongodb()
        await phases.phase("after", session=True)
        tally = await everything_processed(
            phases, settings=settings, mail=mail, mongo=mongo_client, reader=reader
        )
        assert stack.all_alive(), stack.alive()
    finally:
        await reader.stop()

    found = check_once(tally, phases)
    figures.record(
        "outage_mongodb",
        events_sent=phases.published,
        faults_injected=f"MongoDB stopped for {lasted} s",
        emails=sum(tally.emails.values()),
        lost=found["lost_or_twice"],
        duplicates=found["duplicates"],
        seconds=clock.seconds(),
    )
    assert found == {"lost_or_twice": 0, "duplicates": 0}
    assert len(distinct_ids(reader, "session_scheduled")) == len(phases.sessions)


async def test_broker_restarted_the_services_reconnect_and_process_what_follows(
    smtp_scenario, stack, servers, outage_settings, client, mongo_client, ledger, figures
):
    clock = Stopwatch()
    settings, mail = outage_settings, servers.mail
    before = Phases(client, ledger, week=2)
    await before.phase("before", session=True)
    reader = Tap(settings, ["session_scheduled"])
    await reader.start()
    try:
        await everything_processed(
            before, settings=settings, mail=mail, mongo=mongo_client, reader=reader
        )
    finally:
        await reader.stop()

    servers.stop_kafka()
    servers.start_kafka()
    # Tansu keeps nothing across its restart: create the topics again, as the
    # deployment's topic job does (a real Kafka keeps them, with their messages).
    await ensure_topics(settings, EVENTS)
    restarted = clock.seconds()
    after_client = Publisher(settings)
    await after_client.start()
    reader = Tap(settings, ["session_scheduled"])
    await reader.start()
    try:
        after = Phases(after_client, ledger, week=2)
        after.starts_at += timedelta(days=1)
        await after.phase("after", session=True)
        tally = await everything_processed(
            after, settings=settings, mail=mail, mongo=mongo_client, reader=reader
        )
        assert stack.all_alive(), stack.alive()
    finally:
        await reader.stop()
        await after_client.stop()

    found = check_once(tally, after)
    figures.record(
        "broker_restart",
        events_sent=before.published + after.published,
        faults_injected="Tansu restarted (empty: topics created again)",
        emails=sum(tally.emails.values()),
        lost=found["lost_or_twice"],
        duplicates=found["duplicates"],
        recovered_seconds_after_restart=round(clock.seconds() - restarted, 1),
        seconds=clock.seconds(),
    )
    assert found == {"lost_or_twice": 0, "duplicates": 0}
    await wait_until(lambda: stack.all_alive(), timeout=1, message="every service alive")


async def test_smtp_stopped_for_30_s_delays_emails_but_loses_none(smtp_scenario, figures):
    result = await smtp_scenario
    found = check_once(result.tally, result.phases)
    figures.record(
        "outage_smtp",
        events_sent=result.phases.published,
        faults_injected=f"SMTP server stopped for {result.lasted} s",
        emails=sum(result.tally.emails.values()),
        lost=found["lost_or_twice"],
        duplicates=found["duplicates"],
        recovered_seconds_after_restart=result.recovered,
        seconds=result.seconds,
    )
    assert result.alive
    assert found == {"lost_or_twice": 0, "duplicates": 0}
