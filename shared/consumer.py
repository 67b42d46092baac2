"""Consuming a topic in batches: one transaction, one publication, one commit per batch.

A handler is a plain function `handler(event, deps) -> Step | None` (shared/inbox.py):
it checks the event and returns the work to do. For each batch read from Kafka:

1. records that are not valid events are dead-lettered one by one;
2. each event's handler is called; one that raises poison is dead-lettered;
3. the steps run in ONE MongoDB transaction with their inbox records;
4. every emitted event is published, then the `after` hooks run, then the offsets are
   committed (by the acknowledgement, once this returns).

When the batch transaction fails for a reason that is neither transient nor a race, the
steps are run one by one to find the culprit: poison is dead-lettered at once, a bug
after a few attempts (with backoff); the others are processed normally. Transient
failures (MongoDB, Kafka down) propagate: the middleware backs off and redelivers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage
from pydantic import ValidationError

from shared.contract import CloudEvent
from shared.dlq import MAX_UNEXPECTED_ATTEMPTS, DeadLetters, RetryPolicy, describe, records_of
from shared.errors import TransientFailure, is_poison, is_transient
from shared.inbox import Inbox, Step
from shared.kafka import Emission, EventPublisher

logger = logging.getLogger(__name__)

EventT = TypeVar("EventT", bound=CloudEvent[Any])
DepsT = TypeVar("DepsT")
Handler = Callable[[EventT, DepsT], Awaitable[Step | Sequence[Step] | None]]


class RetryLater(TransientFailure):
    """One event of a batch keeps failing: back off and redeliver the batch."""


def decode_valid(model: type[CloudEvent[Any]]) -> Callable[..., Awaitable[list[Any]]]:
    """A batch decoder keeping the records that are valid events (the rest is poison)."""

    async def decode(msg: StreamMessage[Any], original: Any = None) -> list[Any]:
        valid = []
        for record in records_of(msg):
            try:
                valid.append(model.model_validate_json(record.value or b""))
            except ValueError:
                continue
        return valid

    return decode


class BatchConsumer(Generic[EventT, DepsT]):
    """Processes the events of one topic for one service, a batch at a time."""

    def __init__(
        self,
        *,
        model: type[EventT],
        handler: Handler[EventT, DepsT],
        deps: Callable[[], DepsT],
        inbox: Callable[[], Inbox],
        publisher: EventPublisher,
        letters: Callable[[], DeadLetters],
    ) -> None:
        self.model = model
        self.handler = handler
        self._deps = deps
        self._inbox = inbox
        self._publisher = publisher
        self._letters = letters
        self._retry = RetryPolicy()

    async def consume(self, events: Sequence[EventT], msg: StreamMessage[Any]) -> None:
        """Handle one batch (FastStream acknowledges it once this returns)."""
        records = records_of(msg)
        await self._reject_invalid(records, events)
        steps: list[Step] = []
        for event in events:
            try:
                outcome = await self.handler(event, self._deps())
            except Exception as error:
                if not is_poison(error):
                    raise
                await self._dead_letter(event, records, error)
                continue
            if isinstance(outcome, Step):
                steps.append(outcome)
            elif outcome:
                steps.extend(outcome)
        done, results = await self._process(steps, records)
        await self._publisher.publish([e for emissions in results for e in emissions])
        for step, emissions in zip(done, results, strict=True):
            if step.after is not None:
                await step.after(emissions)

    async def _process(
        self, steps: list[Step], records: Sequence[ConsumerRecord[Any, Any]]
    ) -> tuple[list[Step], list[list[Emission]]]:
        try:
            return steps, await self._inbox().process_batch(steps)
        except Exception as error:
            if is_transient(error) or len(steps) == 0:
                raise
            logger.warning("batch of %d failed, isolating: %s", len(steps), describe(error))
        done: list[Step] = []
        results: list[list[Emission]] = []
        for step in steps:
            try:
                results += await self._inbox().process_batch([step])
            except Exception as error:
                if is_transient(error):
                    raise
                attempt = self._retry.failed(step.event.id)
                if not is_poison(error) and attempt < MAX_UNEXPECTED_ATTEMPTS:
                    raise RetryLater(f"{step.event.id}: {describe(error)}") from error
                await self._dead_letter(step.event, records, error, attempts=attempt)
                self._retry.succeeded(step.event.id)
                continue
            done.append(step)
        return done, results

    async def _reject_invalid(
        self, records: Sequence[ConsumerRecord[Any, Any]], events: Sequence[EventT]
    ) -> None:
        if len(records) == len(events):
            return
        for record in records:
            try:
                self.model.model_validate_json(record.value or b"")
            except ValidationError as error:
                await self._letters().send(record, error)

    async def _dead_letter(
        self,
        event: CloudEvent[Any],
        records: Sequence[ConsumerRecord[Any, Any]],
        error: BaseException,
        *,
        attempts: int = 1,
    ) -> None:
        for record in records:
            if _event_id(record) == event.id:
                await self._letters().send(record, error, attempts=attempts)


def _event_id(record: ConsumerRecord[Any, Any]) -> str | None:
    try:
        body = json.loads(record.value or b"")
    except ValueError:
        return None
    return body.get("id") if isinstance(body, dict) else None
