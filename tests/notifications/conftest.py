"""Notifications tests: the sender polls often, and retries quickly after an SMTP outage;
handler tests run on both units of work."""

from __future__ import annotations

import pytest

from services.notifications.repository import MongoUnit, create_indexes
from shared.settings import Settings
from tests.fakes.notifications import MemoryUnit
from tests.harness.infra import Infra, make_settings
from tests.harness.units import backend_fixture


@pytest.fixture
def settings(infra: Infra) -> Settings:
    """This test's own topics and databases; the sender polls every 0.2 s."""
    return make_settings(infra, delivery_poll_seconds=0.2, smtp_timeout_seconds=5)


backend = backend_fixture(MemoryUnit, MongoUnit, create_indexes)
