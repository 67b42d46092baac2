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
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from faststream import BaseMiddleware
from faststream.exceptions import NackMessage
from faststream.message import StreamMessage

from shared.contract import dlq_topic_name
from shared.errors import is_poison, is_transient

logger = logging.getLogger(__name__)

MAX_UNEXPECTED_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 30.0
_HEADER_LIMIT = 1000


class RetryPolicy:
    """Attempts per message, kept between redeliveries of the same offset."""

    def __init__(
        self, *, base: float = BACKOFF_BASE_SECONDS, maximum: float = BACKOFF_MAX_SECONDS
    ) -> None:
        self.base = base
        self.maximum = maximum
        self._attempts: dict[tuple[str, int, int], int] = {}

    def failed(self, position: tuple[str, int, int]) -> int:
        """Record one more failure at `position`; return the number of failures."""
        self._attempts[position] = self._attempts.get(position, 0) + 1
        if len(self._attempts) > 10_000:  # positions of messages long gone
            self._attempts.pop(next(iter(self._attempts)))
        return self._attempts[position]

    def succeeded(self, position: tuple[str, int, int]) -> None:
        """Forget a position once its message is done."""
        self._attempts.pop(position, None)

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped."""
        ceiling = min(self.maximum, self.base * 2 ** min(attempt, 16))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


Publish = Callable[[bytes, str, bytes | None, dict[str, str]], Awaitable[Any]]


def dead_letter_middleware(
    *, service: str, policy: RetryPolicy | None = None
) -> type[BaseMiddleware]:
    """The middleware class for one service's router."""
    retry = policy or RetryPolicy()

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
        ) -> Any:
            record = msg.raw_message
            position = (record.topic, record.partition, record.offset)
            try:
                result = await call_next(msg)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 (every failure is classified here)
                return await self._on_failure(msg, position, error)
            retry.succeeded(position)
            return result

        async def _on_failure(
            self, msg: StreamMessage[Any], position: tuple[str, int, int], error: Exception
        ) -> None:
            attempt = retry.failed(position)
            topic, partition, offset = position
            where = {"topic": topic, "partition": partition, "offset": offset}
            if is_poison(error) or (not is_transient(error) and attempt >= MAX_UNEXPECTED_ATTEMPTS):
                await self._dead_letter(msg, position, error, attempt)
                retry.succeeded(position)
                return
            delay = retry.delay(attempt)
            level = logging.WARNING if is_transient(error) else logging.ERROR
            logger.log(
                level,
                "processing failed (attempt %d), retrying in %.1fs: %s",
                attempt,
                delay,
                _describe(error),
                extra=where,
                exc_info=not is_transient(error),
            )
            await asyncio.sleep(delay)
            raise NackMessage

        async def _dead_letter(
            self,
            msg: StreamMessage[Any],
            position: tuple[str, int, int],
            error: Exception,
            attempt: int,
        ) -> None:
            topic, partition, offset = position
            headers = {k: v for k, v in (msg.headers or {}).items() if isinstance(v, str)}
            headers.update(
                {
                    "x-dlq-error": _describe(error)[:_HEADER_LIMIT],
                    "x-dlq-error-type": type(error).__name__,
                    "x-dlq-reason": "poison" if is_poison(error) else "retries_exhausted",
                    "x-dlq-attempts": str(attempt),
                    "x-dlq-service": service,
                    "x-dlq-source-topic": topic,
                    "x-dlq-source-partition": str(partition),
                    "x-dlq-source-offset": str(offset),
                    "x-dlq-failed-at": datetime.now(UTC).isoformat(),
                }
            )
            broker = self.context.get("broker")
            try:
                await broker.publish(
                    msg.body, topic=dlq_topic_name(topic), key=msg.raw_message.key, headers=headers
                )
            except Exception as publish_error:
                delay = retry.delay(attempt)
                logger.warning(
                    "cannot dead-letter yet, retrying in %.1fs: %s", delay, publish_error
                )
                await asyncio.sleep(delay)
                raise NackMessage from publish_error
            logger.warning(
                "dead-lettered to %s: %s",
                dlq_topic_name(topic),
                headers["x-dlq-error"],
                extra={"topic": topic, "partition": partition, "offset": offset},
            )

    return DeadLetterMiddleware


def _describe(error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return " ".join(text.split())
