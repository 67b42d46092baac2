"""Notifications tests: the sender polls often, and retries quickly after an SMTP outage."""

from __future__ import annotations

import pytest

from shared.settings import Settings
from tests.harness.infra import Infra, make_settings


@pytest.fixture
def settings(infra: Infra) -> Settings:
    """This test's own topics and databases; the sender polls every 0.2 s."""
    return make_settings(infra, delivery_poll_seconds=0.2, smtp_timeout_seconds=5)


@pytest.fixture(params=["memory", "mongodb"])
async def backend(request):
    """Where the handlers keep their state; the MongoDB run holds the fake to the real."""
    from services.notifications.repository import MongoUnit, create_indexes
    from tests.fakes.notifications import MemoryUnit
    from tests.harness.units import MemoryBackend, mongo_backend

    if request.param == "memory":
        yield MemoryBackend(MemoryUnit())
        return
    async with mongo_backend(request, MongoUnit, create_indexes) as backend:
        yield backend
