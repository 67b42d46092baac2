"""The busy year's report and charts, drawn once: matplotlib takes a second for eight."""

from __future__ import annotations

import pytest

from shared.report.charts import Charts, draw
from shared.report.tables import ActivityReport, build
from tests.report.builders import NOW, busy_year


@pytest.fixture(scope="session")
def busy_report() -> ActivityReport:
    """A year with a bit of everything."""
    return build(busy_year(), now=NOW)


@pytest.fixture(scope="session")
def busy_charts(busy_report: ActivityReport) -> Charts:
    """Its charts."""
    return draw(busy_report)
