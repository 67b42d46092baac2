"""What the SMTP sink received, read as an agent's mailbox: emails are told apart by their
Message-ID (a client shows one email per Message-ID), physical copies are counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shared.devstack.mailsink import Received


@dataclass(frozen=True)
class Copy:
    """One message as received, for one recipient."""

    recipient: str
    kind: str
    message_id: str
    subject: str


def copies(received: Iterable[Received], *, recipients: Iterable[str]) -> list[Copy]:
    """The copies received by `recipients` (case-insensitive), one per message."""
    wanted = {r.lower() for r in recipients}
    found: list[Copy] = []
    for item in received:
        for rcpt in item.recipients:
            if rcpt.lower() in wanted:
                message = item.message
                found.append(
                    Copy(
                        rcpt.lower(),
                        str(message.get("X-Caprural-Kind", "")),
                        str(message.get("Message-ID", "")),
                        str(message.get("Subject", "")),
                    )
                )
    return found


@dataclass(frozen=True)
class Tally:
    """Per recipient and kind: how many emails (Message-IDs) and physical copies."""

    emails: Counter[tuple[str, str]]
    physical: Counter[tuple[str, str]]

    @classmethod
    def of(cls, found: Iterable[Copy]) -> Tally:
        """Count a list of copies."""
        ids: dict[tuple[str, str], set[str]] = {}
        physical: Counter[tuple[str, str]] = Counter()
        for copy in found:
            ids.setdefault((copy.recipient, copy.kind), set()).add(copy.message_id)
            physical[(copy.recipient, copy.kind)] += 1
        return cls(Counter({key: len(value) for key, value in ids.items()}), physical)

    def wrong(
        self, recipients: Iterable[str], kind: str, *, per_recipient: int = 1
    ) -> dict[str, int]:
        """Recipients whose number of `kind` emails is not `per_recipient` (lost or twice)."""
        counts = {r.lower(): self.emails[(r.lower(), kind)] for r in recipients}
        return {r: n for r, n in counts.items() if n != per_recipient}

    def duplicates(self) -> int:
        """Physical copies beyond the first of each email (same Message-ID resent)."""
        return sum(self.physical.values()) - sum(self.emails.values())
