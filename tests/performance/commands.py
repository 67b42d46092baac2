"""Reading the MongoDB commands a service counted (`caprural_database_commands_total`)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

Counts = Counter[tuple[str, str]]
"""Commands by (work, command)."""


async def commands(service: Any) -> Counts:
    """The counts a service's /metrics shows now: `service` is its app, scraped
    in-process over ASGI, or the base URL of a service running apart."""
    if isinstance(service, str):
        client = httpx.AsyncClient(base_url=service)
    else:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service), base_url="http://service"
        )
    async with client:
        text = (await client.get("/metrics")).text
    counts: Counts = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "caprural_database_commands_total":
                counts[(sample.labels["work"], sample.labels["command"])] += int(sample.value)
    return counts


def spent(before: Counts, after: Counts, *works: str) -> Counts:
    """What was counted between two readings, for the works named."""
    wanted = [key for key in after if key[0] in works and after[key] > before[key]]
    return Counter({key: after[key] - before[key] for key in wanted})


async def settled(*services: Any, works: tuple[str, ...]) -> list[Counts]:
    """The services' counts of `works` once they stop moving (read every 0.3 s, for 30 s
    at most; a scrape and the sweeps are other work, counted apart)."""

    async def now() -> list[Counts]:
        return [spent(Counter(), await commands(service), *works) for service in services]

    deadline = time.monotonic() + 30
    last = await now()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        current = await now()
        if current == last:
            return current
        last = current
    raise AssertionError("the services kept issuing commands")
