"""Gateway wiring: every topic it reads and writes, and the web application around it.

Reads: session_scheduled, session_rescheduled, session_cancelled (scheduling);
participant_enrolled, participant_withdrawn (registration); person_erased.
Writes: confirmation_requested (the forms), and the inbound requests of the one-click
links: session_signup_requested, session_signup_cancelled, member_leave_requested,
interest_declared, interest_withdrawn, session_question_submitted, feedback_submitted,
expert_response_submitted.

FastAPI is the outer application (FastStream's ASGI app only routes exact paths); its
lifespan runs the FastStream service's, which is the composition root.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import JSONResponse, Response

from services.gateway import handlers
from services.gateway.handlers import Deps
from services.gateway.repository import MongoUnit, create_indexes
from services.gateway.site import Site
from services.gateway.unit import Unit
from services.gateway.web import NAME, web_app
from shared.clock import Clock
from shared.contract.cycle import (
    ExpertResponseSubmitted,
    FeedbackSubmitted,
    SessionQuestionSubmitted,
)
from shared.contract.interest import (
    ConfirmationRequested,
    InterestDeclared,
    InterestWithdrawn,
    PersonErased,
)
from shared.contract.registration import (
    MemberLeaveRequested,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    SessionSignupCancelled,
    SessionSignupRequested,
)
from shared.contract.scheduling import SessionCancelled, SessionRescheduled, SessionScheduled
from shared.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from shared.mongo import Database, ping
from shared.service import Service, asyncapi_document
from shared.settings import Settings
from shared.storage import Storage

BROKER_START_TIMEOUT = 60.0
POLL = 0.02


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The gateway's web application, with its Kafka service in its lifespan (`clock`
    decides what is past and dates the links)."""
    config = settings or Settings()
    service: Service[Deps, Unit] = Service(
        NAME,
        config,
        description=(
            "The public web face: the upcoming sessions and their sign-up forms, the "
            "interest form (both confirmed by a mailed link), the one-click links of the "
            "emails and the calendar feed. It publishes the same inbound requests as any "
            "Cap Rural system."
        ),
        publishes=[
            ConfirmationRequested,
            SessionSignupRequested,
            SessionSignupCancelled,
            MemberLeaveRequested,
            InterestDeclared,
            InterestWithdrawn,
            SessionQuestionSubmitted,
            FeedbackSubmitted,
            ExpertResponseSubmitted,
        ],
        unit=MongoUnit,
    )

    service.consume(SessionScheduled, handlers.track_session)
    service.consume(SessionRescheduled, handlers.track_session)
    service.consume(SessionCancelled, handlers.close_session)
    service.consume(ParticipantEnrolled, handlers.take_place)
    service.consume(ParticipantWithdrawn, handlers.free_place)
    service.consume(PersonErased, handlers.forget_person)

    async def ready() -> dict[str, bool]:
        kafka = await service.broker.ping(timeout=3.0)
        mongodb = service.mongo is not None and await ping(service.mongo)
        return {"kafka": kafka, "mongodb": mongodb}

    async def setup(svc: Service[Deps, Unit], db: Database) -> Deps:
        await create_indexes(db)
        app.state.site = Site.from_settings(
            svc.settings,
            publisher=svc.publisher,
            open_unit=lambda: MongoUnit(Storage(db)),
            ready=ready,
            clock=clock,
        )
        return Deps()

    service_app = service.create_app(setup)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with service_app.start_lifespan_context():
            await _broker_started(service)
            yield

    app = web_app(lifespan=lifespan)
    app.schema = service_app.schema

    @app.get("/docs/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> Response:
        """This service's AsyncAPI document (JSON)."""
        return JSONResponse(asyncapi_document(service.specification()))

    @app.get("/status", include_in_schema=False)
    async def status() -> Response:
        """What `caprural status` reads (JSON): for the operator's network only."""
        return JSONResponse(await service.status())

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics (text format): for the operator's network only."""
        body = await service.metrics.exposition()
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    return app


async def _broker_started(service: Service[Deps, Unit]) -> None:
    """FastStream reports its lifespan started before the broker runs: wait (bounded),
    so that the first request can publish. Without Kafka, /ready answers 503."""
    for _ in range(int(BROKER_START_TIMEOUT / POLL)):
        if service.broker.running:
            return
        await asyncio.sleep(POLL)
