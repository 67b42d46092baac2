"""Consuming a topic in batches: one transaction, one publication, one commit per batch.

A handler is a plain function `verb_object(event, uow, deps) -> events`: it reads and
writes through the unit of work's repositories and returns the events to publish. One
consumer reads all the topics of a service (one fetch loop, one consumer group: an idle
service costs its broker one request per poll, not one per topic). For each batch read
from Kafka:

1. records that are not valid events are dead-lettered one by one;
2. the inbox runs every event's handler in ONE MongoDB transaction with the records of
   their ids (shared/inbox.py); an event refused as poison is dead-lettered;
3. every emitted event is published, erasures asked for are applied to the records, the
   service's `after_batch` hooks run, and the offsets are committed (by the
   acknowledgement, once this returns).

When the batch transaction fails for a reason that is neither transient nor a race, the
events are run one by one to find the culprit: poison is dead-lettered at once, a bug
after a few attempts (with backoff); the others are processed normally. Transient
failures (MongoDB, Kafka down) propagate: the middleware backs off and redelivers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from faststream.message import StreamMessage

from shared.contract import CloudEvent
from shared.deadletters import DeadLetters
from shared.errors import TransientFailure, describe, is_poison, is_transient
from shared.inbox import Done, Emitted, Inbox, Refused, Step
from shared.kafka import EventPublisher
from shared.metrics import Metrics
from shared.middleware import MAX_UNEXPECTED_ATTEMPTS, RetryPolicy, records_of
from shared.mongo import working
from shared.telemetry import Tracing, stamped
from shared.unit_of_work import UnitOfWork
from shared.wire import Inbound, read_record

logger = logging.getLogger(__name__)

EventT = TypeVar("EventT", bound=CloudEvent[Any])
UnitT = TypeVar("UnitT", bound=UnitOfWork)
DepsT = TypeVar("DepsT")
Handler = Callable[[EventT, UnitT, DepsT], Awaitable[Emitted]]


class RetryLater(TransientFailure):
    """One event of a batch keeps failing: back off and redeliver the batch."""


@dataclass(frozen=True)
class Route(Generic[UnitT, DepsT]):
    """What a topic carries and which handler takes it."""

    model: type[CloudEvent[Any]]
    handler: Handler[Any, UnitT, DepsT]


class BatchConsumer(Generic[UnitT, DepsT]):
    """Processes the events of one service's topics, a batch at a time (one consumer
    reads them all: a batch may mix topics; each partition keeps its order)."""

    def __init__(
        self,
        *,
        routes: Mapping[str, Route[UnitT, DepsT]],
        deps: Callable[[], DepsT],
        inbox: Callable[[], Inbox[UnitT]],
        publisher: EventPublisher,
        letters: Callable[[], DeadLetters],
        after_batch: Callable[[], Awaitable[None]],
        metrics: Metrics,
        tracing: Tracing,
        service: str,
    ) -> None:
        self._routes = routes
        self._deps = deps
        self._inbox = inbox
        self._publisher = publisher
        self._letters = letters
        self._after_batch = after_batch
        self._retry = RetryPolicy()
        self._metrics = metrics
        self._tracing = tracing
        self._service = service

    async def consume(self, msg: StreamMessage[Any]) -> None:
        """Handle one batch (FastStream acknowledges it once this returns)."""
        with working("events"):
            await self._consume(msg)

    async def _consume(self, msg: StreamMessage[Any]) -> None:
        inbound: list[Inbound[CloudEvent[Any]]] = []
        handlers: dict[int, Handler[Any, UnitT, DepsT]] = {}
        unreadable = []
        for record in records_of(msg):
            route = self._routes[record.topic]
            read = read_record(record, route.model)
            if isinstance(read, Inbound):
                handlers[len(inbound)] = route.handler
                inbound.append(read)
            else:
                unreadable.append(self._letters().send(record, read))
                self._metrics.consumed.labels(record.topic, "dead_lettered").inc()
        await asyncio.gather(*unreadable)  # the broker acknowledges them together
        deps = self._deps()
        steps = [
            Step(item.event, partial(self._handle, handlers[index], item.event, deps))
            for index, item in enumerate(inbound)
        ]
        outcomes = await self._process(steps, inbound)
        topics = {item.event.id: item.record.topic for item in inbound}
        for outcome in outcomes:
            handled = "handled" if isinstance(outcome, Done) else "dead_lettered"
            self._metrics.consumed.labels(topics[outcome.event.id], handled).inc()
        done = [outcome for outcome in outcomes if isinstance(outcome, Done)]
        await self._publisher.publish([output for d in done for output in d.outputs])
        for finished in done:
            if finished.forget:
                await self._inbox().forget(finished.forget)
        await self._after_batch()

    async def _process(
        self, steps: list[Step[UnitT]], inbound: Sequence[Inbound[CloudEvent[Any]]]
    ) -> list[Done | Refused]:
        try:
            outcomes = await self._inbox().process(steps)
        except Exception as error:
            if is_transient(error) or not steps:
                raise
            logger.warning("batch of %d failed, isolating: %s", len(steps), describe(error))
            outcomes = await self._one_by_one(steps)
        for outcome in outcomes:
            if isinstance(outcome, Refused):
                for item in inbound:
                    if item.event.id == outcome.event.id:
                        await self._letters().send(
                            item.record, outcome.error, attempts=outcome.attempts
                        )
        return outcomes

    async def _one_by_one(self, steps: list[Step[UnitT]]) -> list[Done | Refused]:
        outcomes: list[Done | Refused] = []
        for step in steps:
            try:
                outcomes += await self._inbox().process([step])
            except Exception as error:
                if is_transient(error):
                    raise
                attempt = self._retry.failed(step.event.id)
                if not is_poison(error) and attempt < MAX_UNEXPECTED_ATTEMPTS:
                    raise RetryLater(f"{step.event.id}: {describe(error)}") from error
                self._retry.succeeded(step.event.id)
                outcomes.append(Refused(step.event, error, attempt))
        return outcomes

    async def _handle(
        self, handler: Handler[Any, UnitT, DepsT], event: Any, deps: DepsT, uow: UnitT
    ) -> Emitted:
        """One attempt of one event's handler, timed, in its own span (the events it
        emits carry the span's context)."""
        started = time.perf_counter()
        try:
            with self._tracing.handling(event, service=self._service):
                return stamped(await handler(event, uow, deps))
        finally:
            duration = time.perf_counter() - started
            self._metrics.handler_duration.labels(event.type).observe(duration)
