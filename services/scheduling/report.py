"""The scheduling service's figures for the activity report (`GET /report?year=Y`).

Each session of the year (its title, question and slot), held or cancelled, with the
questions it received, its experts counted (invited, confirmed) and whether its compte
rendu was shared; never an expert's or an asker's name, address or pseudonym.

Questions are read from the session's counter (`digests.asked`), which an erasure leaves
as it is: a question whose asker was erased still counts. An erased expert's invitation
is gone, and no longer counts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.report.figures import SchedulingFigures, Session
from shared.report.views import rows, year_of
from shared.storage import Storage


async def activity(storage: Storage, query: dict[str, str]) -> dict[str, Any]:
    """The year's sessions, with their questions, experts and compte rendu counted."""
    year = year_of(query)
    fields = {"title": 1, "question": 1, "starts_at": 1, "ends_at": 1, "status": 1}
    cursor = storage.collection("sessions").find({"year": year}, fields)
    sessions = [doc async for doc in cursor.sort([("starts_at", 1), ("_id", 1)])]
    ids = [doc["_id"] for doc in sessions]
    by_status = {"session": "$session_id", "status": "$status"}
    digests, experts, reports = await asyncio.gather(
        rows(
            storage.collection("digests"),
            [{"$match": {"_id": {"$in": ids}}}, {"$project": {"asked": 1}}],
        ),
        rows(
            storage.collection("experts"),
            [
                {"$match": {"session_id": {"$in": ids}}},
                {"$group": {"_id": by_status, "n": {"$sum": 1}}},
            ],
        ),
        rows(
            storage.collection("reports"),
            [{"$match": {"_id": {"$in": ids}}}, {"$project": {"_id": 1}}],
        ),
    )
    asked = {row["_id"]: int(row.get("asked", 0)) for row in digests}
    invited: dict[str, int] = {}
    confirmed: dict[str, int] = {}
    for row in experts:
        session_id, count = row["_id"]["session"], int(row["n"])
        invited[session_id] = invited.get(session_id, 0) + count
        if row["_id"]["status"] == "accepted":
            confirmed[session_id] = count
    shared = {row["_id"] for row in reports}
    figures = SchedulingFigures(
        year=year,
        sessions=[
            Session(
                session_id=doc["_id"],
                title=doc["title"],
                question=doc["question"],
                starts_at=doc["starts_at"],
                ends_at=doc["ends_at"],
                status=doc["status"],
                questions=asked.get(doc["_id"], 0),
                experts_invited=invited.get(doc["_id"], 0),
                experts_confirmed=confirmed.get(doc["_id"], 0),
                report_shared=doc["_id"] in shared,
            )
            for doc in sessions
        ],
    )
    return figures.model_dump(mode="json")
