"""Poison versus transient, decided before the acknowledgement does.

A FastStream middleware around every subscriber of a service:

- poison (invalid JSON, schema violation, `PoisonMessage`): the original bytes and key
  go to `<topic>.dlq` with the error, source topic, partition and offset in headers;
  the message is then acknowledged and the consumer moves on;
- transient (MongoDB, Kafka or SMTP unavailable): wait with exponential backoff, then
  nack, which seeks back so the same message is redelivered: never dropped, no
  tight loop;
- anything else (a bug): retried a few times with backoff, then dead-lettered with
  its reason, so that one bad message never blocks its partition for ever.

Batch consumers (shared/consumer.py) dead-letter individual records themselves with
`DeadLetters` (shared/deadletters.py), and only hand the middleware transient failures.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from faststream import BaseMiddleware
from faststream.exceptions import NackMessage
from faststream.message import StreamMessage

from shared.deadletters import DeadLetters
from shared.errors import describe, is_poison, is_transient

logger = logging.getLogger(__name__)

MAX_UNEXPECTED_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 30.0
_REMEMBERED = 10_000

Position = tuple[str, int, int]


class RetryPolicy:
    """Attempts per message (or event), kept between redeliveries."""

    def __init__(
        self, *, base: float = BACKOFF_BASE_SECONDS, maximum: float = BACKOFF_MAX_SECONDS
    ) -> None:
        self.base = base
        self.maximum = maximum
        self._attempts: dict[Any, int] = {}

    def failed(self, position: Any) -> int:
        """Record one more failure at `position`; return the number of failures."""
        self._attempts[position] = self._attempts.get(position, 0) + 1
        if len(self._attempts) > _REMEMBERED:  # positions of messages long gone
            self._attempts.pop(next(iter(self._attempts)))
        return self._attempts[position]

    def succeeded(self, position: Any) -> None:
        """Forget a position once its message is done."""
        self._attempts.pop(position, None)

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped."""
        ceiling = min(self.maximum, self.base * 2 ** min(attempt, 16))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def records_of(msg: StreamMessage[Any]) -> tuple[ConsumerRecord[Any, Any], ...]:
    """The Kafka records behind a message (one, or a batch)."""
    raw = msg.raw_message
    return tuple(raw) if isinstance(raw, tuple) else (raw,)


def dead_letter_middleware(
    *,
    service: str,
    letters: Callable[[], DeadLetters],
    policy: RetryPolicy | None = None,
) -> type[BaseMiddleware]:
    """The middleware class for one service's router."""
    retry = policy or RetryPolicy()

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
        ) -> Any:
            first = records_of(msg)[0]
            position = (first.topic, first.partition, first.offset)
            try:
                result = await call_next(msg)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 (every failure is classified here)
                return await self._on_failure(msg, position, error)
            retry.succeeded(position)
            return result

        async def _on_failure(
            self, msg: StreamMessage[Any], position: Position, error: Exception
        ) -> None:
            attempt = retry.failed(position)
            _topic, _partition, _offset = position
            if is_poison(error) or (not is_transient(error) and attempt >= MAX_UNEXPECTED_ATTEMPTS):
                try:
                    for record in records_of(msg):
                        await letters().send(record, error, attempts=attempt)
                except Exception as publish_error:  # noqa: BLE001 (the DLQ itself is down)
                    await self._back_off(attempt, publish_error, position)
                retry.succeeded(position)
                return
            await self._back_off(attempt, error, position)

        async def _back_off(self, attempt: int, error: BaseException, position: Position) -> None:
            delay = retry.delay(attempt)
            topic, partition, offset = position
            level = logging.WARNING if is_transient(error) else logging.ERROR
            logger.log(
                level,
                "processing failed (attempt %d), retrying in %.1fs: %s",
                attempt,
                delay,
                describe(error),
                extra={"topic": topic, "partition": partition, "offset": offset},
                exc_info=not is_transient(error),
            )
            await asyncio.sleep(delay)
            raise NackMessage from error

    return DeadLetterMiddleware
