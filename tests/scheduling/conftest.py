"""Scheduling tests poll the reminder timer often, so that moving the clock shows at once."""

from __future__ import annotations

import pytest

from shared.settings import Settings
from tests.harness.infra import Infra, make_settings


@pytest.fixture
def settings(infra: Infra) -> Settings:
    """This test's own topics and databases; the reminder timer polls every 0.1 s."""
    return make_settings(infra, reminder_poll_seconds=0.1)
