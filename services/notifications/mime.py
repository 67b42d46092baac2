"""The MIME message of a rendered email: text and HTML alternatives, the invitation.

Every header value built from data goes through `header_safe` (no CR/LF, bounded);
the email package refuses line breaks in headers as a second guard.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from services.notifications.domain import Recipient, header_safe
from services.notifications.rendering import RenderedEmail

SMTP_POLICY = policy.SMTP.clone(max_line_length=78)


def sender_address(mail_from: str) -> str:
    """The bare address of MAIL_FROM ('Cap Rural <pat@caprural.org>' -> 'pat@caprural.org')."""
    return parseaddr(mail_from)[1]


def message_id(delivery_id: str, mail_from: str) -> str:
    """A stable Message-ID per delivery: a retried send carries the same one."""
    domain = sender_address(mail_from).rpartition("@")[2] or "caprural.org"
    return f"<{delivery_id}@{domain}>"


def _mailbox(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=header_safe(name, limit=120), username=local, domain=domain)


def build_message(
    email: RenderedEmail,
    *,
    mail_from: str,
    recipient: Recipient,
    delivery_id: str,
    date: datetime,
) -> EmailMessage:
    """The message as it goes out (its bytes are stable for a given delivery and date)."""
    message = EmailMessage(policy=SMTP_POLICY)
    sender_name, sender = parseaddr(mail_from)
    message["From"] = _mailbox(sender_name, sender)
    message["To"] = _mailbox(recipient.display_name, header_safe(recipient.email, limit=254))
    message["Subject"] = header_safe(email.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(delivery_id, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Caprural-Kind"] = email.kind
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if email.calendar is not None and email.calendar_method is not None:
        calendar = email.calendar.decode("utf-8")
        message.add_alternative(
            calendar,
            subtype="calendar",
            charset="utf-8",
            cte="quoted-printable",
            params={"method": email.calendar_method},
        )
        name = "annulation.ics" if email.calendar_method == "CANCEL" else "invitation.ics"
        message.add_attachment(
            email.calendar,
            maintype="application",
            subtype="ics",
            filename=name,
        )
    message["Content-Language"] = "fr"  # after the parts: set_content drops Content-* headers
    return message
