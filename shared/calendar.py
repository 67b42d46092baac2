"""A session as a calendar event (iCalendar, RFC 5545, with the icalendar package).

One home for what every calendar object of a session shares, whoever makes it: the
notifications service's invitations (METHOD:REQUEST / CANCEL, with the attendee) and the
gateway's public feed (`/calendar.ics`, nobody named). One stable UID per session,
SEQUENCE from the session's version, times with TZID Europe/Paris and its VTIMEZONE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from shared.contract.scheduling import SessionData

UID_DOMAIN = "caprural.org"
PRODID = "-//Cap Rural//Groupe d'echange PAT-SAT//FR"
PARIS = ZoneInfo("Europe/Paris")


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
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("tzname", "CEST")
    winter = TimezoneStandard()
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("tzname", "CET")
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def new_calendar(*, method: str | None = None, name: str | None = None) -> Calendar:
    """An empty calendar with the platform's PRODID and the Paris VTIMEZONE."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add_component(paris_timezone())
    return calendar


def session_event(
    session: SessionData, *, stamp: datetime, description: str, cancelled: bool
) -> Event:
    """The VEVENT of one version of a session (no organizer, no attendee)."""
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
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event
