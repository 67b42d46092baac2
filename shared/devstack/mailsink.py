"""An SMTP server (aiosmtpd) that keeps every message it receives as an .eml file.

Recipients can be refused on purpose, to exercise permanent failures: any address
whose local part starts with `refuse` gets a 550.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

REFUSED_PREFIX = "refuse"


@dataclass(frozen=True)
class Received:
    """One message as the server received it."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    received_at: float = field(default_factory=time.time)

    @property
    def message(self) -> EmailMessage:
        """The parsed message."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class MailStore:
    """aiosmtpd handler: keeps messages in memory and, if asked, as .eml files."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.delay = 0.0
        """Seconds before each answer to MAIL, RCPT and a message: a relay far away
        (the benchmark's slow relay)."""
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        if folder:
            folder.mkdir(parents=True, exist_ok=True)

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if address.split("@")[0].lower().startswith(REFUSED_PREFIX):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        data = envelope.original_content or b""
        received = Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), data)
        with self._lock:
            self.messages.append(received)
        if self.folder:
            (self.folder / f"{uuid.uuid4()}.eml").write_bytes(data)
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[Received]:
        """A copy of what was received so far."""
        with self._lock:
            return list(self.messages)


def start_controller(store: MailStore, *, host: str, port: int) -> Controller:
    """Run the SMTP server in a thread (aiosmtpd's Controller)."""
    controller = Controller(
        store, hostname=host, port=port, decode_data=False, data_size_limit=10_000_000
    )
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    """`python -m shared.devstack.mailsink --port 1025 --folder var/mail`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, default=Path("var/mail"))
    args = parser.parse_args(argv)
    controller = start_controller(MailStore(args.folder), host=args.host, port=args.port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
