"""`python -m benchmarks.run`: the platform's speed against raw baselines, same run.

(a) registration throughput vs a raw aiokafka consume + PyMongo insert + aiokafka produce
    loop; (b) invitation fan-out vs raw aiosmtplib over one connection; (c) end-to-end
latency registration -> welcome email at a steady rate; (d) peak RSS of each service.
Prints a table and writes JSON. Figures, not assertions: benchmarks never fail on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from pymongo import AsyncMongoClient

from shared.contract import CONTENT_TYPE, topic_name
from shared.devstack.processes import free_port
from shared.kafka import client_options, ensure_topics
from shared.settings import Settings
from tests.harness.data import registration
from tests.harness.infra import Infra, embedded_infra, make_settings
from tests.harness.kafka import Tap, cloudevent, wait_until
from tests.harness.services import ServiceProcess
from tests.performance.commands import Counts, commands, settled, spent

RELAY_DELAY = 0.005
"""Seconds the slow relay of scenario (b'') takes to answer each MAIL, RCPT and message."""

TARGETS = {
    "registration_ratio": 1.0,
    "fanout_ratio": 0.4,
    "latency_p99_of_raw": 3.0,
    "rss_mb": 100,
    "cpu_ms_per_email": 1.2,
}


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does."""

    registrations: int
    members: int
    latency_events: int
    rate: float
    slow_relay_members: int
    sign_ups: int
    sign_up_rate: float


SIZES = {
    "tiny": Sizes(
        registrations=30,
        members=20,
        latency_events=20,
        rate=50.0,
        slow_relay_members=20,
        sign_ups=10,
        sign_up_rate=20.0,
    ),
    "full": Sizes(
        registrations=5000,
        members=2000,
        latency_events=1000,
        rate=50.0,
        slow_relay_members=400,
        sign_ups=300,
        sign_up_rate=20.0,
    ),
}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def publish_all(settings: Settings, events: list[dict[str, Any]]) -> None:
    """Publish CloudEvents as fast as the producer takes them."""
    producer = AIOKafkaProducer(acks="all", linger_ms=5, **client_options(settings))
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic_name(event["type"], settings.kafka_topic_prefix),
                json.dumps(event).encode(),
                key=event.get("subject", "").encode() or None,
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
            for event in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def raw_registration_loop(settings: Settings, count: int) -> float:
    """Baseline: consume, insert one document, produce one message, per event."""
    source, sink = f"{settings.kafka_topic_prefix}raw_in", f"{settings.kafka_topic_prefix}raw_out"
    await ensure_topics(settings, ["raw_in", "raw_out"])
    events = [
        cloudevent("registration_requested", registration(f"raw-{i}@bench.example.org"))
        for i in range(count)
    ]
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url.get_secret_value()
    )
    collection = mongo[settings.database_name("raw")]["members"]
    consumer = AIOKafkaConsumer(
        source,
        group_id=f"raw-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        **client_options(settings),
    )
    producer = AIOKafkaProducer(acks="all", **client_options(settings))
    await producer.start()
    await consumer.start()
    while not consumer.assignment():  # noqa: ASYNC110 (aiokafka has no assignment event)
        await asyncio.sleep(0.01)
    start = time.perf_counter()
    await asyncio.gather(*[await producer.send(source, json.dumps(e).encode()) for e in events])
    done = 0
    async for message in consumer:
        body = json.loads(message.value or b"{}")
        await collection.insert_one({"_id": body["id"], "data": body["data"]})
        await producer.send_and_wait(sink, message.value)
        done += 1
        if done == count:
            break
    elapsed = time.perf_counter() - start
    await consumer.stop()
    await producer.stop()
    await mongo.close()
    return count / elapsed


async def system_registrations(settings: Settings, count: int, *, log: Path) -> dict[str, float]:
    """The registration service, from registration_requested to member_registered."""
    service = ServiceProcess("registration", settings, log=log).start()
    tap = Tap(settings, ["member_registered"])
    await tap.start()
    try:
        warm_up = cloudevent("registration_requested", registration("warm-up@bench.example.org"))
        await publish_all(settings, [warm_up])
        await wait_until(
            lambda: len(tap.of("member_registered")) >= 1, timeout=60, message="warm-up"
        )
        events = [
            cloudevent(
                "registration_requested",
                registration(f"m{i}-{uuid.uuid4().hex[:6]}@bench.example.org"),
                subject=f"m{i}@bench.example.org",
            )
            for i in range(count)
        ]
        url = f"http://127.0.0.1:{service.port}"
        commands_before = await commands(url)
        start = time.perf_counter()
        await publish_all(settings, events)
        await wait_until(
            lambda: len(tap.of("member_registered")) >= 1 + count,
            timeout=max(60, count / 5),
            interval=0.05,
            message="member_registered",
        )
        elapsed = time.perf_counter() - start
        used = spent(commands_before, await commands(url), "events")
        return {
            "commands_per_event": sum(used.values()) / count,
            "events_per_second": count / elapsed,
            "seconds": elapsed,
            "peak_rss_mb": peak_rss_mb(service.child.pid),
        }
    finally:
        await tap.stop()
        service.terminate()


def fanned_out(kind: str) -> dict[str, Any]:
    """The event of a fan-out: a session's invitation, or its compte rendu."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    session = {
        "session_id": str(uuid.uuid4()),
        "title": "Gouvernance des démarches alimentaires",
        "question": "Quelles instances de gouvernance ?",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Paris",
        "join_url": "https://visio.caprural.org/pat/bench",
        "sequence": 0,
    }
    if kind == "invitation":
        return cloudevent("session_scheduled", session)
    report = {
        **session,
        "report_version": 1,
        "summary": "Trois territoires ont présenté leur instance de gouvernance. " * 20,
        "resources": [
            {"title": "Guide de la gouvernance alimentaire", "url": "https://caprural.org/g"}
        ],
        "next_steps": ["Partager les chartes de gouvernance", "Revoir le calendrier"],
    }
    return cloudevent("session_report_shared", report)


async def fanout(
    infra: Infra,
    settings: Settings,
    members: int,
    *,
    log: Path,
    kind: str = "invitation",
    relay_delay: float = 0.0,
) -> dict[str, float]:
    """One session_scheduled (or session_report_shared: `kind`) to `members` members,
    then the raw SMTP baseline; `relay_delay`: the relay answers MAIL, RCPT and each
    message that much later, from the fan-out on (the welcomes before go at full speed)."""
    store = infra.mail.store
    service = ServiceProcess("notifications", settings, log=log).start()
    try:
        addresses = [f"member{i}-{uuid.uuid4().hex[:6]}@bench.example.org" for i in range(members)]
        await publish_all(
            settings,
            [
                cloudevent(
                    "member_registered",
                    {
                        "member_id": str(uuid.uuid4()),
                        "email": address,
                        "first_name": "Camille",
                        "last_name": "Martin",
                        "role": "charge_de_mission",
                        "organisation": "CC",
                        "territory": "T",
                        "approach": "PAT",
                        "topics_of_interest": [],
                        "registered_at": datetime.now(UTC).isoformat(),
                    },
                    subject=address,
                )
                for address in addresses
            ],
        )
        wanted = set(addresses)

        def received_since(mark: int) -> list[Any]:
            return [m for m in store.snapshot()[mark:] if wanted & set(m.recipients)]

        await wait_until(
            lambda: len(received_since(0)) >= members,
            timeout=max(120, members / 5),
            message="welcome emails",
        )
        mark = len(store.snapshot())
        session = fanned_out(kind)
        url = f"http://127.0.0.1:{service.port}"
        # The welcomes' last outcomes recorded first: the fan-out is measured alone.
        await settled(url, works=("events", "deliveries"))
        store.delay = relay_delay
        commands_before = await commands(url)
        cpu_before = cpu_seconds(service.child.pid)
        database_before = cpu_seconds(infra.mongodb.pid) if infra.mongodb else 0.0
        start = time.perf_counter()
        await publish_all(settings, [session])
        await wait_until(
            lambda: len(received_since(mark)) >= members,
            timeout=max(120, members / 5),
            interval=0.05,
            message="invitations",
        )
        elapsed = time.perf_counter() - start
        service_cpu = cpu_seconds(service.child.pid) - cpu_before
        database_cpu = (cpu_seconds(infra.mongodb.pid) - database_before) if infra.mongodb else 0.0
        rss = peak_rss_mb(service.child.pid)
        invitations = received_since(mark)[:members]
        # Once the last outcomes are recorded: the fan-out's whole cost.
        (after,) = await settled(url, works=("events", "deliveries"))
        used = spent(commands_before, after, "events", "deliveries")
    finally:
        service.terminate()
    raw = await raw_smtp(infra, invitations)
    return {
        "emails_per_second": members / elapsed,
        "seconds_to_last": elapsed,
        "raw_emails_per_second": raw,
        "service_cpu_seconds": service_cpu,
        "service_cpu_ms_per_email": service_cpu * 1000 / members,
        "commands_per_email": sum(used.values()) / members,
        "database_cpu_seconds": database_cpu,
        "ratio": (members / elapsed) / raw,
        "peak_rss_mb": rss,
    }


async def raw_smtp(infra: Infra, messages: list[Any]) -> float:
    """Baseline: the same messages, pre-rendered, over one aiosmtplib connection."""
    smtp = aiosmtplib.SMTP(hostname=infra.mail.host, port=infra.mail.port, timeout=30)
    start = time.perf_counter()
    async with smtp:
        for message in messages:
            await smtp.sendmail(message.mail_from, list(message.recipients), message.data)
    return len(messages) / (time.perf_counter() - start)


async def latency(
    infra: Infra, settings: Settings, count: int, rate: float, *, logs: Path
) -> dict[str, float]:
    """registration_requested -> welcome email received, at a steady rate; with the
    commands each registration cost (each arrives alone, or nearly)."""
    registration_service = ServiceProcess(
        "registration", settings, log=logs / "lat-reg.log"
    ).start()
    notifications = ServiceProcess("notifications", settings, log=logs / "lat-notif.log").start()
    urls = [f"http://127.0.0.1:{s.port}" for s in (registration_service, notifications)]
    works = ("events", "deliveries")
    producer = AIOKafkaProducer(acks="all", **client_options(settings))
    await producer.start()
    sent: dict[str, float] = {}
    try:
        warm_up = "lat-warm-up@bench.example.org"
        await publish_all(settings, [cloudevent("registration_requested", registration(warm_up))])
        await wait_until(
            lambda: any(warm_up in m.recipients for m in infra.mail.store.snapshot()),
            timeout=90,
            message="the warm-up welcome email",
        )
        before = await settled(*urls, works=works)
        for i in range(count):
            address = f"lat{i}-{uuid.uuid4().hex[:6]}@bench.example.org"
            event = cloudevent("registration_requested", registration(address), subject=address)
            sent[address] = time.time()
            await producer.send_and_wait(
                topic_name("registration_requested", settings.kafka_topic_prefix),
                json.dumps(event).encode(),
                key=address.encode(),
            )
            await asyncio.sleep(max(0.0, sent[address] + 1 / rate - time.time()))

        await wait_until(
            lambda: len(first_arrivals(infra, sent)) >= count,
            timeout=120,
            message="welcome emails",
        )
        arrived = first_arrivals(infra, sent)
        delays = sorted((arrived[a] - sent[a]) * 1000 for a in sent)
        after = await settled(*urls, works=works)
    finally:
        await producer.stop()
        registration_service.terminate()
        notifications.terminate()
    return {
        **_quantiles(delays),
        "max_ms": delays[-1],
        "events": count,
        "rate_per_second": rate,
        "commands_per_registration": commands_between(before, after, works) / count,
    }


async def raw_reader(settings: Settings, topic: str) -> AIOKafkaConsumer:
    """A started consumer of every partition of `topic`, assigned by hand: a running
    service joined its group long before; what is measured is the path of one message,
    not a group's first join."""
    reader = AIOKafkaConsumer(
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        **client_options(settings),
    )
    await reader.start()
    await reader.topics()  # fresh metadata: the topic was just created
    reader.assign(
        [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
    )
    return reader


def commands_between(before: list[Counts], after: list[Counts], works: tuple[str, ...]) -> int:
    """The commands the services issued for `works` between two readings."""
    return sum(sum(spent(b, a, *works).values()) for b, a in zip(before, after, strict=True))


async def raw_latency(
    infra: Infra, settings: Settings, count: int, rate: float
) -> dict[str, float]:
    """Baseline for (c): the same path without the platform, at the same rate.

    Two Kafka hops (request -> relay -> email sender), each consumer storing one document
    and the relay producing one message, then one pre-rendered email sent over a kept
    SMTP connection: what any system of this shape pays on this broker and database.
    """
    hops = ["raw_lat_in", "raw_lat_out"]
    await ensure_topics(settings, hops)
    first, second = (f"{settings.kafka_topic_prefix}{name}" for name in hops)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url.get_secret_value()
    )
    collection = mongo[settings.database_name("raw")]["latency"]

    relay_in, mailer_in = await raw_reader(settings, first), await raw_reader(settings, second)
    producer = AIOKafkaProducer(acks="all", **client_options(settings))
    smtp = aiosmtplib.SMTP(hostname=infra.mail.host, port=infra.mail.port, timeout=30)
    await smtp.connect()
    await producer.start()
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}

    async def relay() -> None:
        async for message in relay_in:
            body = json.loads(message.value or b"{}")
            await collection.insert_one({"_id": f"in-{body['id']}"})
            await producer.send_and_wait(second, message.value)

    async def mail() -> None:
        async for message in mailer_in:
            body = json.loads(message.value or b"{}")
            await collection.insert_one({"_id": f"out-{body['id']}"})
            email = f"Subject: Bienvenue\r\nTo: {body['id']}@bench.example.org\r\n\r\nBonjour\r\n"
            await smtp.sendmail("pat@caprural.org", [f"{body['id']}@bench.example.org"], email)
            arrived[body["id"]] = time.time()

    workers = [asyncio.ensure_future(relay()), asyncio.ensure_future(mail())]
    try:
        while not (relay_in.assignment() and mailer_in.assignment()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await asyncio.sleep(1)  # the first fetches in flight, as in a running service
        for i in range(count):
            key = f"raw-lat-{i}-{uuid.uuid4().hex[:6]}"
            sent[key] = time.time()
            await producer.send_and_wait(first, json.dumps({"id": key}).encode())
            await asyncio.sleep(max(0.0, sent[key] + 1 / rate - time.time()))
        await wait_until(lambda: len(arrived) >= count, timeout=120, message="raw emails")
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for client in (relay_in, mailer_in, producer):
            await client.stop()
        smtp.close()
        await mongo.close()
    return _quantiles(sorted((arrived[k] - sent[k]) * 1000 for k in sent))


def sign_up_form(address: str) -> dict[str, str]:
    """The interest form as a visitor fills it in."""
    return {
        "first_name": "Ana",
        "last_name": "Dupont",
        "email": address,
        "organisation": "Commune d'Exemple",
        "consent": "oui",
    }


def first_arrivals(infra: Infra, wanted: dict[str, float]) -> dict[str, float]:
    """When the first email to each wanted address reached the sink."""
    found: dict[str, float] = {}
    for message in infra.mail.store.snapshot():
        for recipient in message.recipients:
            if recipient in wanted and recipient not in found:
                found[recipient] = message.received_at
    return found


async def sign_ups(
    infra: Infra, settings: Settings, count: int, rate: float, *, logs: Path
) -> dict[str, float]:
    """(e) The interest form posted to the gateway, to its confirmation email (the
    double opt-in link) received, at a steady rate; with the commands it cost."""
    gateway = ServiceProcess("gateway", settings, log=logs / "signup-gateway.log").start()
    notifications = ServiceProcess(
        "notifications", settings, log=logs / "signup-notifications.log"
    ).start()
    urls = [f"http://127.0.0.1:{service.port}" for service in (gateway, notifications)]
    works = ("events", "deliveries", "requests")
    sent: dict[str, float] = {}
    try:
        async with httpx.AsyncClient(base_url=urls[0], timeout=30) as browser:
            warm_up = {f"signup-warm-up-{uuid.uuid4().hex[:6]}@bench.example.org": 0.0}
            await browser.post("/interet", data=sign_up_form(next(iter(warm_up))))
            await wait_until(
                lambda: len(first_arrivals(infra, warm_up)) == 1,
                timeout=90,
                message="the warm-up confirmation",
            )
            before = await settled(*urls, works=works)
            for i in range(count):
                address = f"signup{i}-{uuid.uuid4().hex[:6]}@bench.example.org"
                sent[address] = time.time()
                answer = await browser.post("/interet", data=sign_up_form(address))
                assert answer.status_code == 200, answer.text[:300]
                await asyncio.sleep(max(0.0, sent[address] + 1 / rate - time.time()))
        await wait_until(
            lambda: len(first_arrivals(infra, sent)) >= count,
            timeout=120,
            message="confirmation emails",
        )
        arrived = first_arrivals(infra, sent)
        after = await settled(*urls, works=works)
    finally:
        gateway.terminate()
        notifications.terminate()
    used = commands_between(before, after, works)
    return {
        **_quantiles(sorted((arrived[a] - sent[a]) * 1000 for a in sent)),
        "sign_ups": count,
        "rate_per_second": rate,
        "commands_per_sign_up": used / count,
    }


async def raw_sign_ups(
    infra: Infra, settings: Settings, count: int, rate: float
) -> dict[str, float]:
    """Baseline for (e): the same form posted to a bare FastAPI app (uvicorn) that stores
    one document and produces one Kafka message, whose consumer stores one document and
    sends one pre-rendered email over a kept SMTP connection."""
    await ensure_topics(settings, ["raw_sign_up"])
    topic = f"{settings.kafka_topic_prefix}raw_sign_up"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url.get_secret_value()
    )
    collection = mongo[settings.database_name("raw")]["sign_ups"]
    producer = AIOKafkaProducer(acks="all", **client_options(settings))
    reader = await raw_reader(settings, topic)
    smtp = aiosmtplib.SMTP(hostname=infra.mail.host, port=infra.mail.port, timeout=30)
    app = FastAPI()

    @app.post("/interet")
    async def form(request: Request) -> HTMLResponse:
        address = str((await request.form())["email"])
        await collection.insert_one({"_id": f"in-{address}"})
        await producer.send_and_wait(topic, address.encode())
        return HTMLResponse("<p>Merci</p>")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    arrived: dict[str, float] = {}

    async def mail() -> None:
        async for message in reader:
            address = (message.value or b"").decode()
            await collection.insert_one({"_id": f"out-{address}"})
            email = f"Subject: Confirmez\r\nTo: {address}\r\n\r\nBonjour\r\n"
            await smtp.sendmail("pat@caprural.org", [address], email)
            arrived[address] = time.time()

    await smtp.connect()
    await producer.start()
    workers = [asyncio.ensure_future(server.serve()), asyncio.ensure_future(mail())]
    sent: dict[str, float] = {}
    try:
        await wait_until(lambda: server.started, timeout=30, message="the raw web server")
        await asyncio.sleep(1)  # the first fetch in flight, as in a running service
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as browser:
            for i in range(count):
                address = f"raw-signup{i}-{uuid.uuid4().hex[:6]}@bench.example.org"
                sent[address] = time.time()
                answer = await browser.post("/interet", data=sign_up_form(address))
                assert answer.status_code == 200, answer.text[:300]
                await asyncio.sleep(max(0.0, sent[address] + 1 / rate - time.time()))
        await wait_until(lambda: len(arrived) >= count, timeout=120, message="raw emails")
    finally:
        server.should_exit = True
        workers[1].cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for client in (reader, producer):
            await client.stop()
        smtp.close()
        await mongo.close()
    return _quantiles(sorted((arrived[a] - sent[a]) * 1000 for a in sent))


def _quantiles(delays: list[float]) -> dict[str, float]:
    quantiles = statistics.quantiles(delays, n=100, method="inclusive")
    return {"p50_ms": quantiles[49], "p95_ms": quantiles[94], "p99_ms": quantiles[98]}


async def main(size: str, out: Path) -> dict[str, Any]:
    """Run each scenario, and its raw baseline, on a fresh embedded stack."""
    sizes = SIZES[size]
    logs = out.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # Each scenario on a fresh stack, with its baseline: the embedded servers slow down
    # with what they hold (Tansu every message, in memory; SecantusDB every document).
    # After (a), the fan-out ran at 109 emails/s against 195 on a fresh stack, and the
    # raw latency path took p50 4.9 s after (a) and (b) against 57 ms.
    with embedded_infra() as infra:
        raw_rate = await raw_registration_loop(make_settings(infra), sizes.registrations)
        system = await system_registrations(
            make_settings(infra), sizes.registrations, log=logs / "registration.log"
        )
    with embedded_infra() as infra:
        fan = await fanout(
            infra, make_settings(infra), sizes.members, log=logs / "notifications.log"
        )
    with embedded_infra() as infra:
        report = await fanout(
            infra,
            make_settings(infra),
            sizes.members,
            log=logs / "notifications-report.log",
            kind="compte_rendu",
        )
    # A relay 5 ms away (each answer to MAIL, RCPT and a message 5 ms later): one SMTP
    # connection against two, each on a fresh stack.
    slow: dict[str, Any] = {}
    for connections in (1, 2):
        with embedded_infra() as infra:
            slow[str(connections)] = await fanout(
                infra,
                make_settings(infra, smtp_connections=connections),
                sizes.slow_relay_members,
                log=logs / f"notifications-slow-relay-{connections}.log",
                relay_delay=RELAY_DELAY,
            )
    with embedded_infra() as infra:
        signing: dict[str, Any] = await sign_ups(
            infra, make_settings(infra), sizes.sign_ups, sizes.sign_up_rate, logs=logs
        )
        signing["raw"] = await raw_sign_ups(
            infra, make_settings(infra), sizes.sign_ups, sizes.sign_up_rate
        )
    with embedded_infra() as infra:
        lat: dict[str, Any] = await latency(
            infra, make_settings(infra), sizes.latency_events, sizes.rate, logs=logs
        )
        lat["raw"] = await raw_latency(
            infra, make_settings(infra), sizes.latency_events, sizes.rate
        )
    return {
        "when": datetime.now(UTC).isoformat(),
        "size": size,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "registration": {
            **system,
            "raw_events_per_second": raw_rate,
            "ratio": system["events_per_second"] / raw_rate,
            "events": sizes.registrations,
        },
        "fanout": {**fan, "members": sizes.members},
        "report_fanout": {**report, "members": sizes.members},
        "slow_relay": {
            "members": sizes.slow_relay_members,
            "delay_ms": RELAY_DELAY * 1000,
            "by_connections": slow,
        },
        "latency": lat,
        "sign_up": signing,
        "targets": TARGETS,
    }


def table(result: dict[str, Any]) -> str:
    """The figures as a text table."""
    reg, fan, lat = result["registration"], result["fanout"], result["latency"]
    rep = result["report_fanout"]
    slow = result["slow_relay"]["by_connections"]
    sign = result["sign_up"]
    rows = [
        (
            "(a) registrations/s",
            f"{reg['events_per_second']:.0f}",
            f"raw {reg['raw_events_per_second']:.0f}",
            f"ratio {reg['ratio']:.2f} (target >= {TARGETS['registration_ratio']})",
        ),
        (
            "(b) invitations/s",
            f"{fan['emails_per_second']:.0f}",
            f"raw {fan['raw_emails_per_second']:.0f}",
            f"ratio {fan['ratio']:.2f} (target >= {TARGETS['fanout_ratio']}); "
            f"last after {fan['seconds_to_last']:.1f}s",
        ),
        (
            "(c) latency ms",
            f"p50 {lat['p50_ms']:.0f}",
            f"p95 {lat['p95_ms']:.0f}",
            f"p99 {lat['p99_ms']:.0f}: {lat['p99_ms'] / lat['raw']['p99_ms']:.1f}x the raw "
            f"path (target <= {TARGETS['latency_p99_of_raw']}x); "
            f"{lat['commands_per_registration']:.1f} commands each",
        ),
        (
            "    raw path ms",
            f"p50 {lat['raw']['p50_ms']:.0f}",
            f"p95 {lat['raw']['p95_ms']:.0f}",
            f"p99 {lat['raw']['p99_ms']:.0f} (2 hops + 2 inserts + 1 SMTP send)",
        ),
        (
            "(e) sign-up ms",
            f"p50 {sign['p50_ms']:.0f}",
            f"p95 {sign['p95_ms']:.0f}",
            f"p99 {sign['p99_ms']:.0f}: {sign['p99_ms'] / sign['raw']['p99_ms']:.1f}x the raw "
            f"path (p99 {sign['raw']['p99_ms']:.0f}); "
            f"{sign['commands_per_sign_up']:.1f} commands a sign-up",
        ),
        (
            "(b') compte rendu/s",
            f"{rep['emails_per_second']:.0f}",
            f"raw {rep['raw_emails_per_second']:.0f}",
            f"ratio {rep['ratio']:.2f}; {rep['commands_per_email']:.2f} commands and "
            f"{rep['service_cpu_ms_per_email']:.2f} ms CPU per email",
        ),
        (
            "(b'') relay 5 ms away",
            f"1 connection {slow['1']['emails_per_second']:.0f}/s",
            f"2: {slow['2']['emails_per_second']:.0f}/s",
            f"raw {slow['1']['raw_emails_per_second']:.0f}/s (one connection); "
            f"2 connections {slow['2']['emails_per_second'] / slow['1']['emails_per_second']:.2f}"
            "x one",
        ),
        (
            "    database commands",
            f"{reg['commands_per_event']:.2f} per registration",
            f"{fan['commands_per_email']:.2f} per email",
            f"CPU {fan['service_cpu_ms_per_email']:.2f} ms per email "
            f"(target <= {TARGETS['cpu_ms_per_email']})",
        ),
        (
            "(d) peak RSS MB",
            f"registration {reg['peak_rss_mb']:.0f}",
            f"notifications {fan['peak_rss_mb']:.0f}",
            f"(target < {TARGETS['rss_mb']})",
        ),
    ]
    return "\n".join(f"{a:<22} {b:<22} {c:<22} {d}" for a, b, c, d in rows)


def cli() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/latest.json"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(main(args.size, args.out))
    args.out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    cli()
