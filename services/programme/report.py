"""The programme service's figures for the activity report (`GET /report?year=Y`).

The year's programme as last published: its ranking (each topic's title and points) and
the turnout of the vote: the ballots it counted, against the members active now in the
service's projection (a published version does not record who could vote). Counted
ballots are anonymous; no voter, proposer or contributor is read here.
"""

from __future__ import annotations

from typing import Any

from shared.report.figures import Programme, ProgrammeFigures, Ranked
from shared.report.views import year_of
from shared.storage import Storage


async def activity(storage: Storage, query: dict[str, str]) -> dict[str, Any]:
    """The year's latest programme (ranking and turnout), or none if none was published."""
    year = year_of(query)
    latest = await storage.collection("programmes").find_one(
        {"year": year},
        {"version": 1, "ranking": 1, "ballots": {"$size": "$ballots"}},
        sort=[("version", -1)],
    )
    if latest is None:
        return ProgrammeFigures(year=year, programme=None).model_dump(mode="json")
    ranking = sorted(latest["ranking"], key=lambda ranked: int(ranked["rank"]))
    cursor = storage.collection("topics").find(
        {"_id": {"$in": [ranked["topic_id"] for ranked in ranking]}}, {"title": 1}
    )
    titles = {doc["_id"]: doc["title"] async for doc in cursor}
    programme = Programme(
        version=int(latest["version"]),
        ballots=int(latest["ballots"]),
        active_members=await storage.collection("members").count_documents({"status": "active"}),
        ranking=[
            Ranked(
                rank=int(ranked["rank"]),
                title=titles.get(ranked["topic_id"]),
                score=int(ranked["score"]),
            )
            for ranked in ranking
        ],
    )
    return ProgrammeFigures(year=year, programme=programme).model_dump(mode="json")
