"""`python -m tests.reliability.runner`: the notifications service exactly as
`python -m services.notifications` runs it, except for the delivery lease.

The lease (how long a claimed delivery stays reserved to the instance that claimed it)
is a `create_app` parameter, two minutes by default: after a SIGKILL, the deliveries the
dead instance had claimed wait that long. The crash scenarios read a shorter lease from
RELIABILITY_DELIVERY_LEASE_SECONDS so that they fit in the suite's time.
"""

from __future__ import annotations

import os
from datetime import timedelta

from services.notifications.app import create_app
from shared.service import run
from shared.settings import Settings

LEASE_VARIABLE = "RELIABILITY_DELIVERY_LEASE_SECONDS"


def main() -> None:
    """Run the notifications service with the lease from the environment."""
    settings = Settings()
    lease = timedelta(seconds=float(os.environ[LEASE_VARIABLE]))
    run(create_app(settings, lease=lease), settings, service="notifications")


if __name__ == "__main__":
    main()
