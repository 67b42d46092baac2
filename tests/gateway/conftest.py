"""Gateway handler tests run on both units of work; page tests on an in-memory site."""

from __future__ import annotations

import pytest

from services.gateway.repository import MongoUnit, create_indexes
from tests.fakes.gateway import MemoryUnit
from tests.gateway.support import World
from tests.harness.units import backend_fixture

backend = backend_fixture(MemoryUnit, MongoUnit, create_indexes)


@pytest.fixture
def world() -> World:
    """The pages on an in-memory unit of work, with a recording publisher."""
    return World()
