"""Programme handler tests run on both units of work: in memory, and MongoDB's."""

from __future__ import annotations

from services.programme.repository import MongoUnit, create_indexes
from tests.fakes.programme import MemoryUnit
from tests.harness.units import backend_fixture

backend = backend_fixture(MemoryUnit, MongoUnit, create_indexes)
