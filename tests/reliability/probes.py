"""Probes shared by the scenarios: what a service stored, what a mailbox got, when all is done."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from shared.settings import Settings
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.infra import MailServer
from tests.harness.kafka import Publisher, Tap, eventually, wait_until


def database(mongo: Any, settings: Settings, service: str) -> Any:
    """A service's own database."""
    return mongo[settings.database_name(service)]


async def processed(mongo: Any, settings: Settings, service: str, event_id: str) -> bool:
    """True once `service` recorded the CloudEvent id in its inbox."""
    inbox = database(mongo, settings, service)[COLLECTION]
    return bool(await inbox.count_documents({"_id": event_id}, limit=1))


def distinct_ids(reader: Tap, event_type: str) -> set[str]:
    """The distinct CloudEvent ids seen on a topic (a redelivery re-publishes the same id)."""
    return {body["id"] for body in reader.events(event_type)}


def copies_beyond_first(reader: Tap, event_type: str) -> int:
    """How many messages on a topic repeat an id already seen (re-publications)."""
    return len(reader.events(event_type)) - len(distinct_ids(reader, event_type))


def mailbox_count(mail: MailServer, addresses: Iterable[str], *, per_recipient: int) -> int:
    """How many of `addresses` received at least `per_recipient` messages (cheap: no parsing)."""
    wanted = {a.lower() for a in addresses}
    counts: dict[str, int] = {}
    for message in mail.store.snapshot():
        for rcpt in message.recipients:
            if rcpt.lower() in wanted:
                counts[rcpt.lower()] = counts.get(rcpt.lower(), 0) + 1
    return sum(1 for n in counts.values() if n >= per_recipient)


async def wait_for_mailboxes(
    mail: MailServer, addresses: list[str], *, per_recipient: int = 1, timeout: float = 120.0
) -> None:
    """Wait until every address received at least `per_recipient` messages."""
    await wait_until(
        lambda: mailbox_count(mail, addresses, per_recipient=per_recipient) >= len(addresses),
        timeout=timeout,
        interval=0.25,
        message=lambda: (
            f"{per_recipient} email(s) to each of {len(addresses)} addresses; "
            f"{mailbox_count(mail, addresses, per_recipient=per_recipient)} have them; "
            f"some that lack: {lacking(mail, addresses, per_recipient=per_recipient)}"
        ),
    )


def lacking(
    mail: MailServer, addresses: Iterable[str], *, per_recipient: int
) -> dict[str, list[str]]:
    """A few addresses with fewer than `per_recipient` messages, and the kinds they got."""
    kinds: dict[str, list[str]] = {a.lower(): [] for a in addresses}
    for message in mail.store.snapshot():
        for rcpt in message.recipients:
            if rcpt.lower() in kinds:
                kinds[rcpt.lower()].append(str(message.message.get("X-Caprural-Kind")))
    short = {a: sorted(k) for a, k in kinds.items() if len(k) < per_recipient}
    return dict(list(short.items())[:3])


async def deliveries_settled(
    mongo: Any, settings: Settings, *, sent: int, timeout: float = 120.0
) -> dict[str, int]:
    """Wait until the notifications service has `sent` deliveries sent and none pending,
    every outcome announced; return the deliveries per status."""
    deliveries = database(mongo, settings, "notifications")["deliveries"]

    async def counts() -> dict[str, int] | None:
        found: dict[str, int] = {}
        async for doc in await deliveries.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        ):
            found[doc["_id"]] = doc["n"]
        unannounced = await deliveries.count_documents({"announced": False})
        if found.get("sent", 0) >= sent and not found.get("pending") and not unannounced:
            return found
        return None

    settled: dict[str, int] = await eventually(
        counts, timeout=timeout, interval=0.5, message=f"{sent} deliveries sent, none pending"
    )
    return settled


async def publish_many(publisher: Publisher, items: list[tuple[str, dict[str, Any], str]]) -> None:
    """Publish (type, data, key) events in order, as fast as the broker takes them."""
    for event_type, data, key in items:
        await publisher.event(event_type, data, subject=key)


class Stopwatch:
    """Elapsed seconds since creation, rounded for the figures."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def seconds(self) -> float:
        """Seconds elapsed."""
        return round(time.monotonic() - self.started, 1)
