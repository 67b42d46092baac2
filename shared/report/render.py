"""The report's files: one self-contained HTML page and one CSV per table.

The page opens offline: its style is inline, its charts are inline SVG, it links to
nothing. Every text comes from the report (autoescaped); only the charts' SVG, made
here by matplotlib, is inserted as markup.

The CSV files are what a French spreadsheet opens as is: UTF-8 with a byte order mark
(`utf-8-sig`), `;` between fields, a decimal comma, dates as `2025-03-18`.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from shared.calendar import PARIS
from shared.french import long_date, moment
from shared.report.charts import Charts, draw
from shared.report.tables import ActivityReport, Cell, Table, tables

TEMPLATES = Path(__file__).parent / "templates"
PAGE = "report.html.j2"
CSV_ENCODING = "utf-8-sig"
CSV_DELIMITER = ";"


def html_cell(cell: Cell) -> str:
    """A cell as a French reader reads it: '18 mars 2025', '4,5', '—' for nothing."""
    if cell is None:
        return "—"
    if isinstance(cell, float):
        return _decimal(cell)
    if isinstance(cell, date):
        return _french_day(cell)
    return str(cell)


def csv_cell(cell: Cell) -> str:
    """A cell as a spreadsheet reads it: ISO dates, decimal comma, empty for nothing."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return _decimal(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def render_html(report: ActivityReport, charts: Charts) -> str:
    """The report's page."""
    template = _environment().get_template(PAGE)
    return template.render(
        report=report,
        tables={table.name: table for table in tables(report)},
        charts={chart.key: chart for chart in charts.all()},
        svg=lambda chart: Markup(chart.svg),  # noqa: S704 (matplotlib's SVG, made here)
        generated=moment(report.generated_at),
    )


def write_csv(table: Table, path: Path) -> None:
    """One table as a CSV file (headers first)."""
    with path.open("w", encoding=CSV_ENCODING, newline="") as file:
        writer = csv.writer(file, delimiter=CSV_DELIMITER)
        writer.writerow(table.columns)
        writer.writerows([csv_cell(cell) for cell in row] for row in table.rows)


def write_report(report: ActivityReport, folder: Path) -> list[Path]:
    """The page and the CSV files in `folder` (created if needed); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"rapport-activite-{report.year}.html"
    page.write_text(render_html(report, draw(report)), encoding="utf-8")
    written = [page]
    for table in tables(report):
        path = folder / f"{table.name}-{report.year}.csv"
        write_csv(table, path)
        written.append(path)
    return written


def _decimal(number: float) -> str:
    """'4,5', '3,0', '4,33': a decimal comma, one or two decimals."""
    text = f"{number:.2f}"
    return (text[:-1] if text.endswith("0") else text).replace(".", ",")


def _french_day(day: date) -> str:
    """'1er mars 2025', '18 mars 2025'."""
    return long_date(datetime(day.year, day.month, day.day, 12, tzinfo=PARIS)).split(" ", 1)[1]


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["cell"] = html_cell
    return environment
