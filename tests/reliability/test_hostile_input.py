"""Hostile input: hypothesis-drawn bad CloudEvents on every consumed topic, among good ones.

No service dies; every message the contract refuses is dead-lettered by each service
that consumes its topic; every message it accepts is processed (recorded in the
service's inbox, possibly as a rejection) or, for a domain rule that can never pass,
dead-lettered; every good one is processed and none is dead-lettered; and nothing
hostile reaches an email unescaped (HTML) or as an extra header (CR/LF).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, cast

import pytest

from shared.contract import dlq_topic_name, topic_name
from shared.settings import Settings
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.kafka import Publisher, Tap, eventually
from tests.reliability.corpus import Background, Names
from tests.reliability.fuzz import (
    CONSUMERS,
    INTERNAL_TYPES,
    NEEDS_STATE,
    Fuzzed,
    classify,
    envelope,
    good,
    template,
)
from tests.reliability.probes import Stopwatch, database

pytestmark = pytest.mark.reliability

GOOD_PER_TOPIC = 2
MARKERS = ("<script", "<img", "<b>gras", "<i>italique")


async def inbox_ids(mongo: Any, settings: Settings, service: str, ids: list[str]) -> set[str]:
    """Which of `ids` the service recorded as processed."""
    inbox = database(mongo, settings, service)[COLLECTION]
    cursor = inbox.find({"_id": {"$in": ids}}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}


def dead_letters(reader: Tap, settings: Settings) -> Counter[tuple[str, str, bytes]]:
    """(event type, service, body) of every dead letter seen."""
    types = {
        dlq_topic_name(topic_name(event_type, settings.kafka_topic_prefix)): event_type
        for event_type in CONSUMERS
    }
    found: Counter[tuple[str, str, bytes]] = Counter()
    for message in reader.messages:
        event_type = types.get(message.topic)
        if event_type is not None:
            service = message.headers.get("x-dlq-service", b"").decode()
            found[(event_type, service, message.value)] += 1
    return found


def _around(html: str) -> str:
    """The HTML around the first hostile marker found in it."""
    at = min((html.find(m) for m in MARKERS if m in html), default=0)
    return html[max(0, at - 200) : at + 200]


class Verdict:
    """What became of each message, for each service that consumes its topic."""

    def __init__(self, messages: list[Fuzzed]) -> None:
        self.messages = messages
        self.unmet: list[str] = []
        self.processed = 0
        self.dead_lettered = 0
        self._recorded: dict[str, set[str]] = {}

    async def check(self, *, mongo: Any, settings: Settings, reader: Tap) -> bool:
        """True when every expectation is met (the unmet ones are kept)."""
        letters = dead_letters(reader, settings)
        recorded = self._recorded
        for service in {s for consumers in CONSUMERS.values() for s in consumers}:
            known = recorded.setdefault(service, set())
            ids = [  # only what the contract accepts can be recorded as processed
                m.event_id
                for m in self.messages
                if m.valid and m.event_id and m.event_id not in known
            ]
            known |= await inbox_ids(mongo, settings, service, ids)  # a record stays
        wanted: Counter[tuple[str, str, bytes]] = Counter()
        self.unmet, self.processed, self.dead_lettered = [], 0, 0
        for message in self.messages:
            for service in CONSUMERS[message.event_type]:
                key = (message.event_type, service, message.body)
                done = message.event_id is not None and message.event_id in recorded[service]
                if message.valid and message.how == "good":
                    if not done or letters[key]:
                        self.unmet.append(f"good {message.event_type} not processed by {service}")
                    self.processed += 1
                elif message.valid and done:
                    self.processed += 1
                else:
                    wanted[key] += 1
                    if letters[key] < wanted[key]:
                        self.unmet.append(
                            f"{service} did not dead-letter {message.event_type} "
                            f"({message.how}): {message.body[:120]!r}"
                        )
                    self.dead_lettered += 1
        return not self.unmet


async def seed_topic(publisher: Publisher, reader: Tap, names: Names) -> str:
    """A known topic, so that good comments and ballots name one that exists (its id is
    the one the corpus was drawn with)."""
    data = template("topic_proposed", names.mark, topic_id="")
    proposal = {**envelope("topic_proposed", data), "id": names.proposal_id}
    await publisher.raw("topic_proposed", json.dumps(proposal).encode())
    title = proposal["data"]["title"]
    [accepted] = await reader.wait_for(
        "topic_accepted", lambda event: event["data"]["title"] == title, timeout=120
    )
    return str(accepted["data"]["topic_id"])


def interleave(hostile: list[Fuzzed], goods: list[Fuzzed]) -> list[Fuzzed]:
    """Good messages spread evenly among the hostile ones."""
    step = max(1, len(hostile) // max(1, len(goods)))
    mixed: list[Fuzzed] = []
    for index, message in enumerate(hostile):
        if index % step == 0 and goods:
            mixed.append(goods.pop())
        mixed.append(message)
    return mixed + goods


async def test_hostile_events_on_every_topic_are_dead_lettered_and_good_ones_processed(
    platform, mail, mongo, figures
):
    clock = Stopwatch()
    names = Background.names
    mark = names.mark
    stack, settings = platform, platform.settings
    publisher = Publisher(settings)
    await publisher.start()
    reader = Tap(settings, CONSUMERS, dlq=True)
    await reader.start()
    try:
        topic_id = await seed_topic(publisher, reader, names)
        assert topic_id == names.topic_id
        hostile = cast(list[Fuzzed], Background.result())
        goods = [
            good(event_type, mark, topic_id=topic_id)
            for event_type in sorted(set(CONSUMERS) - NEEDS_STATE)
            for _ in range(GOOD_PER_TOPIC)
        ]
        messages = interleave(hostile, list(goods))
        await publisher.raw_many((m.event_type, m.body) for m in messages)

        verdict = Verdict(messages)
        try:
            await eventually(
                lambda: verdict.check(mongo=mongo, settings=settings, reader=reader),
                timeout=300,
                interval=2.0,
                message="every message dead-lettered or processed",
            )
        except AssertionError as error:
            unmet = "\n".join(verdict.unmet[:20])
            raise AssertionError(f"{error}\n{len(verdict.unmet)} unmet, e.g.:\n{unmet}") from None
        assert stack.all_alive(), stack.alive()
        ready = {name: [p.ready() for p in slot] for name, slot in stack.instances.items()}
    finally:
        await reader.stop()
        await publisher.stop()

    emails = [m for m in mail.store.snapshot() if any(mark in r for r in m.recipients)]
    unescaped = [
        (m.message["X-Caprural-Kind"], _around(str(part.get_content())))
        for m in emails
        for part in m.message.walk()
        if part.get_content_type() == "text/html"
        and any(marker in str(part.get_content()) for marker in MARKERS)
    ]
    injected = [m.recipients for m in emails if m.message.get_all("Bcc")]
    reasons = Counter(
        (
            m.headers.get("x-dlq-reason", b"").decode(),
            m.headers.get("x-dlq-error-type", b"").decode(),
        )
        for m in reader.messages
        if m.topic.endswith(".dlq")
    )
    figures.record(
        "hostile_input",
        events_sent=len(messages),
        hostile=len(hostile),
        hostile_on_inbound_topics=sum(1 for m in hostile if m.event_type not in INTERNAL_TYPES),
        hostile_accepted_by_contract=sum(1 for m in hostile if m.valid),
        good=len(goods),
        topics=len(CONSUMERS),
        dead_lettered=verdict.dead_lettered,
        processed=verdict.processed,
        dead_letter_reasons=dict(sorted(Counter(r for r, _ in reasons.elements()).items())),
        errors=dict(sorted(Counter(e for _, e in reasons.elements()).items())),
        emails=len(emails),
        lost=len(verdict.unmet),
        seconds=clock.seconds(),
    )
    assert all(all(states) for states in ready.values()), ready
    # A dead letter for any other reason than poison is an exception no rule expected.
    assert set(figures_reasons := Counter(r for r, _ in reasons.elements())) <= {"poison"}, (
        figures_reasons,
        reasons,
    )
    assert unescaped == []
    assert injected == []


@pytest.mark.parametrize(
    ("instant", "accepted"),
    [
        ("9999-12-31T23:59:59-12:00", False),  # no such UTC instant
        ("9999-12-31T23:00:00+00:00", False),  # no such Paris time
        ("0001-01-01T00:00:00+14:00", False),
        ("1899-12-31T23:59:59+00:00", False),
        ("2200-01-01T00:00:00+00:00", False),
        ("1900-01-01T00:00:00+00:00", True),
        ("2199-12-31T23:59:59+00:00", True),
    ],
)
def test_the_contract_refuses_instants_no_service_could_store_or_show(instant, accepted):
    body = envelope("member_erased", {"member_id": "m-1"})
    body["time"] = instant
    assert (classify("member_erased", json.dumps(body).encode()) is not None) is accepted
