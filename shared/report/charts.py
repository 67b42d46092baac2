"""The report's charts: matplotlib figures written as SVG, inlined in the page.

Matplotlib's object API (`Figure`, no pyplot): no global state, no display, the SVG
backend only. Text stays text in the SVG (`svg.fonttype: none`): smaller, searchable,
in the page's fonts. Each chart comes with a sentence saying what it shows (its text
alternative); its table follows it in the page. A chart without data is not drawn.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from shared.french import MONTHS, paris
from shared.report.tables import ActivityReport, SessionRow

GREEN = "#4a7c2c"
LIGHT_GREEN = "#a9c98f"
AMBER = "#e0a000"
RED = "#a12622"
GREY = "#6b6b6b"
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "text.parse_math": False,  # a `$` in a title is a dollar, not mathematics
    "svg.hashsalt": "caprural-report",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
    "font.size": 10,
    "axes.edgecolor": GREY,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "figure.dpi": 100,
}
WIDTH = 7.0
LABEL_CHARS = 48
MOST_TERRITORIES = 25
"""The territories drawn, most represented first (the table gives them all)."""
SHORT_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)

Series = tuple[str, Sequence[float], str]
"""A series of bars: its legend, its values, its colour."""


@dataclass(frozen=True)
class Chart:
    """One chart: an `id`-safe key, its title, the sentence it illustrates, its SVG."""

    key: str
    title: str
    summary: str
    svg: str


@dataclass(frozen=True)
class Charts:
    """The report's charts; None where there is nothing to draw."""

    members: Chart | None
    attendance: Chart | None
    ratings: Chart | None
    territories: Chart | None
    approaches: Chart | None
    ranking: Chart | None
    contributions: Chart | None
    emails: Chart | None

    def all(self) -> list[Chart]:
        """Those drawn."""
        drawn = (
            self.members,
            self.attendance,
            self.ratings,
            self.territories,
            self.approaches,
            self.ranking,
            self.contributions,
            self.emails,
        )
        return [chart for chart in drawn if chart is not None]


def draw(report: ActivityReport) -> Charts:
    """Every chart of the report."""
    return Charts(
        members=members(report),
        attendance=attendance(report),
        ratings=ratings(report),
        territories=territories(report),
        approaches=approaches(report),
        ranking=ranking(report),
        contributions=contributions(report),
        emails=emails(report),
    )


def members(report: ActivityReport) -> Chart | None:
    """Joined and left, month by month."""
    joined = [m.joined for m in report.months]
    left = [m.left for m in report.months]
    if not any(joined) and not any(left):
        return None
    months = [SHORT_MONTHS[m.month - 1] for m in report.months]
    svg = _bars("members", months, [("Arrivées", joined, GREEN), ("Départs", left, AMBER)])
    summary = (
        f"Arrivées et départs de membres par mois en {report.year} : "
        f"{_count(sum(joined), 'arrivée')} et {_count(sum(left), 'départ')}."
    )
    return _chart("members", "Membres : arrivées et départs par mois", summary, svg)


def attendance(report: ActivityReport) -> Chart | None:
    """Places, waitlist and attendance per session."""
    sessions = report.held
    if not sessions:
        return None
    svg = _bars(
        "attendance",
        [_day(s) for s in sessions],
        [
            ("Inscrits", [s.enrolled for s in sessions], LIGHT_GREEN),
            ("Liste d'attente", [s.waitlisted for s in sessions], AMBER),
            ("Présents", [s.attended for s in sessions], GREEN),
        ],
    )
    present = sum(s.attended for s in sessions)
    summary = (
        f"Inscrits, liste d'attente et présents pour chacune des "
        f"{_count(len(sessions), 'séance')} de {report.year} : "
        f"{_count(present, 'présence')} en tout."
    )
    return _chart("attendance", "Participation par séance", summary, svg)


def ratings(report: ActivityReport) -> Chart | None:
    """The mean rating of each rated session."""
    rated = [s for s in report.held if s.average_rating is not None]
    if not rated:
        return None
    svg = _bars(
        "ratings",
        [_day(s) for s in rated],
        [("Note moyenne", [s.average_rating or 0.0 for s in rated], GREEN)],
        limit=5,
        legend=False,
        notes=[f"{s.ratings} note{'s' if s.ratings > 1 else ''}" for s in rated],
    )
    summary = (
        f"Note moyenne (sur 5) des {_count(len(rated), 'séance')} notées en {report.year} ; "
        f"moyenne de l'année : {_decimal(report.average_rating)}."
    )
    return _chart("ratings", "Note moyenne par séance (sur 5)", summary, svg)


def territories(report: ActivityReport) -> Chart | None:
    """Members by territory."""
    if not report.territories:
        return None
    shown = list(report.territories[:MOST_TERRITORIES])
    svg = _bars(
        "territories",
        [t.territory for t in shown],
        [("Membres", [t.members for t in shown], GREEN)],
        horizontal=True,
        legend=False,
    )
    count = len(report.territories)
    summary = (
        f"{_count(count, 'territoire')} représenté{'s' if count > 1 else ''} par les membres "
        f"de {report.year}, du plus au moins représenté"
        + (
            f" (les {len(shown)} premiers ; le tableau les donne tous)."
            if count > len(shown)
            else "."
        )
    )
    return _chart("territories", "Territoires représentés", summary, svg)


def approaches(report: ActivityReport) -> Chart | None:
    """Members by approach (PAT, SAT)."""
    if not report.approaches:
        return None
    shown = list(report.approaches)
    svg = _bars(
        "approaches",
        [a.approach for a in shown],
        [("Membres", [a.members for a in shown], GREEN)],
        legend=False,
    )
    counts = ", ".join(f"{a.approach} : {a.members}" for a in shown)
    summary = f"Membres de {report.year} par démarche conduite ({counts})."
    return _chart("approaches", "Démarches conduites", summary, svg)


def ranking(report: ActivityReport) -> Chart | None:
    """The programme's topics by points."""
    if report.programme is None or not report.programme.ranking:
        return None
    topics = report.programme.ranking
    svg = _bars(
        "ranking",
        [f"{r.rank}. {r.title or '(sujet retiré)'}" for r in topics],
        [("Points", [r.score for r in topics], GREEN)],
        horizontal=True,
        legend=False,
    )
    summary = (
        f"Points de chacun des {_count(len(topics), 'sujet')} du programme {report.year}, "
        f"du premier au dernier (décompte de Borda modifié, "
        f"{_count(report.programme.ballots, 'bulletin')})."
    )
    return _chart("ranking", "Classement des sujets du programme", summary, svg)


def contributions(report: ActivityReport) -> Chart | None:
    """Questions received and experts per session."""
    sessions = report.held
    if not any(s.questions or s.experts_invited for s in sessions):
        return None
    svg = _bars(
        "contributions",
        [_day(s) for s in sessions],
        [
            ("Questions reçues", [s.questions for s in sessions], GREEN),
            ("Experts invités", [s.experts_invited for s in sessions], LIGHT_GREEN),
            ("Experts confirmés", [s.experts_confirmed for s in sessions], AMBER),
        ],
    )
    summary = (
        f"Questions reçues avant chaque séance et experts mobilisés en {report.year} : "
        f"{_count(sum(s.questions for s in sessions), 'question')} ; experts confirmés : "
        f"{sum(s.experts_confirmed for s in sessions)} sur "
        f"{sum(s.experts_invited for s in sessions)} invités."
    )
    return _chart("contributions", "Questions et experts par séance", summary, svg)


def emails(report: ActivityReport) -> Chart | None:
    """Emails sent and failed, by kind."""
    if not report.emails:
        return None
    shown = list(report.emails)
    svg = _bars(
        "emails",
        [e.kind for e in shown],
        [("Envoyés", [e.sent for e in shown], GREEN), ("En échec", [e.failed for e in shown], RED)],
        horizontal=True,
        stacked=True,
    )
    summary = (
        f"Emails envoyés et en échec par type en {report.year} : "
        f"{sum(e.sent for e in shown)} envoyés, {sum(e.failed for e in shown)} en échec."
    )
    return _chart("emails", "Emails par type", summary, svg)


# --- drawing -------------------------------------------------------------------------


def _chart(key: str, title: str, summary: str, svg: str) -> Chart:
    """The chart, its SVG an image named by its summary (for screen readers)."""
    named = f'<svg role="img" aria-label="{html.escape(summary, quote=True)}" '
    return Chart(key, title, summary, named + svg.removeprefix("<svg "))


def _bars(
    key: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    horizontal: bool = False,
    stacked: bool = False,
    legend: bool = True,
    limit: float | None = None,
    notes: Sequence[str] | None = None,
) -> str:
    """Bars by category: side by side, or stacked; vertical, or horizontal (long labels)."""
    labels = [_label(text) for text in categories]
    count = len(labels)
    with matplotlib.rc_context(STYLE):
        height = max(2.2, 0.32 * count * (1 if stacked else len(series)) + 1.0)
        figure = Figure(figsize=(WIDTH, height if horizontal else 3.2), layout="constrained")
        axes = figure.subplots()
        width = 0.8 if stacked else 0.8 / len(series)
        base = [0.0] * count
        for index, (name, values, colour) in enumerate(series):
            offset = 0.0 if stacked else (index - (len(series) - 1) / 2) * width
            places = [position + offset for position in range(count)]
            if horizontal:
                drawn = axes.barh(places, values, width, left=base, label=name, color=colour)
            else:
                drawn = axes.bar(places, values, width, bottom=base, label=name, color=colour)
            if notes is not None:
                axes.bar_label(drawn, labels=[_label(n) for n in notes], fontsize=8, color=GREY)
            if stacked:
                base = [b + float(v) for b, v in zip(base, values, strict=True)]
        _axes(axes, labels, horizontal=horizontal, limit=limit)
        if legend:
            axes.legend(frameon=False, fontsize=9)
        return _svg(figure, key)


def _axes(axes: Axes, labels: list[str], *, horizontal: bool, limit: float | None) -> None:
    positions = list(range(len(labels)))
    values = axes.xaxis if horizontal else axes.yaxis
    values.set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()  # the first category on top
        if limit is not None:
            axes.set_xlim(0, limit)
    else:
        axes.set_xticks(positions, labels)
        if limit is not None:
            axes.set_ylim(0, limit)
        if sum(len(label) for label in labels) > 60:
            for tick in axes.get_xticklabels():
                tick.set_rotation(45)
                tick.set_horizontalalignment("right")


def _svg(figure: Figure, key: str) -> str:
    """The figure as an `<svg>` element to inline: no XML prologue, its ids prefixed by
    `key` (several charts share a page), sized by the page (its viewBox kept)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="', f'id="{key}-', svg)
    svg = re.sub(r"url\(#", f"url(#{key}-", svg)
    svg = re.sub(r'href="#', f'href="#{key}-', svg)
    return re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r"<svg \1", svg, count=1)


def _label(text: str) -> str:
    """A label cut short (the table next to the chart has it whole)."""
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _day(session: SessionRow) -> str:
    """'18 mars' (the session's table row gives its title)."""
    local = paris(session.starts_at)
    return f"{local.day} {MONTHS[local.month - 1]}"


def _count(number: int, noun: str) -> str:
    """'1 séance', '3 séances', '0 séance' (French: the plural from 2)."""
    return f"{number} {noun}{'s' if number > 1 else ''}"


def _decimal(number: float | None) -> str:
    return "—" if number is None else f"{number:.1f}".replace(".", ",")
