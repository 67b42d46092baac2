"""Metrics and traces on the embedded stack: a burst of registrations, scraped over HTTP
and parsed with prometheus-client's parser; one trace from `registration_requested` to
the welcome email's SMTP send (spans caught by an in-memory exporter)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from services.notifications.app import create_app as notifications_app
from services.registration.app import create_app as registration_app
from shared import telemetry
from shared.cli.status import Status, gather, render
from shared.contract import topic_name
from shared.devstack import processes
from tests.harness.data import registration
from tests.harness.http import serving
from tests.harness.kafka import cloudevent, eventually, wait_until
from tests.harness.mail import received_by
from tests.harness.services import running
from tests.registration.support import session_data, signup

pytestmark = pytest.mark.integration

BURST = 12
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    """Every sample of a /metrics page, by name and labels."""
    response = await client.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent: a counter never incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def test_a_burst_is_counted_and_one_trace_spans_registration_to_smtp(
    settings, publisher, mail, monkeypatch
):
    exporters: list[InMemorySpanExporter] = []

    def in_memory(endpoint: str) -> InMemorySpanExporter:
        exporters.append(InMemorySpanExporter())
        return exporters[-1]

    monkeypatch.setattr(telemetry, "span_exporter", in_memory)
    traced = settings.model_copy(update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318"})
    addresses = [f"agent{i}@cc-traces.test" for i in range(BURST)]
    events = [cloudevent("registration_requested", registration(a), subject=a) for a in addresses]
    events[0]["traceparent"] = TRACEPARENT  # the caller's trace (CloudEvents extension)
    prefix = settings.kafka_topic_prefix
    requested = topic_name("registration_requested", prefix)

    async with (
        running(registration_app, traced) as registration_service,
        running(notifications_app, traced) as notifications_service,
        serving(registration_service) as registration_url,
        serving(notifications_service) as notifications_url,
        httpx.AsyncClient(timeout=10) as client,
    ):
        await publisher.raw_many(
            [("registration_requested", json.dumps(e).encode()) for e in events]
        )
        await publisher.raw("registration_requested", b"{not json")
        await wait_until(
            lambda: all(received_by(mail, a) for a in addresses),
            timeout=60,
            message="a welcome email to every registrant",
        )

        async def all_sent_recorded() -> Samples | None:
            samples = await scrape(client, notifications_url)
            sent = value(samples, "caprural_deliveries", status="sent") == BURST
            return samples if sent else None

        notified = await eventually(
            all_sent_recorded, timeout=30, message="every delivery recorded sent"
        )
        registered = await scrape(client, registration_url)

    # Registration: every event counted on its topic, the poison one dead-lettered.
    consumed = "caprural_events_consumed_total"
    assert value(registered, consumed, topic=requested, outcome="handled") == BURST
    assert value(registered, consumed, topic=requested, outcome="dead_lettered") == 1
    assert value(registered, "caprural_dead_letters_total", topic=requested, reason="poison") == 1
    published = "caprural_events_published_total"
    assert value(registered, published, event_type="member_registered") == BURST
    handled = "caprural_handler_duration_seconds_count"
    assert value(registered, handled, event_type="registration_requested") >= BURST
    # FastStream's own middleware saw the batches (labelled by their first topic).
    assert total(registered, "faststream_received_messages_total") == BURST + 1
    # Notifications: the deliveries' gauges read at scrape, the relay's answers timed.
    samples = notified
    assert value(samples, "caprural_deliveries", status="pending") == 0
    assert value(samples, "caprural_delivery_oldest_pending_age_seconds") == 0
    assert value(samples, "caprural_smtp_send_duration_seconds_count", outcome="sent") == BURST
    assert value(samples, published, event_type="notification_sent") == BURST

    # Traces (exported when the services stopped).
    spans: list[ReadableSpan] = [s for e in exporters for s in e.get_finished_spans()]

    def handling(name: str, **attributes: Any) -> list[ReadableSpan]:
        return [
            s
            for s in spans
            if s.name == name
            and all((s.attributes or {}).get(k) == v for k, v in attributes.items())
        ]

    first = handling("registration_requested process", **{"messaging.message.id": events[0]["id"]})
    second = handling("registration_requested process", **{"messaging.message.id": events[1]["id"]})
    assert len(first) == 1
    assert len(second) == 1
    trace_id = int(TRACE_ID, 16)
    assert first[0].context is not None
    assert first[0].context.trace_id == trace_id
    assert first[0].parent is not None
    assert first[0].parent.span_id == int("00f067aa0ba902b7", 16)
    in_trace = [s for s in spans if s.context is not None and s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    assert {"registration_requested process", "member_registered process", "smtp send"} <= names
    sends = [s for s in in_trace if s.name == "smtp send"]
    assert len(sends) == 1
    assert (sends[0].attributes or {}).get("caprural.email.kind") == "welcome"
    # Each cause has its own trace, whatever batch it travelled in.
    assert second[0].context is not None
    assert second[0].context.trace_id != trace_id
    assert len([s for s in spans if s.name == "smtp send"]) == BURST


async def test_status_shows_services_lag_dead_letters_and_places(settings, publisher):
    one_place = settings.model_copy(update={"session_capacity": 1})
    session_id = f"s-status-{uuid.uuid4().hex[:8]}"
    starts_at = datetime.now(UTC) + timedelta(days=9)
    nowhere = f"http://127.0.0.1:{processes.free_port()}"
    async with (
        running(registration_app, one_place) as registration_service,
        serving(registration_service) as registration_url,
    ):
        urls = {"registration": registration_url, "notifications": nowhere}
        await publisher.event(
            "session_scheduled", session_data(session_id, starts_at=starts_at), subject=session_id
        )

        async def scheduled() -> bool:  # sign-ups for an unknown session are refused
            status = await gather(settings, urls)
            return bool(status.services[0].status.get("upcoming_sessions"))

        await eventually(scheduled, timeout=30, message="the session known to registration")
        for person in ("ana", "bea", "cyd"):
            await publisher.event(
                "session_signup_requested", signup(session_id, f"{person}@cc-status.test")
            )
        await publisher.raw("session_signup_requested", b"[1, 2")

        async def settled() -> Status | None:
            status = await gather(settings, urls)
            sessions = status.services[0].status.get("upcoming_sessions", [])
            places = [(s["enrolled"], s["waitlisted"]) for s in sessions]
            return status if places == [(1, 2)] and list(status.lag.values()) == [0] else None

        status = await eventually(settled, timeout=30, message="three sign-ups counted, no lag")

    registration, notifications = status.services
    assert registration.ready
    assert registration.status["consumer_group"] == settings.consumer_group("registration")
    assert not notifications.ready
    assert "no answer" in notifications.problem
    assert not status.healthy
    signups = topic_name("session_signup_requested", settings.kafka_topic_prefix)
    assert status.dead_letters == {f"{signups}.dlq": 1}
    screen = render(status)
    assert "registration   ready" in screen
    assert f"{signups}.dlq" in screen
    assert "enrolled 1/1, 0 place(s) left, waitlist 2" in screen
    assert "unknown (notifications did not answer)" in screen
    assert "@" not in screen  # counts, never addresses
