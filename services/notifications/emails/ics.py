"""Calendar invitations (iCalendar, RFC 5545/5546) built with the icalendar package.

One stable UID per session, SEQUENCE from the event, times with TZID Europe/Paris and
its VTIMEZONE; METHOD:REQUEST for an invitation or an update, METHOD:CANCEL with
STATUS:CANCELLED for a cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Literal

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress
from icalendar.parser import Contentline, Parameters

from services.notifications.domain import Recipient
from services.notifications.emails.french import PARIS
from shared.contract.scheduling import SessionData

UID_DOMAIN = "caprural.org"
PRODID = "-//Cap Rural//Groupe d'echange PAT-SAT//FR"
_END_EVENT = b"END:VEVENT\r\n"

Method = Literal["REQUEST", "CANCEL"]


def session_uid(session_id: str) -> str:
    """The UID every calendar object of a session shares, whatever its version."""
    return f"{session_id}@{UID_DOMAIN}"


@lru_cache(maxsize=1)
def paris_timezone() -> Timezone:
    """VTIMEZONE for Europe/Paris with the EU summer-time rule (in force since 1996)."""
    zone = Timezone()
    zone.add("tzid", "Europe/Paris")
    summer = TimezoneDaylight()
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    summer.add("tzoffsetfrom", _offset(1))
    summer.add("tzoffsetto", _offset(2))
    summer.add("tzname", "CEST")
    winter = TimezoneStandard()
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    winter.add("tzoffsetfrom", _offset(2))
    winter.add("tzoffsetto", _offset(1))
    winter.add("tzname", "CET")
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def _offset(hours: int) -> timedelta:
    return timedelta(hours=hours)


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
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(paris_timezone())
    event = Event()
    event.add("uid", session_uid(session.session_id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(PARIS))
    event.add("dtend", session.ends_at.astimezone(PARIS))
    event.add("sequence", session.sequence)
    event.add("summary", session.title)
    event.add("description", description)
    event.add("location", session.join_url)
    event.add("url", session.join_url)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    name, address = parseaddr(organizer)
    organizer_address = vCalAddress(f"mailto:{address}")
    if name:
        organizer_address.params["CN"] = parameter_text(name)
    event.add("organizer", organizer_address)
    calendar.add_component(event)
    return SessionCalendar(method=method, body=calendar.to_ical())
