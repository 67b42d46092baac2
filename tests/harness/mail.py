"""Reading what the SMTP sink received, with deadlines."""

from __future__ import annotations

from shared.devstack.mailsink import Received
from tests.harness.infra import MailServer
from tests.harness.kafka import wait_until


def received_by(mail: MailServer, address: str) -> list[Received]:
    """Messages delivered to `address` (case-insensitive)."""
    wanted = address.lower()
    return [m for m in mail.store.snapshot() if wanted in (r.lower() for r in m.recipients)]


async def wait_for_mail(
    mail: MailServer, address: str, *, count: int = 1, timeout: float = 30.0
) -> list[Received]:
    """Wait until `address` received `count` messages."""
    await wait_until(
        lambda: len(received_by(mail, address)) >= count,
        timeout=timeout,
        message=lambda: f"{count} email(s) to {address}; got {len(received_by(mail, address))}",
    )
    return received_by(mail, address)
