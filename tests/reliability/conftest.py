"""Reliability fixtures: the figures of each scenario, written for docs/reliability.md."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.harness.infra import Infra, make_settings
from tests.reliability.stack import Stack

FIGURES = Path(__file__).resolve().parents[2] / "var" / "reliability" / "last-run.json"
_collected: dict[str, dict[str, Any]] = {}


class Figures:
    """What a scenario sent, injected and found; kept for the run's summary."""

    def record(self, scenario: str, **values: Any) -> None:
        """Add (or update) the figures of a scenario."""
        _collected.setdefault(scenario, {}).update(values)


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    """The run's figures; written to var/reliability/last-run.json at the end."""
    yield Figures()
    if _collected:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        run = {"finished_at": datetime.now(UTC).isoformat(), "scenarios": _collected}
        FIGURES.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scenarios run one after the other, on one worker when the suite runs on two
    (`--dist loadgroup`): several of them run in the background of another, and each
    measures what one platform does."""
    for item in items:
        if item.nodeid.startswith("tests/reliability/"):
            item.add_marker(pytest.mark.xdist_group("reliability"))


@pytest.fixture(scope="session", autouse=True)
def hostile_corpus(request: pytest.FixtureRequest) -> None:
    """Start drawing the hostile-input corpus with the first scenario (on the worker that
    runs them), when the hostile-input scenario is among the tests to run."""
    if any("test_hostile_input.py" in item.nodeid for item in request.session.items):
        from tests.reliability.corpus import Background

        Background.start()


@pytest.fixture(scope="session")
async def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The four services on the session's servers, with topics and databases of their own,
    shared by the scenarios that inject no fault (hostile input, erasure): each of them
    uses its own people, sessions and topics."""
    stack = Stack(make_settings(infra), tmp_path_factory.mktemp("platform"))
    await stack.start()
    yield stack
    await stack.stop()
