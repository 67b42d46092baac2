"""Scheduling tests: the handlers and the timer on both storages; the running service
polls its reminder timer often, so that moving the clock shows at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from services.scheduling.handlers import Deps
from services.scheduling.repository import (
    MongoDueReminders,
    MongoSessions,
    MongoUnit,
    create_indexes,
)
from services.scheduling.timer import ReminderTimer
from services.scheduling.unit import DueReminders, SessionReader
from shared.contract import CloudEvent, event_model
from shared.kafka import Emission
from shared.settings import Settings
from shared.storage import Storage
from tests.fakes.scheduling import MemoryDueReminders, MemoryUnit
from tests.harness.infra import Infra, make_settings
from tests.harness.units import Backend, MongoBackend, backend_fixture
from tests.scheduling.builders import WEBCONFERENCE, FakeClock, paris


@pytest.fixture
def settings(infra: Infra) -> Settings:
    """This test's own topics and databases; the reminder timer polls every 0.1 s."""
    return make_settings(infra, reminder_poll_seconds=0.1)


backend = backend_fixture(MemoryUnit, MongoUnit, create_indexes)


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
    """The handlers' dependencies as the composition root builds them, the timer's store
    on the backend's storage (outside transactions)."""
    reminders, sessions = await timer_stores(backend)
    timer = ReminderTimer(
        reminders=reminders,
        sessions=sessions,
        publisher=sent,
        clock=clock,
        owner="scheduling-test",
        poll_seconds=0.1,
    )
    return Deps(clock=clock, webconference_base_url=WEBCONFERENCE, timer=timer)


async def timer_stores(backend: Backend) -> tuple[DueReminders, SessionReader]:
    """The reminder timer's store and session reader, on the backend's storage."""
    if isinstance(backend, MongoBackend):
        outside_transactions = Storage(backend.db)
        return MongoDueReminders(outside_transactions), MongoSessions(outside_transactions)
    async with backend.unit() as unit:
        return MemoryDueReminders(unit.reminders), unit.sessions
