"""The notifications service's figures for the activity report (`GET /report?year=Y`).

The emails of the year by kind: how many the SMTP relay accepted (`sent`) and how many
were given up (`failed`), in the year their outcome was recorded (Paris time). Emails
still pending, skipped (an erased or departed recipient) or cancelled are not counted.
No recipient is read: one `$group` by kind and status.
"""

from __future__ import annotations

from typing import Any

from shared.report.figures import Emails, NotificationsFigures
from shared.report.views import rows, within, year_of
from shared.storage import Storage


async def activity(storage: Storage, query: dict[str, str]) -> dict[str, Any]:
    """The year's emails sent and failed, by kind."""
    year = year_of(query)
    outcomes = await rows(
        storage.collection("deliveries"),
        [
            {"$match": {"status": {"$in": ["sent", "failed"]}, **within("finished_at", year)}},
            {"$group": {"_id": {"kind": "$kind", "status": "$status"}, "n": {"$sum": 1}}},
        ],
    )
    counts = {(row["_id"]["kind"], row["_id"]["status"]): int(row["n"]) for row in outcomes}
    kinds = sorted({kind for kind, _ in counts})
    emails = [
        Emails(
            kind=kind, sent=counts.get((kind, "sent"), 0), failed=counts.get((kind, "failed"), 0)
        )
        for kind in kinds
    ]
    return NotificationsFigures(year=year, emails=emails).model_dump(mode="json")
