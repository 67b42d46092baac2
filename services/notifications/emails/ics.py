"""Calendar invitations (iCalendar, RFC 5546): a session's event (shared/calendar.py)
with METHOD:REQUEST for an invitation or an update, METHOD:CANCEL with
STATUS:CANCELLED for a cancellation, the organizer, and the recipient as ATTENDEE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Literal

from icalendar import vCalAddress
from icalendar.parser import Contentline, Parameters

from services.notifications.domain import Recipient
from shared.calendar import new_calendar, session_event
from shared.contract.scheduling import SessionData

_END_EVENT = b"END:VEVENT\r\n"

Method = Literal["REQUEST", "CANCEL"]


def parameter_text(value: str) -> str:
    """A value fit for a parameter (CN): no double quote, no backslash (which some
    parsers, icalendar's among them, read as an escape), no control character."""
    cleaned = value.replace('"', "'").replace("\\", "")
    return "".join(c for c in cleaned if c.isprintable()).strip() or "?"


@dataclass(frozen=True)
class SessionCalendar:
    """The calendar object of one version of a session, ready for any attendee."""

    method: Method
    body: bytes

    def for_attendee(self, attendee: Recipient) -> bytes:
        """The calendar with the recipient as ATTENDEE (built once, then per recipient)."""
        params = Parameters(
            {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION"}
        )
        params["RSVP"] = "FALSE"
        if attendee.display_name:
            params["CN"] = parameter_text(attendee.display_name)
        line = Contentline.from_parts("ATTENDEE", params, f"mailto:{attendee.email}")
        attendee_line = line.to_ical() + b"\r\n"
        return self.body.replace(_END_EVENT, attendee_line + _END_EVENT, 1)


def session_calendar(
    session: SessionData,
    *,
    method: Method,
    organizer: str,
    stamp: datetime,
    description: str,
) -> SessionCalendar:
    """Build the calendar of a session version; `organizer` is MAIL_FROM."""
    calendar = new_calendar(method=method)
    event = session_event(
        session, stamp=stamp, description=description, cancelled=method == "CANCEL"
    )
    name, address = parseaddr(organizer)
    organizer_address = vCalAddress(f"mailto:{address}")
    if name:
        organizer_address.params["CN"] = parameter_text(name)
    event.add("organizer", organizer_address)
    calendar.add_component(event)
    return SessionCalendar(method=method, body=calendar.to_ical())
