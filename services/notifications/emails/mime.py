"""The MIME message of a rendered email: text and HTML alternatives, the invitation.

Built with the email package's compat32 classes and base64 bodies, several times
faster than EmailMessage's header registry and quoted-printable (it matters for a
fan-out to every member). Every
header value built from data goes through `header_safe` (no CR/LF, bounded) and
non-ASCII header text is RFC 2047 encoded.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from email.charset import Charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from services.notifications.domain import Recipient, header_safe
from services.notifications.emails.rendering import RenderedEmail


class _Wire(Compat32):
    """compat32 with a shortcut for the common header: short, ASCII, one line.

    compat32 folds every header through `email.header.Header`, the largest cost of a
    message (some 25 headers with the MIME parts); a header that needs no folding and
    no encoding comes out the same without it (checked against compat32 in the tests).
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()  # no control character (some split lines: \x1e)
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and value == value.strip()
            and "  " not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
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

UTF8 = Charset("utf-8")
"""Base64 for bodies and encoded words: done in C by binascii (quoted-printable is not)."""


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


def _text(body: str, subtype: str) -> MIMEText:
    return MIMEText(body, subtype, UTF8)  # type: ignore[arg-type]


def _boundary() -> str:
    """A fresh boundary: "=_" never occurs in base64, the encoding of every part, so the
    generator need not search the parts for it (a regular expression compiled each time).
    """
    return f"=_{secrets.token_hex(12)}"  # short enough for one header line


def build_message(
    email: RenderedEmail,
    *,
    mail_from: str,
    recipient: Recipient,
    delivery_id: str,
    date: datetime,
) -> bytes:
    """The message as it goes on the wire (CRLF line ends, 7-bit)."""
    alternatives = MIMEMultipart("alternative", boundary=_boundary())
    alternatives.attach(_text(email.text, "plain"))
    alternatives.attach(_text(email.html, "html"))
    message = alternatives
    if email.calendar is not None and email.calendar_method is not None:
        calendar = _text(email.calendar.decode("utf-8"), "calendar")
        calendar.set_param("method", email.calendar_method)
        alternatives.attach(calendar)
        name = "annulation.ics" if email.calendar_method == "CANCEL" else "invitation.ics"
        attachment = MIMEApplication(email.calendar, "ics")
        attachment.add_header("Content-Disposition", "attachment", filename=name)
        message = MIMEMultipart("mixed", boundary=_boundary())
        message.attach(alternatives)
        message.attach(attachment)
    message["From"] = _from(mail_from)
    message["To"] = _mailbox(recipient.display_name, recipient.email)
    subject = Header(header_safe(email.subject), "utf-8", header_name="Subject")
    message["Subject"] = subject  # type: ignore[assignment]
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(delivery_id, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "fr"
    message["X-Caprural-Kind"] = email.kind
    if email.unsubscribe:  # RFC 2369 and RFC 8058: one click, no page needed
        message["List-Unsubscribe"] = f"<{header_safe(email.unsubscribe, limit=2000)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message.as_bytes(policy=WIRE)
