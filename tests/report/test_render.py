"""The report's files: a French page that opens offline, and CSV files a spreadsheet opens."""

from __future__ import annotations

from datetime import date

import pytest

from shared.report.charts import draw
from shared.report.render import csv_cell, html_cell, render_html, write_report
from shared.report.tables import build, tables
from tests.report.builders import NOW, busy_year, sources
from tests.report.reading import parse, read_csv


@pytest.fixture(scope="module")
def busy_page(busy_report, busy_charts):
    return parse(render_html(busy_report, busy_charts))


def test_the_page_is_french_and_every_chart_is_an_inline_svg_in_its_figure(busy_page, busy_charts):
    [html] = busy_page.all("html")
    assert html.attrs["lang"] == "fr"
    svgs = busy_page.all("svg")
    assert len(svgs) == len(busy_charts.all()) == 8
    assert all(svg.parents[-1] == "figure" for svg in svgs)
    assert {svg.attrs["aria-label"] for svg in svgs} == {c.summary for c in busy_charts.all()}
    assert len(busy_page.all("figcaption")) == 8


def test_every_table_has_a_caption_and_its_headers(busy_page, busy_report):
    shown = busy_page.all("table")
    assert len(shown) == len(tables(busy_report))
    assert len(busy_page.all("caption")) == len(shown)
    headers = busy_page.all("th")
    assert all(th.attrs.get("scope") in {"col", "row"} for th in headers)
    assert "Les séances de 2025" in busy_page.words
    assert "18 mars 2025 Gouvernance" in busy_page.words


def test_the_page_opens_offline_it_links_to_nothing_outside(busy_page):
    assert not busy_page.all("script")
    assert not busy_page.all("link")
    assert not busy_page.all("img")
    for element in busy_page.elements:
        assert "src" not in element.attrs
        href = element.attrs.get("href") or element.attrs.get("xlink:href") or "#"
        assert href.startswith("#"), element
        assert "url(http" not in (element.attrs.get("style") or "")


def test_the_key_figures_come_first_in_french(busy_page):
    words = busy_page.words
    assert "Rapport d'activité 2025" in words
    assert "4 membres au cours de l'année, 3 à sa fin" in words
    assert "3 séances (1 annulée)" in words
    assert "5 présences en séance, note moyenne 4,0 sur 5" in words
    assert "66,7 % de participation au vote du programme" in words


def test_text_from_the_services_is_escaped(busy_report, busy_charts):
    html = render_html(busy_report, busy_charts)

    assert "Vercors &lt;Sud&gt; &amp; $Trièves$" in html
    assert "<Sud>" not in html


def test_a_year_without_data_says_so_in_french_and_shows_no_chart_nor_table(tmp_path):
    empty = build(sources(), now=NOW)

    [page, *files] = write_report(empty, tmp_path)
    shown = parse(page.read_text(encoding="utf-8"))

    assert "Aucune activité n'est enregistrée pour l'année 2025" in shown.words
    assert not shown.all("svg")
    assert not shown.all("table")
    months, *others = [read_csv(f) for f in files]
    assert months[0] == ["Mois", "Arrivées", "Départs"]
    assert {tuple(row[1:]) for row in months[1:]} == {("0", "0")}
    assert [len(rows) for rows in others] == [1] * len(others)  # their headers only


def test_one_csv_per_table_as_a_french_spreadsheet_reads_it(tmp_path, busy_report):
    written = write_report(busy_report, tmp_path)

    assert [p.name for p in written] == [
        "rapport-activite-2025.html",
        "membres-par-mois-2025.csv",
        "territoires-2025.csv",
        "demarches-2025.csv",
        "seances-2025.csv",
        "programme-2025.csv",
        "participation-vote-2025.csv",
        "emails-2025.csv",
    ]
    sessions = read_csv(tmp_path / "seances-2025.csv")
    assert sessions[0][:4] == ["Date", "Titre", "Question", "Statut"]
    assert sessions[1] == [
        "2025-03-18",
        "Gouvernance",
        "Question de la séance « Gouvernance » ?",
        "tenue",
        "2",
        "1",
        "2",
        "4,5",
        "2",
        "2",
        "1",
        "2",
        "oui",
    ]
    assert sessions[3][7] == ""  # no rating
    assert read_csv(tmp_path / "participation-vote-2025.csv")[1] == ["2", "2", "3", "66,7"]
    assert read_csv(tmp_path / "territoires-2025.csv")[3] == ["Vercors <Sud> & $Trièves$", "1"]


@pytest.mark.parametrize(
    ("cell", "shown", "spreadsheet"),
    [
        (None, "—", ""),
        (3, "3", "3"),
        (4.5, "4,5", "4,5"),
        (3.0, "3,0", "3,0"),
        (4.33, "4,33", "4,33"),
        (date(2025, 3, 1), "1er mars 2025", "2025-03-01"),
        ("Pays Voironnais", "Pays Voironnais", "Pays Voironnais"),
    ],
)
def test_cells_are_written_for_a_french_reader_and_for_a_spreadsheet(cell, shown, spreadsheet):
    assert html_cell(cell) == shown
    assert csv_cell(cell) == spreadsheet


def test_the_page_is_the_same_for_the_same_figures(busy_report, busy_charts):
    again = build(busy_year(), now=NOW)

    assert render_html(again, draw(again)) == render_html(busy_report, busy_charts)
