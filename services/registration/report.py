"""The registration service's figures for the activity report (`GET /report?year=Y`).

Counts only: members month by month, the territories and approaches they represent, and
each session's places, attendance and ratings; never a name, an address or a key.

What is stored decides what is counted. A member who rejoins counts as joining at their
latest registration; an erased member's registration is gone, their departure stays (in
the month of their erasure); a person erased loses their places, while their attendance
and rating stay as figures.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.mongo import Document
from shared.report.figures import Approach, Month, Places, RegistrationFigures, Territory
from shared.report.views import bounds, by_month, counted, monthly, rows, within, year_of
from shared.storage import Storage


async def activity(storage: Storage, query: dict[str, str]) -> dict[str, Any]:
    """The year's members (by month, territory and approach) and sessions, as counts."""
    year = year_of(query)
    [facets], erased, sessions = await asyncio.gather(
        rows(storage.collection("members"), _members(year)),
        rows(storage.collection("erased_members"), monthly("erased_at", within("erased_at", year))),
        _sessions(storage, year),
    )
    joined, left = by_month(facets["joined"]), by_month(facets["left"])
    gone = [a + b for a, b in zip(left, by_month(erased), strict=True)]
    figures = RegistrationFigures(
        year=year,
        months=[
            Month(month=month, joined=joined[month - 1], left=gone[month - 1])
            for month in range(1, 13)
        ],
        members_during_year=_count(facets["during_year"]),
        members_at_end_of_year=_count(facets["at_end"]),
        territories=[Territory(territory=t, members=n) for t, n in _largest(facets["territories"])],
        approaches=[Approach(approach=a, members=n) for a, n in _largest(facets["approaches"])],
        sessions=sessions,
    )
    return figures.model_dump(mode="json")


def _members(year: int) -> list[Document]:
    """One `$facet` over the members: joined and left by month, who was a member during
    the year (registered before its end, not gone before its start), and at its end."""
    start, end = bounds(year)
    registered = {"registered_at": {"$lt": end}}
    during = {**registered, "$or": [{"status": "active"}, {"left_at": {"$gte": start}}]}
    at_end = {**registered, "$or": [{"status": "active"}, {"left_at": {"$gte": end}}]}
    facets = {
        "joined": monthly("registered_at", within("registered_at", year)),
        "left": monthly("left_at", {"status": "left", **within("left_at", year)}),
        "territories": counted(during, "territory"),
        "approaches": counted(during, "approach"),
        "during_year": [{"$match": during}, {"$count": "n"}],
        "at_end": [{"$match": at_end}, {"$count": "n"}],
    }
    return [{"$facet": facets}]


async def _sessions(storage: Storage, year: int) -> list[Places]:
    """Places, attendance and ratings of the sessions starting in the year (the service's
    projection of the scheduling service's sessions), by session id."""
    cursor = storage.collection("sessions").find(within("starts_at", year), {"_id": 1})
    ids = sorted([doc["_id"] async for doc in cursor])
    if not ids:
        return []
    of_year = {"$match": {"session_id": {"$in": ids}}}
    by_status = {"session": "$session_id", "status": "$status"}
    rated = {"_id": "$session_id", "n": {"$sum": 1}, "sum": {"$sum": "$rating"}}
    places, attended, ratings = await asyncio.gather(
        rows(
            storage.collection("participants"),
            [of_year, {"$group": {"_id": by_status, "n": {"$sum": 1}}}],
        ),
        rows(
            storage.collection("attendances"),
            [of_year, {"$group": {"_id": "$session_id", "n": {"$sum": 1}}}],
        ),
        rows(storage.collection("ratings"), [of_year, {"$group": rated}]),
    )
    held = {(row["_id"]["session"], row["_id"]["status"]): int(row["n"]) for row in places}
    present = {row["_id"]: int(row["n"]) for row in attended}
    given = {row["_id"]: (int(row["n"]), int(row["sum"])) for row in ratings}
    figures = []
    for session_id in ids:
        count, total = given.get(session_id, (0, 0))
        figures.append(
            Places(
                session_id=session_id,
                enrolled=held.get((session_id, "enrolled"), 0),
                waitlisted=held.get((session_id, "waitlisted"), 0),
                attended=present.get(session_id, 0),
                ratings=count,
                average_rating=round(total / count, 2) if count else None,
            )
        )
    return figures


def _largest(counted_rows: list[Document]) -> list[tuple[str, int]]:
    """(value, count) pairs, largest count first, then by value."""
    pairs = ((str(row["_id"]), int(row["n"])) for row in counted_rows)
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _count(counted_rows: list[Document]) -> int:
    return int(counted_rows[0]["n"]) if counted_rows else 0
