"""What `caprural status` shows of registration: the upcoming sessions, their places
taken and their waitlist (counts only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.clock import Clock
from shared.storage import Storage

UPCOMING = 20


async def upcoming_sessions(
    storage: Storage, *, now: datetime, capacity: int, limit: int = UPCOMING
) -> dict[str, Any]:
    """The next `limit` sessions not cancelled, with enrolled and waitlisted counts
    (two queries: the sessions, then one aggregation of their places)."""
    cursor = storage.collection("sessions").find(
        {"starts_at": {"$gte": now}, "cancelled": {"$ne": True}},
        sort=[("starts_at", 1)],
        limit=limit,
    )
    sessions = [doc async for doc in cursor]
    counts: dict[tuple[str, str], int] = {}
    if sessions:
        rows = await storage.collection("participants").aggregate(
            [
                {"$match": {"session_id": {"$in": [doc["_id"] for doc in sessions]}}},
                {"$group": {"_id": {"s": "$session_id", "st": "$status"}, "n": {"$sum": 1}}},
            ]
        )
        counts = {(row["_id"]["s"], row["_id"]["st"]): int(row["n"]) async for row in rows}
    return {
        "upcoming_sessions": [
            {
                "session_id": doc["_id"],
                "starts_at": doc["starts_at"].isoformat(),
                "capacity": capacity,
                "enrolled": counts.get((doc["_id"], "enrolled"), 0),
                "waitlisted": counts.get((doc["_id"], "waitlisted"), 0),
            }
            for doc in sessions
        ]
    }


def status_view(clock: Clock, capacity: int) -> Any:
    """The view the service adds to its /status."""

    async def view(storage: Storage, query: dict[str, str]) -> dict[str, Any]:
        return await upcoming_sessions(storage, now=clock(), capacity=capacity)

    return view
