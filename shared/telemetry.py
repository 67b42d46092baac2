"""Traces: OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

FastStream's telemetry middleware traces the Kafka side (each batch consumed, each
record published). A batch mixes events of unrelated causes, so the thread that joins
one cause to its effects across services travels in the events themselves, as the
CloudEvents distributed-tracing extension (`traceparent`): each event is handled in its
own span, child of the event's `traceparent` when it has one; the events it emits carry
that span's context; notifications keep it with the email's content, and the SMTP send
is its child. One trace spans `registration_requested` to the welcome email's send.

With tracing off every function here is a no-op: no span, no `traceparent` added.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.contract import CloudEvent
from shared.settings import Settings

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
_NOOP: trace.Tracer = trace.NoOpTracer()


def span_exporter(endpoint: str) -> SpanExporter:
    """Where spans go: OTLP over HTTP to the collector at `endpoint` (its /v1/traces);
    headers, timeouts and TLS come from the standard OTEL_EXPORTER_OTLP_* variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")


class Tracing:
    """One service's tracer (a no-op when tracing is off)."""

    def __init__(self, settings: Settings, *, service: str) -> None:
        self.provider: TracerProvider | None = None
        self.tracer: trace.Tracer = _NOOP
        if endpoint := settings.otel_exporter_otlp_endpoint:
            self.provider = TracerProvider(
                resource=Resource.create({"service.name": f"caprural-{service}"})
            )
            self.provider.add_span_processor(BatchSpanProcessor(span_exporter(endpoint)))
            self.tracer = self.provider.get_tracer("caprural")

    @property
    def enabled(self) -> bool:
        """True when spans are recorded and exported."""
        return self.provider is not None

    def middleware(self) -> KafkaTelemetryMiddleware | None:
        """FastStream's middleware for the broker (batches consumed, records published)."""
        if self.provider is None:
            return None
        return KafkaTelemetryMiddleware(tracer_provider=self.provider)

    @contextmanager
    def handling(self, event: CloudEvent[Any], *, service: str) -> Iterator[None]:
        """The span of one event's handling, child of the event's `traceparent`."""
        if self.provider is None:
            yield
            return
        parent = traceparent_of(event)
        context = _PROPAGATOR.extract({TRACEPARENT: parent}) if parent else None
        with self.tracer.start_as_current_span(
            f"{event.type} process",
            context=context,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": event.type,
                "messaging.message.id": event.id,
                "caprural.service": service,
            },
        ):
            yield

    @contextmanager
    def sending(self, parent: str | None, *, kind: str) -> Iterator[None]:
        """The span of one SMTP send, child of the email content's trace context."""
        if self.provider is None:
            yield
            return
        context = _PROPAGATOR.extract({TRACEPARENT: parent}) if parent else None
        with self.tracer.start_as_current_span(
            "smtp send",
            context=context,
            kind=trace.SpanKind.CLIENT,
            attributes={"caprural.email.kind": kind},
        ):
            yield

    def shutdown(self) -> None:
        """Export what is left (the service stops)."""
        if self.provider is not None:
            self.provider.shutdown()


def traceparent_of(event: CloudEvent[Any]) -> str | None:
    """The event's distributed-tracing extension, when it carries one."""
    value = (event.model_extra or {}).get(TRACEPARENT)
    return value if isinstance(value, str) else None


def current_traceparent() -> str | None:
    """The current span's context as a `traceparent` (None outside a recorded span)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def stamped(events: Sequence[CloudEvent[Any]] | None) -> Sequence[CloudEvent[Any]] | None:
    """The events with the current span's context as their `traceparent` (unchanged
    when tracing is off or they carry one already)."""
    parent = current_traceparent()
    if not events or parent is None:
        return events
    return [
        event if traceparent_of(event) else event.model_copy(update={TRACEPARENT: parent})
        for event in events
    ]
