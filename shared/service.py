"""What every service shares: its broker and router, publishers, database, health, run."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.consumer import BatchConsumer, Handler, Route
from shared.contract import CloudEvent, topic_name
from shared.deadletters import DeadLetters
from shared.inbox import Inbox
from shared.kafka import SUBSCRIBER_OPTIONS, EventPublisher, create_broker, ensure_topics
from shared.logs import configure_logging
from shared.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from shared.metrics import Metrics
from shared.middleware import dead_letter_middleware
from shared.mongo import Database, Document, create_client, ping, service_database, working
from shared.settings import Settings
from shared.storage import Storage
from shared.telemetry import Tracing
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

API_VERSION = "1.0.0"

DepsT = TypeVar("DepsT")
UnitT = TypeVar("UnitT", bound=UnitOfWork)
EventT = TypeVar("EventT", bound=CloudEvent[Any])
DEFAULT_BATCH = 200
BATCH_WAIT_MS = 20
Setup = Callable[["Service[DepsT, UnitT]", AsyncDatabase[Document]], Awaitable[DepsT]]
View = Callable[[Storage, dict[str, str]], Awaitable[dict[str, Any]]]
"""A read-only JSON view of a service's data (counts, never names or addresses)."""


class Service(Generic[DepsT, UnitT]):
    """One service's wiring; its app module declares what it reads and writes.

    `unit` opens the service's unit of work on a storage bound to a transaction.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        description: str,
        publishes: Sequence[type[CloudEvent[Any]]],
        unit: Callable[[Storage], UnitT],
    ) -> None:
        self.name = name
        self.settings = settings
        self.description = description
        self.open_unit = unit
        self.metrics = Metrics(service=name)
        self.tracing = Tracing(settings, service=name)
        self.broker: KafkaBroker = create_broker(
            settings,
            client_id=name,
            middlewares=[
                m for m in (self.tracing.middleware(), self.metrics.middleware) if m is not None
            ],
        )
        self.letters = DeadLetters(self.broker, service=name, counter=self.metrics.dead_letters)
        self.router = KafkaRouter(
            prefix=settings.kafka_topic_prefix,
            middlewares=[dead_letter_middleware(service=name, letters=lambda: self.letters)],
        )
        self.publisher = EventPublisher(
            self.router, publishes, service=name, published=self.metrics.published
        )
        # The contract as other systems read it: one channel per topic, never started.
        self._documented = create_broker(settings, client_id=name)
        self._documentation = KafkaRouter(prefix=settings.kafka_topic_prefix)
        EventPublisher(self._documentation, publishes, service=name)
        self.consumes: list[str] = []
        self._routes: dict[str, Route[UnitT, DepsT]] = {}
        self.mongo: AsyncMongoClient[Document] | None = None
        self._inbox: Inbox[UnitT] | None = None
        self._deps: DepsT | None = None
        self._background: list[tuple[Callable[[DepsT], Awaitable[None]], str]] = []
        self._after_batch: list[Callable[[DepsT], None]] = []
        self._exposed: list[tuple[str, str, View]] = []
        self._status: list[View] = []
        self.database: Database | None = None

    @property
    def deps(self) -> DepsT:
        """The dependencies built by the service's setup (available once started)."""
        if self._deps is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._deps

    @property
    def inbox(self) -> Inbox[UnitT]:
        """The service's processed-event records (available once started)."""
        if self._inbox is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._inbox

    def consume(self, event: type[EventT], handler: Handler[EventT, UnitT, DepsT]) -> None:
        """Handle an event type's topic with `handler(event, uow, deps)`, in batches.

        The handler's docstring describes the subscription in the AsyncAPI document.
        """
        topic = topic_name(event.event_type, self.settings.kafka_topic_prefix)
        self._routes[topic] = Route(event, handler)
        self.consumes.append(event.event_type)

        async def on_event(events: Any, msg: Any) -> None:
            """Documentation only: the service's one consumer handles every topic."""

        # FastStream documents a subscriber's payload from its annotations: the event's
        # model (the consumer reads the records itself, both CloudEvents content modes).
        on_event.__annotations__ = {"events": list[event], "msg": KafkaMessage, "return": None}  # type: ignore[valid-type]
        on_event.__name__ = f"on_{event.event_type}"
        on_event.__doc__ = _summary(handler.__doc__)
        self._documentation.subscriber(
            event.event_type, title=f"{event.event_type}:{self.name}", batch=True
        )(on_event)

    def _subscribe(self, *, max_records: int = DEFAULT_BATCH) -> None:
        """The service's one consumer, over every topic it handles."""
        consumer: BatchConsumer[UnitT, DepsT] = BatchConsumer(
            routes=self._routes,
            deps=lambda: self.deps,
            inbox=lambda: self.inbox,
            publisher=self.publisher,
            letters=lambda: self.letters,
            after_batch=self._run_after_batch,
            metrics=self.metrics,
            tracing=self.tracing,
            service=self.name,
        )

        async def on_batch(events: list[Any], msg: KafkaMessage) -> None:
            await consumer.consume(msg)

        self.router.subscriber(
            *self.consumes,
            group_id=self.settings.consumer_group(self.name),
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(100, self.settings.kafka_session_timeout_ms // 4),
            batch=True,
            max_records=max_records,
            batch_timeout_ms=BATCH_WAIT_MS,
            decoder=_nothing_to_decode,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            include_in_schema=False,
            **SUBSCRIBER_OPTIONS,
        )(on_batch)

    def background(self, task: Callable[[DepsT], Awaitable[None]], *, work: str) -> None:
        """Run `task(deps)` for the life of the service (e.g. the reminder timer); its
        database commands are counted as `work` (shared.mongo.WORKS)."""
        self._background.append((task, work))

    def expose(self, path: str, view: View, *, description: str) -> None:
        """Serve `view(storage, query)` as read-only JSON on the service's HTTP port (what
        operators and the activity report read: each service stays the only reader of
        its database). `query` holds the URL's parameters; a ValueError is a 400."""
        self._exposed.append((path, description, view))

    def add_status(self, view: View) -> None:
        """Add `view(storage, {})` to what /status answers (what `caprural status` shows
        of this service besides its consumer group and topics)."""
        self._status.append(view)

    async def status(self) -> dict[str, Any]:
        """This service's /status: its consumer group, its topics, and its own figures."""
        body: dict[str, Any] = {
            "service": self.name,
            "consumer_group": self.settings.consumer_group(self.name),
            "topics": [topic_name(t, self.settings.kafka_topic_prefix) for t in self.consumes],
        }
        if self.database is not None:
            with working("queries"):
                for view in self._status:
                    body.update(await view(Storage(self.database), {}))
        return body

    def after_batch(self, hook: Callable[[DepsT], None]) -> None:
        """Call `hook(deps)` once each batch is committed and published (e.g. wake the
        sender up)."""
        self._after_batch.append(hook)

    async def _run_after_batch(self) -> None:
        for hook in self._after_batch:
            hook(self.deps)

    def create_app(self, setup: Setup[DepsT, UnitT]) -> AsgiFastStream:
        """The FastStream application: the lifespan is this service's composition root."""
        if self.consumes:
            self._subscribe()
        self.broker.include_router(self.router)
        self._documented.include_router(self._documentation)

        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            await ensure_topics(self.settings, self.consumes + self.publisher.event_types)
            self.mongo = create_client(
                self.settings, app_name=self.name, counter=self.metrics.commands
            )
            try:
                db = service_database(self.mongo, self.settings, self.name)
                self.database = db
                self._inbox = Inbox(self.mongo, db, self.open_unit)
                with working("startup"):
                    await self._inbox.create_indexes()
                    self._deps = await setup(self, db)
                deps = self._deps
                tasks: list[asyncio.Future[None]] = []
                for run, work in self._background:
                    with working(work):  # the task's context keeps the label
                        tasks.append(asyncio.ensure_future(run(deps)))
                try:
                    yield
                finally:
                    for running in tasks:
                        running.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
            finally:
                await self.mongo.close()
                self.tracing.shutdown()

        return AsgiFastStream(
            self.broker,
            lifespan=lifespan,
            asgi_routes=[
                ("/health", self._liveness()),
                ("/ready", self._readiness()),
                ("/docs/asyncapi.json", self._asyncapi()),
                ("/metrics", self._metrics()),
                ("/status", self._status_route()),
                *[
                    (path, self._view(view, description))
                    for path, description, view in self._exposed
                ],
            ],
            specification=self.specification(),
            logger=logging.getLogger(f"caprural.{self.name}"),
        )

    def specification(self) -> AsyncAPI:
        """The AsyncAPI description of this service."""
        return AsyncAPI(
            self._documented,
            title=f"Cap Rural PAT platform: {self.name} service",
            version=API_VERSION,
            description=self.description,
            schema_version="3.0.0",
        )

    def _view(self, view: View, description: str) -> Any:
        @get(description=description, include_in_schema=False)
        async def serve(scope: Scope) -> AsgiResponse:
            if self.database is None:
                return JSONResponse({"error": "not started"}, status_code=503)
            raw = scope.get("query_string", b"").decode()
            query = {name: values[-1] for name, values in parse_qs(raw).items()}
            try:
                with working("queries"):
                    body = await view(Storage(self.database), query)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            return JSONResponse(body)

        return serve

    def _status_route(self) -> Any:
        @get(description="What `caprural status` reads (JSON).", include_in_schema=False)
        async def status(scope: Scope) -> AsgiResponse:
            return JSONResponse(await self.status())

        return status

    def _metrics(self) -> Any:
        @get(description="Prometheus metrics (text format).", include_in_schema=False)
        async def metrics(scope: Scope) -> AsgiResponse:
            body = await self.metrics.exposition()
            return AsgiResponse(body, 200, headers={"content-type": METRICS_CONTENT_TYPE})

        return metrics

    def _asyncapi(self) -> Any:
        @get(description="This service's AsyncAPI document (JSON).", include_in_schema=False)
        async def asyncapi(scope: Scope) -> AsgiResponse:
            return JSONResponse(asyncapi_document(self.specification()))

        return asyncapi

    def _liveness(self) -> Any:
        @get(description="Liveness: the process answers.")
        async def health(scope: Scope) -> AsgiResponse:
            return JSONResponse({"status": "ok", "service": self.name})

        return health

    def _readiness(self) -> Any:
        @get(description="Readiness: Kafka and MongoDB answer.")
        async def ready(scope: Scope) -> AsgiResponse:
            kafka_ok = await self.broker.ping(timeout=3.0)
            mongo_ok = self.mongo is not None and await ping(self.mongo)
            body = {"service": self.name, "kafka": kafka_ok, "mongodb": mongo_ok}
            return JSONResponse(body, status_code=200 if kafka_ok and mongo_ok else 503)

        return ready


def asyncapi_document(specification: AsyncAPI) -> dict[str, Any]:
    """The AsyncAPI document, each message described as it travels: one CloudEvent.

    FastStream documents a batch subscriber's payload as an array of events; on the
    wire every Kafka message is a single event, which is what other systems need. The
    messages a service reads are accepted in both CloudEvents content modes (their
    headers say how); the ones it publishes are structured.
    """
    document: dict[str, Any] = specification.to_specification().to_jsonable()
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    for name, schema in list(schemas.items()):
        if name.endswith(":Message:Payload") and schema.get("type") == "array":
            schemas[name] = {**schema["items"], "title": schema.get("title", name)}
    for name, message in components.get("messages", {}).items():
        if name.endswith(":SubscribeMessage"):
            message.update(description=READ_MODES, headers=BOTH_MODES_HEADERS)
        else:
            message.update(description=WRITE_MODE, headers=STRUCTURED_HEADERS)
    return document


READ_MODES = (
    "Accepted in both content modes of the CloudEvents Kafka binding. Structured: the "
    "value is the whole event (this payload), `content-type: application/cloudevents+json`"
    " (or no `ce_` header at all). Binary: the value is the event's `data` only, its "
    "attributes are `ce_` headers and `content-type` is the `datacontenttype`. The same "
    "`id` in either mode is the same event. `time` and `datacontenttype` are optional; "
    "unknown `data` fields are ignored."
)
WRITE_MODE = "Published in structured mode: the value is the whole event (this payload)."
_ATTRIBUTE = {"type": "string"}
BOTH_MODES_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content-type": {
            **_ATTRIBUTE,
            "description": "application/cloudevents+json (structured), or the data's media "
            "type, application/json (binary)",
        },
        "ce_specversion": {**_ATTRIBUTE, "const": "1.0", "description": "binary mode"},
        "ce_id": {**_ATTRIBUTE, "description": "binary mode: the idempotency key"},
        "ce_type": {**_ATTRIBUTE, "description": "binary mode: the event type (the topic)"},
        "ce_source": {**_ATTRIBUTE, "description": "binary mode: the producing system"},
        "ce_time": {**_ATTRIBUTE, "description": "binary mode, optional: RFC 3339"},
        "ce_subject": {**_ATTRIBUTE, "description": "binary mode, optional: the aggregate id"},
    },
    "additionalProperties": {
        **_ATTRIBUTE,
        "description": "ce_<name>: an extension attribute (e.g. ce_traceparent)",
    },
}
STRUCTURED_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {"content-type": {"const": "application/cloudevents+json; charset=UTF-8"}},
}


def run(app: AsgiFastStream, settings: Settings, *, service: str) -> None:
    """Serve the app (health on HEALTH_PORT); SIGTERM and SIGINT stop it gracefully."""
    configure_logging(service=service, level=settings.log_level, fmt=settings.log_format)
    options: dict[str, Any] = {
        "host": settings.health_host,
        "port": settings.health_port_for(service),
        "log_config": None,
        "access_log": "false",
        "timeout_graceful_shutdown": 30,
    }
    asyncio.run(
        app.run(log_level=logging.getLevelName(settings.log_level), run_extra_options=options)
    )


async def _nothing_to_decode(msg: Any, original: Any = None) -> list[Any]:
    """FastStream's decoding step, skipped: `BatchConsumer` reads the records itself."""
    return []


def _summary(doc: str | None) -> str | None:
    """A handler docstring's first paragraph on one line (the AsyncAPI description)."""
    if not doc:
        return None
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
