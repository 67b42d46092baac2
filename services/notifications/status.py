"""What `caprural status` shows of notifications: deliveries by status and the age of
the oldest pending one."""

from __future__ import annotations

from typing import Any

from services.notifications.deliveries import MongoDeliveries
from shared.clock import Clock
from shared.storage import Storage


def status_view(clock: Clock) -> Any:
    """The view the service adds to its /status."""

    async def view(storage: Storage, query: dict[str, str]) -> dict[str, Any]:
        census = await MongoDeliveries(storage).census()
        oldest = census.oldest_pending
        return {
            "deliveries": {
                "by_status": census.counts,
                "oldest_pending_age_seconds": (
                    round((clock() - oldest).total_seconds()) if oldest else None
                ),
            }
        }

    return view
