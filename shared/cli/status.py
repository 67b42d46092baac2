"""`caprural status`: one screen for an operator.

Each service up or not (its /ready), the consumer lag of each service's group, the dead
letters per topic, the deliveries pending and failed with the age of the oldest, and the
upcoming sessions with their places and waitlist. The services answer for their own data
(`GET /status`: each stays the only reader of its database); Kafka answers for offsets.
The exit code is 0 when every service is ready, 1 otherwise (for scripts and cron).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.deadletters import dlq_topics
from shared.kafka import client_options
from shared.settings import Settings

TIMEOUT_SECONDS = 5.0


@dataclass
class ServiceState:
    """What one service said (or that it did not answer)."""

    name: str
    url: str
    ready: bool
    problem: str = ""
    status: dict[str, Any] = field(default_factory=dict)


@dataclass
class Status:
    """The platform as the operator sees it."""

    services: list[ServiceState]
    lag: dict[str, int | None]
    """Messages not yet processed, per consumer group (None: no position committed yet)."""
    dead_letters: dict[str, int]
    """Messages in each non-empty dead-letter topic."""

    @property
    def healthy(self) -> bool:
        """Every service is ready."""
        return all(state.ready for state in self.services)


def _get(url: str) -> tuple[int, dict[str, Any]]:
    # The scheme is checked by parse_urls / local_urls: http or https only.
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:  # /ready answers 503 with its reasons
        try:
            return error.code, json.loads(error.read())
        except ValueError:
            return error.code, {}


async def _service(name: str, url: str) -> ServiceState:
    try:
        code, ready = await asyncio.to_thread(_get, f"{url}/ready")
        _, status = await asyncio.to_thread(_get, f"{url}/status")
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return ServiceState(name, url, ready=False, problem=f"no answer ({reason})")
    if code != 200:
        down = [part for part in ("kafka", "mongodb") if ready.get(part) is False]
        problem = f"not ready ({', '.join(down) or f'HTTP {code}'} down)"
        return ServiceState(name, url, ready=False, problem=problem, status=status)
    return ServiceState(name, url, ready=True, status=status)


async def _offsets(settings: Settings, groups: Mapping[str, list[str]]) -> Status:
    """Lag per group and dead letters per topic, from Kafka (no group joined)."""
    lag: dict[str, int | None] = {}
    dead: dict[str, int] = {}
    probe = AIOKafkaConsumer(enable_auto_commit=False, **client_options(settings))
    await probe.start()
    try:
        existing = await probe.topics()

        def partitions(topics: list[str]) -> list[TopicPartition]:
            return [
                TopicPartition(topic, p)
                for topic in topics
                if topic in existing
                for p in sorted(probe.partitions_for_topic(topic) or ())
            ]

        letters = partitions(dlq_topics(settings))
        if letters:
            first = await probe.beginning_offsets(letters)
            last = await probe.end_offsets(letters)
            for tp in letters:
                dead[tp.topic] = dead.get(tp.topic, 0) + last[tp] - first[tp]
        for group, topics in groups.items():
            lag[group] = await _lag(settings, group, partitions(topics), probe)
    finally:
        await probe.stop()
    return Status([], lag, {topic: n for topic, n in sorted(dead.items()) if n})


async def _lag(
    settings: Settings, group: str, partitions: list[TopicPartition], probe: AIOKafkaConsumer
) -> int | None:
    if not partitions:
        return 0
    reader = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **client_options(settings))
    await reader.start()
    try:
        ends = await probe.end_offsets(partitions)
        behind = 0
        committed_any = False
        for tp in partitions:
            committed = await reader.committed(tp)
            if committed is not None:
                committed_any = True
            behind += ends[tp] - (committed or 0)
        return behind if committed_any or behind == 0 else None
    finally:
        await reader.stop()


async def gather(settings: Settings, urls: Mapping[str, str]) -> Status:
    """Ask every service, then Kafka for the groups they named."""
    states = list(await asyncio.gather(*(_service(n, u) for n, u in urls.items())))
    groups = {
        state.status["consumer_group"]: list(state.status.get("topics", []))
        for state in states
        if "consumer_group" in state.status
    }
    offsets = await _offsets(settings, groups)
    return Status(states, offsets.lag, offsets.dead_letters)


def render(status: Status) -> str:
    """The one screen."""
    lines = ["Services"]
    for state in status.services:
        verdict = "ready" if state.ready else state.problem
        lines.append(f"  {state.name:<14} {verdict:<34} {state.url}")
    lines += ["", "Consumer lag (messages not yet processed)"]
    by_group = {s.status.get("consumer_group"): s.name for s in status.services}
    for group, behind in status.lag.items():
        shown = "no position committed yet" if behind is None else str(behind)
        lines.append(f"  {by_group.get(group, group):<14} {shown:<12} (group {group})")
    if not status.lag:
        lines.append("  (no service answered)")
    lines += ["", "Dead letters"]
    for topic, count in status.dead_letters.items():
        lines.append(f"  {topic:<50} {count}")
    if not status.dead_letters:
        lines.append("  none")
    lines += ["", "Deliveries"]
    deliveries = _from(status, "deliveries")
    if deliveries is None:
        lines.append("  unknown (notifications did not answer)")
    else:
        counts = deliveries.get("by_status", {})
        age = deliveries.get("oldest_pending_age_seconds")
        oldest = f", oldest {_duration(age)}" if age is not None else ""
        lines.append(f"  pending {counts.get('pending', 0)}{oldest}")
        lines.append(f"  failed  {counts.get('failed', 0)}")
        lines.append(f"  sent    {counts.get('sent', 0)}")
    lines += ["", "Upcoming sessions"]
    sessions = _from(status, "upcoming_sessions")
    if sessions is None:
        lines.append("  unknown (registration did not answer)")
    for session in sessions or []:
        starts = datetime.fromisoformat(session["starts_at"]).astimezone()
        places = max(0, session["capacity"] - session["enrolled"])
        lines.append(
            f"  {starts:%Y-%m-%d %H:%M}  {session['session_id']:<28} "
            f"enrolled {session['enrolled']}/{session['capacity']}, {places} place(s) left, "
            f"waitlist {session['waitlisted']}"
        )
    if sessions == []:
        lines.append("  none scheduled")
    return "\n".join(lines)


def _from(status: Status, key: str) -> Any:
    for state in status.services:
        if key in state.status:
            return state.status[key]
    return None


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"
