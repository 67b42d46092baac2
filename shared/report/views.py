"""What the services' report views share: the year asked for, its months, and the rows
of a counting pipeline.

A year is the Europe/Paris calendar year: a member joining at 00:30 on 1 January, Paris
time, joined that year, whatever the UTC date says. The views answer with counts only:
their pipelines end in `$group` or `$count`, and only the counts are copied out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.calendar import PARIS
from shared.mongo import Document
from shared.storage import Collection

FIRST_YEAR = 2000
LAST_YEAR = 2100
TIMEZONE = PARIS.key
"""The time zone months are counted in (the name MongoDB's date operators take)."""


def year_of(query: Mapping[str, str]) -> int:
    """The `year` parameter of a report view's URL; a ValueError (a 400) otherwise."""
    text = query.get("year", "").strip()
    if not (text.isascii() and text.isdigit()) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise ValueError(f"year: expected a year from {FIRST_YEAR} to {LAST_YEAR}")
    return int(text)


def bounds(year: int) -> tuple[datetime, datetime]:
    """From the first instant of the year to the first of the next, Paris time."""
    return datetime(year, 1, 1, tzinfo=PARIS), datetime(year + 1, 1, 1, tzinfo=PARIS)


def within(field: str, year: int) -> Document:
    """The documents whose `field` falls in the year."""
    start, end = bounds(year)
    return {field: {"$gte": start, "$lt": end}}


def monthly(field: str, match: Mapping[str, Any]) -> list[Document]:
    """Pipeline stages counting the documents of `match` by the Paris month of `field`
    (rows `{"_id": month, "n": count}`, for `by_month`)."""
    month = {"$month": {"date": f"${field}", "timezone": TIMEZONE}}
    return [{"$match": dict(match)}, {"$group": {"_id": month, "n": {"$sum": 1}}}]


def by_month(rows: Iterable[Mapping[str, Any]]) -> list[int]:
    """Twelve counts, January first, from the rows of `monthly`."""
    counts = [0] * 12
    for row in rows:
        counts[int(row["_id"]) - 1] += int(row["n"])
    return counts


def counted(match: Mapping[str, Any], field: str) -> list[Document]:
    """Pipeline stages counting the documents of `match` by the value of `field`."""
    return [{"$match": dict(match)}, {"$group": {"_id": f"${field}", "n": {"$sum": 1}}}]


async def rows(collection: Collection, pipeline: list[Document]) -> list[Document]:
    """Every row of an aggregation."""
    return [row async for row in await collection.aggregate(pipeline)]
