"""Registration handler tests run on both units of work: in memory, and MongoDB's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.registration.repository import MongoUnit, create_indexes
from tests.fakes.registration import MemoryUnit
from tests.harness.units import Backend, MemoryBackend, mongo_backend


@pytest.fixture(params=["memory", "mongodb"])
async def backend(request) -> AsyncIterator[Backend]:
    """Where the handlers keep their state; the MongoDB run holds the fake to the real."""
    if request.param == "memory":
        yield MemoryBackend(MemoryUnit())
        return
    async with mongo_backend(request, MongoUnit, create_indexes) as backend:
        yield backend
