"""The MIME message of a rendered email: text and HTML alternatives, the invitation.

The bytes are those the email package's compat32 classes and generator write for the
same parts (base64 bodies, headers folded by the same policy): the tests build each
message both ways and compare them byte for byte. Writing them directly costs a
fifth of the classes' time (0.12 ms instead of 0.58 for an invitation), which a
fan-out to every member pays per email. Every header value built from data goes
through `header_safe` (no CR/LF, bounded) and non-ASCII header text is RFC 2047 encoded.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import Any

from services.notifications.domain import Recipient, header_safe
from services.notifications.emails.rendering import RenderedEmail

_UNSPLITTABLE = re.compile(r"[^\s;,]+")
"""A value compat32 cannot split (no space, no ';' or ','), such as a link."""


class _Wire(Compat32):
    """compat32 with a shortcut for the common header: short, ASCII, one line (or a long
    link, alone on a continuation line, as compat32 puts it).

    compat32 folds every header through `email.header.Header`, the largest cost of a
    message (some 25 headers with the MIME parts); a header that needs no folding and
    no encoding comes out the same without it (checked against compat32 in the tests).
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()  # no control character (some split lines: \x1e)
            and value == value.strip()
            and "  " not in value
        ):
            if len(name) + len(value) + 2 <= (self.max_line_length or 78):
                return f"{name}: {value}{self.linesep}".encode("ascii")
            if _UNSPLITTABLE.fullmatch(value):  # a long link: alone on the next line
                return f"{name}: {self.linesep} {value}{self.linesep}".encode("ascii")
        if isinstance(value, Header):
            # An encoded header (the subject) is the same for every recipient of a
            # fan-out, and RFC 2047 line splitting is quadratic in its length.
            return self._fold_encoded(name, str(value))
        return super().fold_binary(name, value)

    @lru_cache(maxsize=256)  # noqa: B019 (the policy is a module-level singleton)
    def _fold_encoded(self, name: str, value: str) -> bytes:
        return super().fold_binary(name, Header(value, "utf-8", header_name=name))  # type: ignore[arg-type]


WIRE = _Wire(linesep="\r\n", max_line_length=78)
"""CRLF line ends, as SMTP wants them."""


@lru_cache(maxsize=8)
def sender_address(mail_from: str) -> str:
    """The bare address of MAIL_FROM ('Cap Rural <pat@caprural.org>' -> 'pat@caprural.org')."""
    return parseaddr(mail_from)[1]


def message_id(delivery_id: str, mail_from: str) -> str:
    """A stable Message-ID per delivery: a retried send carries the same one."""
    domain = sender_address(mail_from).rpartition("@")[2] or "caprural.org"
    return f"<{delivery_id}@{domain}>"


def _mailbox(name: str, address: str) -> str:
    return formataddr((header_safe(name, limit=120), header_safe(address, limit=254)), "utf-8")


@lru_cache(maxsize=8)
def _from(mail_from: str) -> str:
    """The From header of MAIL_FROM, parsed once (the same for every message)."""
    return _mailbox(*parseaddr(mail_from))


def _boundary() -> str:
    """A fresh boundary: "=_" never occurs in base64, the encoding of every part, so no
    part can contain it."""
    return f"=_{secrets.token_hex(12)}"  # short enough for one header line


Headers = Sequence[tuple[str, Any]]
"""Header names and values, in order (a value is a str, or a Header to encode)."""


def _base64(data: bytes) -> bytes:
    """A base64 body as the email package writes it: 76-character CRLF lines."""
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _entity(headers: Headers, body: bytes) -> bytes:
    """One MIME entity: its headers, folded by the wire policy, a blank line, its body."""
    folded = b"".join(WIRE.fold_binary(name, value) for name, value in headers)
    return folded + b"\r\n" + body


def _text(body: str, content_type: str, *, first: str = "Content-Type") -> bytes:
    """A UTF-8 text part in base64 (MIMEText's headers, in its order)."""
    mime = [("MIME-Version", "1.0"), ("Content-Transfer-Encoding", "base64")]
    typed = ("Content-Type", content_type)
    headers = [typed, *mime] if first == "Content-Type" else [*mime, typed]
    return _entity(headers, _base64(body.encode("utf-8")))


def _multipart(subtype: str, parts: list[bytes], headers: Headers = ()) -> bytes:
    """A multipart entity around its parts (as the email package's generator writes it)."""
    boundary = _boundary()
    own = [("Content-Type", f'multipart/{subtype}; boundary="{boundary}"'), ("MIME-Version", "1.0")]
    dash = f"--{boundary}".encode("ascii")
    body = dash + b"\r\n" + (b"\r\n" + dash + b"\r\n").join(parts) + b"\r\n" + dash + b"--\r\n"
    return _entity([*own, *headers], body)


def build_message(
    email: RenderedEmail,
    *,
    mail_from: str,
    recipient: Recipient,
    delivery_id: str,
    date: datetime,
) -> bytes:
    """The message as it goes on the wire (CRLF line ends, 7-bit)."""
    headers: list[tuple[str, Any]] = [
        ("From", _from(mail_from)),
        ("To", _mailbox(recipient.display_name, recipient.email)),
        ("Subject", Header(header_safe(email.subject), "utf-8", header_name="Subject")),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id(delivery_id, mail_from)),
        ("Auto-Submitted", "auto-generated"),
        ("Content-Language", "fr"),
        ("X-Caprural-Kind", email.kind),
    ]
    if email.unsubscribe:  # RFC 2369 and RFC 8058: one click, no page needed
        headers.append(("List-Unsubscribe", f"<{header_safe(email.unsubscribe, limit=2000)}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    texts = [
        _text(email.text, 'text/plain; charset="utf-8"'),
        _text(email.html, 'text/html; charset="utf-8"'),
    ]
    if email.calendar is None or email.calendar_method is None:
        return _multipart("alternative", texts, headers)
    method = email.calendar_method
    calendar = _text(
        email.calendar.decode("utf-8"),
        f'text/calendar; charset="utf-8"; method="{method}"',
        first="MIME-Version",
    )
    name = "annulation.ics" if method == "CANCEL" else "invitation.ics"
    attachment = _entity(
        [
            ("Content-Type", "application/ics"),
            ("MIME-Version", "1.0"),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", f'attachment; filename="{name}"'),
        ],
        _base64(email.calendar),
    )
    return _multipart("mixed", [_multipart("alternative", [*texts, calendar]), attachment], headers)
