"""The background sender: claims due deliveries, sends them, records and announces outcomes.

Runs for the life of the service, woken by the handlers right after they store new
deliveries and otherwise every DELIVERY_POLL_SECONDS. Several instances may run: a
delivery is claimed with a lease before it is sent, so only one of them sends it, and
the claim of a crashed instance expires.

Deliveries are claimed a chunk at a time (one `update_many`). A fan-out is a pipeline:
while a chunk is sent, the next chunk is claimed and the outcomes of the previous one
are announced and recorded (one `update_many` for the emails sent), so that database
and Kafka work overlaps with SMTP. Within a chunk, emails go out in order over
SMTP_CONNECTIONS connections in turn: the next email is built and its envelope accepted
while a message is handed over. Each accepted email gets a receipt before the next
message is handed to the relay: a sender taking over a crashed one's chunk skips what
has a receipt, so a crash resends at most the one email accepted and not yet on record
(with the same Message-ID, which mail systems recognise).

The SMTP connections stay open while work keeps coming, and are closed once the sender
has been idle for DELIVERY_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from services.notifications.deliveries import Handoff, MongoDeliveries, Receipts
from services.notifications.domain import Outcome, Refused, RetryPolicy, Sent, Skipped
from services.notifications.emails import Composer
from services.notifications.emails.mime import sender_address
from services.notifications.events import announcement
from services.notifications.metrics import DeliveryMetrics
from services.notifications.recipients import MongoRecipients
from services.notifications.records import Content, Delivery
from services.notifications.smtp import SmtpClient
from shared.clock import Clock
from shared.kafka import Emission, EventPublisher
from shared.mongo import working
from shared.settings import Settings
from shared.telemetry import Tracing

logger = logging.getLogger(__name__)

Outcomes = list[tuple[Delivery, dict[str, Any]]]


@dataclass(frozen=True)
class Flight:
    """One email on its way: sent over a connection, then landed (its receipt written)."""

    index: int
    delivery: Delivery
    subject: str
    sending: asyncio.Task[Outcome]
    landed: asyncio.Task[None]


GATHER_SECONDS = 0.03
"""How long the sender waits, once woken, for more deliveries to claim together."""
SWEEP_SECONDS = 1.0
"""How often, at most, the sender looks for outcomes to announce and erasures to scrub
while events arrive or an announcement failed."""
IDLE_SWEEP_SECONDS = 30.0
"""How often it looks when nothing happens (what another instance left, after a crash)."""


def _failure(task: asyncio.Task[Any]) -> BaseException | None:
    """Why a finished task failed (cancelled included), or None."""
    return asyncio.CancelledError() if task.cancelled() else task.exception()


class Sender:
    """One instance's sender."""

    def __init__(
        self,
        *,
        store: MongoDeliveries,
        sessions: MongoRecipients,
        composer: Composer,
        publisher: EventPublisher,
        settings: Settings,
        clock: Clock,
        retry: RetryPolicy,
        lease: timedelta,
        metrics: DeliveryMetrics,
        tracing: Tracing,
        handoff: Handoff,
    ) -> None:
        self.repo = store
        self.metrics = metrics
        self.tracing = tracing
        self.sessions = sessions
        self.publisher = publisher
        self.settings = settings
        self.clock = clock
        self.retry = retry
        self.lease = lease
        self.handoff = handoff
        self.owner = handoff.owner
        self._handed_contents: dict[str, Content] = {}
        self.mailers = [SmtpClient(settings, clock=clock) for _ in range(settings.smtp_connections)]
        self.composer = composer
        self._envelope_from = sender_address(settings.mail_from)
        self._recording: asyncio.Future[None] | None = None
        self._swept_at = -IDLE_SWEEP_SECONDS
        self._owed = False

    async def run(self, wake: asyncio.Event) -> None:
        """Deliver until cancelled; a failing database only pauses the loop."""
        failures = 0
        woken = True
        try:
            while True:
                try:
                    await self.step(woken=woken)
                    failures = 0
                except Exception as error:  # noqa: BLE001 (logged; the loop must survive)
                    failures += 1
                    logger.warning("delivery loop failed (%d): %s", failures, error)
                pause = self.settings.delivery_poll_seconds * min(2**failures, 30)
                try:
                    await asyncio.wait_for(wake.wait(), timeout=pause)
                    woken = True
                    # Let the deliveries of the next few batches arrive: one claim and
                    # one record for several emails instead of one each.
                    await asyncio.sleep(GATHER_SECONDS)
                except TimeoutError:
                    woken = False
                    await self._close()  # idle: say goodbye to the relay
                wake.clear()
        finally:
            with suppress(Exception):
                await self._drain()
            await self._close()
            with suppress(Exception):
                await self.repo.release(self.owner)

    async def step(self, *, woken: bool = True) -> None:
        """Announce what ended, then send chunks as long as deliveries are due.

        Outcomes left to announce and erasures left to scrub are rare: the two queries
        that look for them run at most once a second while events arrive (an erasure is
        an event) or after an announcement failed, and every IDLE_SWEEP_SECONDS when
        the sender is only polling (an idle platform costs close to nothing)."""
        since = time.monotonic() - self._swept_at
        if since >= SWEEP_SECONDS and (woken or self._owed or since >= IDLE_SWEEP_SECONDS):
            with working("sweeps"):
                self._owed = True  # until every owed outcome is published
                await self.announce()
                self._owed = False
                await self.repo.scrub_settled(self.settings.delivery_batch_size)
            self._swept_at = time.monotonic()
        limit = self.settings.delivery_batch_size
        handed, self._handed_contents = self.handoff.take(now=self.clock(), limit=limit)
        claimed = (handed.pop(0), {}) if handed else await self._claim()
        while claimed[0]:
            # Handed over first; then a claim follows the dispatch. A claim short of the
            # limit took everything due: what arrives later wakes the sender (or the
            # next poll finds it), no claim to come back empty.
            upcoming = (
                asyncio.ensure_future(self._claim(following=claimed[0][0].batch))
                if not handed and len(claimed[0]) >= limit
                else None
            )
            try:
                await self.deliver(*claimed, last=upcoming is None and not handed)
            except BaseException:
                if upcoming is not None:
                    upcoming.cancel()
                    await asyncio.gather(upcoming, return_exceptions=True)
                raise
            if handed:
                claimed = (handed.pop(0), {})
            else:
                claimed = await upcoming if upcoming is not None else ([], {})
        await self._drain()

    async def _close(self) -> None:
        await asyncio.gather(*(mailer.close() for mailer in self.mailers))

    async def _claim(self, following: str | None = None) -> tuple[list[Delivery], Receipts]:
        return await self.repo.claim(
            now=self.clock(),
            owner=self.owner,
            lease=self.lease,
            limit=self.settings.delivery_batch_size,
            following=following,
        )

    async def deliver(
        self, batch: list[Delivery], receipts: Receipts | None = None, *, last: bool = False
    ) -> None:
        """Send a claimed chunk, in order, over the sender's SMTP connections.

        Each email is a flight on the next connection in turn (`SMTP_CONNECTIONS`):
        while one message is handed over, the next email is built and its envelope
        accepted on another connection. A message is handed over only once the email
        before it has landed: refused or deferred, or accepted and its receipt
        written. So at most one email is ever accepted and not yet on record, and a
        crash re-sends at most that one.

        The `last` chunk of a step writes no receipt for its last email: its outcome is
        recorded right after, with nothing sent in between, so a crash there re-sends
        that one email, as a crash at any moment may."""
        receipts = receipts or {}
        contents = dict(self._handed_contents)  # handed over with their deliveries
        missing = {d.content_id for d in batch} - contents.keys()
        if missing:
            contents.update(await self.repo.contents(missing))
        sessions = await self.sessions.sessions(d.session_id for d in batch if d.session_id)
        settled: dict[int, tuple[Delivery, dict[str, Any]]] = {}
        flights: list[Flight] = []
        busy: list[asyncio.Task[Outcome] | None] = [None] * len(self.mailers)
        landed: asyncio.Task[None] | None = None  # the email before: landed, on record
        whole = False
        for mailer in self.mailers:
            mailer.new_batch()
        try:
            for index, delivery in enumerate(batch):
                done = receipts.get(delivery.delivery_id)
                if done is not None:  # accepted before a crash: never send it again
                    sent = Sent(done["sent_at"])
                    settled[index] = (delivery, self._fields(delivery, sent, done["subject"]))
                    continue
                content = contents.get(delivery.content_id)
                message, subject = self.composer.compose(
                    delivery, content, sessions.get(delivery.session_id or "")
                )
                if not isinstance(message, bytes):
                    settled[index] = (delivery, self._fields(delivery, message, subject))
                    continue
                assert subject is not None  # a message always has its subject
                lane = len(flights) % len(self.mailers)
                if (previous := busy[lane]) is not None:
                    await asyncio.wait({previous})  # its connection is free again
                    if _failure(previous) is not None:
                        break  # what follows would fail alike: recorded, then raised
                trace = content.traceparent if content else None
                sending = asyncio.ensure_future(
                    self._send(delivery, message, subject, self.mailers[lane], landed, trace)
                )
                write = not (last and delivery is batch[-1])
                landed = asyncio.ensure_future(self._land(sending, delivery, subject, write))
                flights.append(Flight(index, delivery, subject, sending, landed))
                busy[lane] = sending
                await asyncio.sleep(0)  # its envelope on the wire before the next is built
            else:
                whole = True
        finally:
            # Also when stopped: what the relay accepted is recorded before leaving.
            if flights:
                await asyncio.wait([task for f in flights for task in (f.sending, f.landed)])
            failure = None
            for flight in flights:
                if _failure(flight.sending) is None:
                    outcome = flight.sending.result()
                    fields = self._fields(flight.delivery, outcome, flight.subject)
                    settled[flight.index] = (flight.delivery, fields)
                failure = failure or _failure(flight.sending) or _failure(flight.landed)
            outcomes = [settled[index] for index in sorted(settled)]
            await self._record(outcomes, whole=whole and failure is None)
        if failure is not None:
            raise failure

    async def _land(
        self, sending: asyncio.Task[Outcome], delivery: Delivery, subject: str, write: bool
    ) -> None:
        """Once the relay answered: the receipt of an accepted email (`write`)."""
        outcome = await sending
        if write and isinstance(outcome, Sent):
            await self.repo.receipt(delivery, at=outcome.at, subject=subject)

    async def _send(
        self,
        delivery: Delivery,
        message: bytes,
        subject: str,
        mailer: SmtpClient,
        before: Awaitable[None] | None,
        trace: str | None,
    ) -> Outcome:
        """One message over one connection, handed over once `before` has landed."""
        started = time.perf_counter()
        with self.tracing.sending(trace, kind=delivery.kind):
            outcome = await mailer.send(
                message,
                sender=self._envelope_from,
                recipient=delivery.recipient_address,
                before_data=before,
            )
        label = {Sent: "sent", Refused: "refused"}.get(type(outcome), "failed")
        self.metrics.smtp_send.labels(label).observe(time.perf_counter() - started)
        return outcome

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

    async def _record(self, outcomes: Outcomes, *, whole: bool) -> None:
        """Hand outcomes to the background recorder (one chunk in flight at a time)."""
        if not outcomes:
            return
        await self._drain()
        self._recording = asyncio.ensure_future(self._announce_and_record(outcomes, whole=whole))

    async def _drain(self) -> None:
        """Wait for the chunk being recorded (a failure is logged: its deliveries stay
        claimed until the lease ends; their receipts keep them from going twice)."""
        recording, self._recording = self._recording, None
        if recording is None:
            return
        try:
            await recording
        except Exception as error:  # noqa: BLE001 (the loop goes on; the lease recovers)
            logger.warning("could not record %s: %s", "outcomes", error)

    async def _announce_and_record(self, outcomes: Outcomes, *, whole: bool) -> None:
        """Publish the chunk's notification events, then record its outcomes.

        In this order, an outcome recorded is an outcome announced; a crash in between
        re-announces with the same deterministic event ids. The emails sent are recorded
        with one write for the whole claim when every delivery of it was attempted.
        """
        ended_at = self.clock()
        for _, fields in outcomes:
            if fields.get("status") == "sent":
                fields["finished_at"] = ended_at
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
            self._owed = True  # swept again at the next step
        for _, fields in outcomes:
            if "status" in fields:
                fields["announced"] = announced or fields["status"] == "skipped"
                if not fields["announced"]:
                    fields["owed"] = True  # the sweep publishes it later
        sent = [(d, f) for d, f in outcomes if f.get("status") == "sent"]
        others = [(d, {**f, "claim": None}) for d, f in outcomes if f.get("status") != "sent"]
        recorded = await self.repo.finish_many(others, owner=self.owner) if others else 0
        if sent and whole:
            common = {k: v for k, v in sent[0][1].items() if k not in {"attempts", "subject"}}
            for subject in dict.fromkeys(f["subject"] for _, f in sent):
                same = [d for d, f in sent if f["subject"] == subject]
                recorded += await self.repo.finish_claim(
                    same, {**common, "subject": subject}, owner=self.owner
                )
        elif sent:
            recorded += await self.repo.finish_many(sent, owner=self.owner)
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
