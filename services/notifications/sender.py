"""The background sender: claims due deliveries, sends them, records and announces outcomes.

Runs for the life of the service, woken by the handlers right after they store new
deliveries and otherwise every DELIVERY_POLL_SECONDS. Several instances may run: a
delivery is claimed with a lease before it is sent, so only one of them sends it, and
the claim of a crashed instance expires.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from pydantic import ValidationError

from services.notifications.domain import (
    SESSION_KINDS,
    SIGNUP_KINDS,
    Deferred,
    Outcome,
    Refused,
    RetryPolicy,
    Sent,
)
from services.notifications.letters import Letter, LetterError, letter_for, parse_cause
from services.notifications.mailer import Mailer
from services.notifications.mime import build_message, sender_address
from services.notifications.outbox import Delivery, announcement
from services.notifications.rendering import Renderer, RenderError
from services.notifications.repository import Repository
from shared.kafka import Emission, EventPublisher
from shared.settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Skipped:
    """Not sent on purpose (the session was cancelled meanwhile): nothing to announce."""

    reason: str


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
        self.renderer = renderer
        self.publisher = publisher
        self.settings = settings
        self.clock = clock
        self.retry = retry
        self.lease = lease
        self.owner = uuid.uuid4().hex
        self.mailer = Mailer(settings, clock=clock)
        self._envelope_from = sender_address(settings.mail_from)
        self._inflight: asyncio.Future[None] | None = None

    async def run(self, wake: asyncio.Event) -> None:
        """Deliver until cancelled; a failing database only pauses the loop."""
        failures = 0
        try:
            while True:
                try:
                    busy = await self.step()
                    failures = 0
                except Exception as error:  # noqa: BLE001 (logged; the loop must survive)
                    failures += 1
                    logger.warning("delivery loop failed (%d): %s", failures, error)
                    busy = False
                if not busy:
                    pause = self.settings.delivery_poll_seconds * min(2**failures, 30)
                    with suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout=pause)
                    wake.clear()
        finally:
            if self._inflight is not None and not self._inflight.done():
                await asyncio.wait([self._inflight], timeout=self.settings.smtp_timeout_seconds * 3)
            await self.mailer.close()
            with suppress(Exception):
                await self.repo.release(self.owner)

    async def step(self) -> bool:
        """Announce what ended, send one batch; True when more work may be waiting."""
        await self.announce()
        limit = self.settings.delivery_batch_size
        batch = await self.repo.claim(
            now=self.clock(), limit=limit, owner=self.owner, lease=self.lease
        )
        if not batch:
            await self.mailer.close()
            return False
        await self.deliver(batch)
        await self.announce()
        return len(batch) == limit

    async def deliver(self, batch: list[Delivery]) -> None:
        """Send a batch over one connection, recording each outcome right after it."""
        contents = await self.repo.contents(d.content_id for d in batch)
        sessions = await self.repo.sessions(d.session_id for d in batch if d.session_id)
        letters: dict[str, Letter | Refused | Deferred | Skipped] = {}
        self.mailer.new_batch()
        for delivery in batch:
            key = delivery.content_id
            if key not in letters:
                letters[key] = self._letter(delivery, contents.get(key), sessions)
            letter = letters[key]
            if not isinstance(letter, Letter):
                await self._record(delivery, letter, subject=None)
                continue
            prepared = self._message(delivery, letter)
            if not isinstance(prepared, EmailMessage):
                await self._record(delivery, prepared, subject=letter.subject)
                continue
            # Shielded: a stop never falls between the relay's answer and its record.
            self._inflight = asyncio.ensure_future(self._send(delivery, prepared, letter.subject))
            await asyncio.shield(self._inflight)

    async def _send(self, delivery: Delivery, message: EmailMessage, subject: str) -> None:
        outcome = await self.mailer.send(
            message, sender=self._envelope_from, recipient=delivery.recipient_address
        )
        await self._record(delivery, outcome, subject=subject)

    def _letter(
        self, delivery: Delivery, content: dict[str, Any] | None, sessions: dict[str, Any]
    ) -> Letter | Refused | Deferred | Skipped:
        if content is None:
            return Refused("contenu introuvable (effacé ?)")
        known = sessions.get(delivery.session_id or "")
        cancelled = bool(known and known.get("cancelled"))
        if cancelled and delivery.kind in (SESSION_KINDS | SIGNUP_KINDS) - {"session_cancellation"}:
            return Skipped("séance annulée entre-temps")
        session = content.get("session")
        if delivery.kind in SIGNUP_KINDS:
            if known is None:
                return Deferred("séance pas encore connue du service")
            session = known["data"]
        try:
            cause = parse_cause(
                delivery.kind,
                content["data"],
                time=content["cause_time"],
                organizer=self.settings.mail_from,
                session=session,
            )
            return letter_for(cause)
        except (LetterError, ValidationError) as error:
            logger.error("cannot make %s from %s: %s", delivery.kind, delivery.cause_id, error)
            return Refused(f"contenu inutilisable : {error}"[:500])

    def _message(self, delivery: Delivery, letter: Letter) -> EmailMessage | Refused:
        if delivery.recipient is None:
            return Refused("destinataire effacé")
        try:
            email = self.renderer.render(letter, delivery.recipient)
            return build_message(
                email,
                mail_from=self.settings.mail_from,
                recipient=delivery.recipient,
                delivery_id=delivery.delivery_id,
                date=self.clock(),
            )
        except (RenderError, ValueError) as error:
            logger.error("cannot render %s for %s: %s", delivery.kind, delivery.cause_id, error)
            return Refused(f"rendu impossible : {error}"[:500])

    async def _record(
        self, delivery: Delivery, outcome: Outcome | Skipped, *, subject: str | None
    ) -> None:
        now = self.clock()
        attempts = delivery.attempts + 1
        fields: dict[str, Any] = {"attempts": attempts, "subject": subject}
        if isinstance(outcome, Sent):
            fields.update(status="sent", finished_at=outcome.at, error=None)
        elif isinstance(outcome, Refused):
            fields.update(status="failed", finished_at=now, error=outcome.error)
        elif isinstance(outcome, Skipped):
            fields.update(status="skipped", finished_at=now, error=outcome.reason, announced=True)
        elif self.retry.gives_up(attempts):
            error = f"abandon après {attempts} tentatives : {outcome.error}"
            fields.update(status="failed", finished_at=now, error=error[:500])
        else:
            fields.update(next_attempt_at=now + self.retry.delay(attempts), error=outcome.error)
        if not await self.repo.finish(delivery, fields, owner=self.owner):
            logger.warning("lease lost on delivery %s before recording it", delivery.delivery_id)

    async def announce(self) -> None:
        """Publish notification_sent / notification_failed for what ended (deterministic ids)."""
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
