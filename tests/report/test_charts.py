"""The charts: matplotlib's SVG, inlined, one per figure with data, nothing drawn empty."""

from __future__ import annotations

import re

from shared.report.charts import draw
from shared.report.tables import build
from tests.report.builders import NOW, sources
from tests.report.reading import svg_root

SVG = "{http://www.w3.org/2000/svg}"


def test_each_chart_is_a_well_formed_svg_image_named_by_its_summary(busy_charts):
    charts = busy_charts.all()

    assert [c.key for c in charts] == [
        "members",
        "attendance",
        "ratings",
        "territories",
        "approaches",
        "ranking",
        "contributions",
        "emails",
    ]
    for chart in charts:
        root = svg_root(chart.svg)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        assert root.get("aria-label") == chart.summary
        assert root.get("viewBox"), "sized by the page, its proportions kept"
        assert root.get("width") is None
        assert not chart.svg.startswith("<?xml")


def test_the_charts_of_one_page_share_no_id(busy_charts):
    charts = busy_charts.all()

    ids = [i for c in charts for i in re.findall(r'\bid="([^"]+)"', c.svg)]
    references = {r for c in charts for r in re.findall(r"url\(#([^)]+)\)", c.svg)}

    assert len(ids) == len(set(ids))
    assert references <= set(ids)


def test_a_chart_says_what_it_shows_in_its_summary(busy_charts):
    charts = busy_charts

    assert charts.members is not None
    assert "4 arrivées et 1 départ" in charts.members.summary
    assert charts.ratings is not None
    assert "moyenne de l'année : 4,0" in charts.ratings.summary
    assert charts.attendance is not None
    assert "3 séances de 2025 : 5 présences" in charts.attendance.summary


def test_a_year_without_data_draws_no_chart():
    assert draw(build(sources(), now=NOW)).all() == []


def test_text_with_markup_or_dollars_stays_text_in_the_svg(busy_charts):
    territories = busy_charts.territories
    assert territories is not None

    labels = ["".join(t.itertext()) for t in svg_root(territories.svg).iter(f"{SVG}text")]

    assert "Vercors <Sud> & $Trièves$" in labels


def test_cancelled_sessions_are_not_drawn(busy_charts):
    attendance = busy_charts.attendance
    assert attendance is not None

    labels = {"".join(t.itertext()) for t in svg_root(attendance.svg).iter(f"{SVG}text")}

    assert {"18 mars", "20 mai", "15 juillet"} <= labels
    assert "16 septembre" not in labels


def test_many_territories_draw_the_most_represented_and_say_so():
    many = [{"territory": f"Territoire {n:02d}", "members": 40 - n} for n in range(30)]
    figures = sources(registration={"territories": many, "members_during_year": 435})

    territories = draw(build(figures, now=NOW)).territories
    assert territories is not None

    labels = {"".join(t.itertext()) for t in svg_root(territories.svg).iter(f"{SVG}text")}
    assert {"Territoire 00", "Territoire 24"} <= labels
    assert "Territoire 25" not in labels
    assert "30 territoires représentés" in territories.summary
    assert "les 25 premiers ; le tableau les donne tous" in territories.summary
