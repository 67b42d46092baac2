"""The background sender: claims due deliveries, sends them, records and announces outcomes.

Runs for the life of the service, woken by the handlers right after they store new
deliveries and otherwise every DELIVERY_POLL_SECONDS. Several instances may run: a
delivery is claimed with a lease before it is sent, so only one of them sends it, and
the claim of a crashed instance expires.

A fan-out is a pipeline: while a batch is being sent over the SMTP connection, the next
batch is claimed and the outcomes of the previous messages are announced and recorded
(in bulk, every RECORD_EVERY messages), so that the database and Kafka work overlaps
with SMTP instead of adding to it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from services.notifications.composer import Composer
from services.notifications.domain import Deferred, Outcome, Refused, RetryPolicy, Sent, Skipped
from services.notifications.letters import Letter
from services.notifications.mailer import Mailer
from services.notifications.mime import sender_address
from services.notifications.outbox import Delivery, announcement
from services.notifications.rendering import Renderer
from services.notifications.repository import Repository
from shared.kafka import Emission, EventPublisher
from shared.settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Outcomes = list[tuple[Delivery, dict[str, Any]]]

RECORD_EVERY = 20
"""Outcomes are recorded in bulk every this many messages (and at the end of a batch,
and when stopping): a crash (not a stop) may send at most about twice this many twice."""


class Sender:
    """One instance's sender."""

    def __init__(
        self,
        *,
        repo: Repository,
        renderer: Renderer,
        publisher: EventPublisher,
        settings: Settings,
        clock: Clock,
        retry: RetryPolicy,
        lease: timedelta,
    ) -> None:
        self.repo = repo
        self.publisher = publisher
        self.settings = settings
        self.clock = clock
        self.retry = retry
        self.lease = lease
        self.owner = uuid.uuid4().hex
        self.mailer = Mailer(settings, clock=clock)
        self.composer = Composer(renderer=renderer, mail_from=settings.mail_from, clock=clock)
        self._envelope_from = sender_address(settings.mail_from)
        self._late: tuple[Delivery, dict[str, Any]] | None = None
        self._recording: asyncio.Future[None] | None = None

    async def run(self, wake: asyncio.Event) -> None:
        """Deliver until cancelled; a failing database only pauses the loop."""
        failures = 0
        try:
            while True:
                try:
                    await self.step()
                    failures = 0
                except Exception as error:  # noqa: BLE001 (logged; the loop must survive)
                    failures += 1
                    logger.warning("delivery loop failed (%d): %s", failures, error)
                pause = self.settings.delivery_poll_seconds * min(2**failures, 30)
                with suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=pause)
                wake.clear()
        finally:
            with suppress(Exception):
                await self._drain()
            await self.mailer.close()
            with suppress(Exception):
                await self.repo.release(self.owner)

    async def step(self) -> None:
        """Announce what ended, then send batches as long as deliveries are due."""
        await self.announce()
        limit = self.settings.delivery_batch_size
        batch = await self._claim()
        while batch:
            upcoming = asyncio.ensure_future(self._claim()) if len(batch) == limit else None
            try:
                await self.deliver(batch)
            except BaseException:
                if upcoming is not None:
                    upcoming.cancel()
                    await asyncio.gather(upcoming, return_exceptions=True)
                raise
            batch = await upcoming if upcoming is not None else []
        await self._drain()
        await self.mailer.close()

    async def _claim(self) -> list[Delivery]:
        return await self.repo.claim(
            now=self.clock(),
            limit=self.settings.delivery_batch_size,
            owner=self.owner,
            lease=self.lease,
        )

    async def deliver(self, batch: list[Delivery]) -> None:
        """Send a batch over one connection; record outcomes every few messages."""
        contents = await self.repo.contents(d.content_id for d in batch)
        sessions = await self.repo.sessions(d.session_id for d in batch if d.session_id)
        letters: dict[str, Letter | Refused | Deferred | Skipped] = {}
        outcomes: Outcomes = []
        self.mailer.new_batch()
        try:
            for delivery in batch:
                key = delivery.content_id
                if key not in letters:
                    letters[key] = self.composer.letter(delivery, contents.get(key), sessions)
                letter = letters[key]
                if not isinstance(letter, Letter):
                    outcomes.append((delivery, self._fields(delivery, letter, None)))
                    continue
                message = self.composer.message(delivery, letter)
                if isinstance(message, Refused):
                    outcomes.append((delivery, self._fields(delivery, message, letter.subject)))
                    continue
                outcome = await self._send(delivery, message, letter.subject)
                outcomes.append((delivery, self._fields(delivery, outcome, letter.subject)))
                if len(outcomes) >= RECORD_EVERY:
                    await self._record(outcomes)
                    outcomes = []
        finally:
            # Also when stopped: what the relay accepted is recorded before leaving.
            await self._record(outcomes)

    async def _send(self, delivery: Delivery, message: bytes, subject: str) -> Outcome:
        """One message; a stop waits for the relay's answer instead of losing it."""
        sending = asyncio.ensure_future(
            self.mailer.send(
                message, sender=self._envelope_from, recipient=delivery.recipient_address
            )
        )
        try:
            return await asyncio.shield(sending)
        except asyncio.CancelledError:
            await asyncio.wait({sending}, timeout=self.settings.smtp_timeout_seconds * 2)
            if sending.done() and not sending.cancelled() and sending.exception() is None:
                self._late = (delivery, self._fields(delivery, sending.result(), subject))
            raise

    def _fields(
        self, delivery: Delivery, outcome: Outcome | Skipped, subject: str | None
    ) -> dict[str, Any]:
        now = self.clock()
        attempts = delivery.attempts + 1
        fields: dict[str, Any] = {"attempts": attempts, "subject": subject}
        if isinstance(outcome, Sent):
            fields.update(status="sent", finished_at=outcome.at, error=None)
        elif isinstance(outcome, Refused):
            fields.update(status="failed", finished_at=now, error=outcome.error)
        elif isinstance(outcome, Skipped):
            fields.update(status="skipped", finished_at=now, error=outcome.reason)
        elif self.retry.gives_up(attempts):
            error = f"abandon après {attempts} tentatives : {outcome.error}"
            fields.update(status="failed", finished_at=now, error=error[:500])
        else:
            fields.update(next_attempt_at=now + self.retry.delay(attempts), error=outcome.error)
        return fields

    async def _record(self, outcomes: Outcomes) -> None:
        """Hand outcomes to the background recorder (one chunk in flight at a time)."""
        if self._late is not None:
            outcomes.append(self._late)
            self._late = None
        if not outcomes:
            return
        await self._drain()
        self._recording = asyncio.ensure_future(self._announce_and_record(outcomes))

    async def _drain(self) -> None:
        """Wait for the chunk being recorded (a failure is logged: its deliveries stay
        claimed until the lease ends, then are tried again)."""
        recording, self._recording = self._recording, None
        if recording is None:
            return
        try:
            await recording
        except Exception as error:  # noqa: BLE001 (the loop goes on; the lease recovers)
            logger.warning("could not record %s: %s", "outcomes", error)

    async def _announce_and_record(self, outcomes: Outcomes) -> None:
        """Publish the chunk's notification events, then record its outcomes in one write.

        In this order, an outcome recorded is an outcome announced; a crash in between
        re-announces with the same deterministic event ids.
        """
        ended = [
            replace(
                delivery,
                status=fields["status"],
                finished_at=fields["finished_at"],
                subject=fields["subject"],
                error=fields["error"],
            )
            for delivery, fields in outcomes
            if fields.get("status") in {"sent", "failed"}
        ]
        events = [event for d in ended if (event := announcement(d)) is not None]
        try:
            await self.publisher.publish([Emission.of(event) for event in events])
            announced = True
        except Exception as error:  # noqa: BLE001 (Kafka down: the sweep announces later)
            logger.warning("could not announce %d outcomes yet: %s", len(events), error)
            announced = False
        for _, fields in outcomes:
            if "status" in fields:
                fields["announced"] = announced or fields["status"] == "skipped"
        recorded = await self.repo.finish_many(outcomes, owner=self.owner)
        if recorded < len(outcomes):
            logger.warning("lease lost on %d deliveries before recording", len(outcomes) - recorded)
        for delivery in ended:
            if announced and delivery.erase_after_send:
                await self.repo.scrub(delivery)

    async def announce(self) -> None:
        """Publish the events of outcomes not announced yet (failed at once, or left over
        by a crash), with their deterministic ids."""
        limit = self.settings.delivery_batch_size
        while True:
            ended = await self.repo.unannounced(limit)
            if not ended:
                return
            events = [event for d in ended if (event := announcement(d)) is not None]
            await self.publisher.publish([Emission.of(event) for event in events])
            await self.repo.mark_announced([d.delivery_id for d in ended])
            for delivery in ended:
                if delivery.erase_after_send:
                    await self.repo.scrub(delivery)
            if len(ended) < limit:
                return
