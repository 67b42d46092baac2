"""Scheduling tests: the handlers and the timer on both storages; the running service
polls its session timer often, so that moving the clock shows at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from services.scheduling.handlers import Deps
from services.scheduling.repository import (
    MongoDigestsToSend,
    MongoDueTimers,
    MongoSessions,
    MongoSilentExperts,
    MongoUnit,
    create_indexes,
)
from services.scheduling.timer import SessionTimer
from services.scheduling.unit import DigestsToSend, DueTimers, SessionReader, SilentExperts
from shared.contract import CloudEvent, event_model
from shared.kafka import Emission
from shared.settings import Settings
from shared.storage import Storage
from tests.fakes.scheduling import (
    MemoryDigestsToSend,
    MemoryDueTimers,
    MemorySilentExperts,
    MemoryUnit,
)
from tests.harness.infra import Infra, make_settings
from tests.harness.units import Backend, MongoBackend, backend_fixture
from tests.scheduling.builders import WEBCONFERENCE, FakeClock, paris


@pytest.fixture
def settings(infra: Infra) -> Settings:
    """This test's own topics and databases; the session timer polls every 0.1 s."""
    return make_settings(infra, reminder_poll_seconds=0.1)


backend = backend_fixture(MemoryUnit, MongoUnit, create_indexes)


DIGEST_AHEAD = timedelta(hours=72)
"""QUESTION_DIGEST_HOURS in the handler tests (the default)."""


class Sent:
    """The timer's publisher in the handler tests: keeps what it publishes, or fails."""

    def __init__(self) -> None:
        self.events: list[CloudEvent[Any]] = []
        self.down = False

    async def publish(self, emissions: Sequence[Emission]) -> None:
        if self.down:
            raise ConnectionError("Kafka is unreachable")
        self.events += [event_model(e.event_type).model_validate_json(e.body) for e in emissions]


@pytest.fixture
def clock() -> FakeClock:
    """The business time: Monday 6 January 2020, 9:00 in Paris, until a test moves it."""
    return FakeClock(paris(2020, 1, 6, 9))


@pytest.fixture
def sent() -> Sent:
    """What the timer published."""
    return Sent()


@pytest.fixture
async def deps(backend: Backend, clock: FakeClock, sent: Sent) -> Deps:
    """The handlers' dependencies as the composition root builds them, the timer's stores
    on the backend's storage (outside transactions)."""
    return Deps(
        clock=clock,
        webconference_base_url=WEBCONFERENCE,
        digest_ahead=DIGEST_AHEAD,
        timer=await session_timer(backend, clock, sent, owner="scheduling-test"),
    )


async def session_timer(
    backend: Backend, clock: FakeClock, sent: Sent, *, owner: str
) -> SessionTimer:
    """A session timer on the backend's storage: another instance, or the one that runs
    after a restart, when its `owner` differs."""
    entries, sessions, digests, experts = await timer_stores(backend)
    return SessionTimer(
        entries=entries,
        sessions=sessions,
        digests=digests,
        experts=experts,
        publisher=sent,
        clock=clock,
        owner=owner,
        poll_seconds=0.1,
    )


async def timer_stores(
    backend: Backend,
) -> tuple[DueTimers, SessionReader, DigestsToSend, SilentExperts]:
    """The session timer's stores and session reader, on the backend's storage."""
    if isinstance(backend, MongoBackend):
        outside_transactions = Storage(backend.db)
        return (
            MongoDueTimers(outside_transactions),
            MongoSessions(outside_transactions),
            MongoDigestsToSend(outside_transactions),
            MongoSilentExperts(outside_transactions),
        )
    async with backend.unit() as unit:
        return (
            MemoryDueTimers(unit.timers),
            unit.sessions,
            MemoryDigestsToSend(unit.digests, unit.questions),
            MemorySilentExperts(unit.invitations),
        )
