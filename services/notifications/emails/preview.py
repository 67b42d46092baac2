"""Render one email of every kind with sample data, so that a person can read them first.

`python -m services.notifications.emails.preview <folder>` (or `caprural preview <folder>`)
writes `<kind>.eml` (the whole message, open it in a mail client), `<kind>.html` and
`<kind>.txt`, and `<kind>.ics` for the kinds that carry an invitation.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

from services.notifications.emails.letters import letter_for
from services.notifications.emails.mime import build_message
from services.notifications.emails.offers import offered_links
from services.notifications.emails.rendering import Renderer
from services.notifications.emails.samples import (
    CAMILLE,
    ORGANIZER,
    SAMPLE_LINKS,
    sample_cause,
    sample_delivery,
)
from shared.contract.notifications import EmailKind

PREVIEW_DATE = datetime(2020, 1, 10, 9, 30, tzinfo=UTC)


def write_previews(folder: Path, *, mail_from: str = ORGANIZER) -> list[Path]:
    """Write every kind of email under `folder`; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    renderer = Renderer()
    written: list[Path] = []
    for kind in get_args(EmailKind):
        delivery, source = sample_delivery(kind)
        recipient = delivery.recipient or CAMILLE
        links = offered_links(delivery, source, SAMPLE_LINKS)
        letter = letter_for(sample_cause(kind, organizer=mail_from))
        email = renderer.render(letter, recipient, links)
        message = build_message(
            email,
            mail_from=mail_from,
            recipient=recipient,
            delivery_id=delivery.delivery_id,
            date=PREVIEW_DATE,
        )
        files = {
            f"{kind}.eml": message,
            f"{kind}.html": email.html.encode(),
            f"{kind}.txt": email.text.encode(),
        }
        if email.calendar is not None:
            files[f"{kind}.ics"] = email.calendar
        for name, content in files.items():
            path = folder / name
            path.write_bytes(content)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point: the folder is the only argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m services.notifications.emails.preview <folder>\n")
        return 2
    paths = write_previews(Path(args[0]))
    sys.stdout.write(f"wrote {len(paths)} files under {args[0]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
