"""The public calendar feed (`/calendar.ics`): the group's sessions, nobody named.

One VEVENT per session, built by shared/calendar.py as the invitations are: the same
UID, the session's SEQUENCE, Paris times with their VTIMEZONE; a cancelled session
stays in the feed as STATUS:CANCELLED, so that subscribed calendars remove it.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.gateway.records import SessionRecord
from shared.calendar import new_calendar, session_event

NAME = "Cap Rural · Groupe d'échange PAT/SAT"


def calendar_feed(sessions: Iterable[SessionRecord], *, page_url: str) -> bytes:
    """The iCalendar feed of `sessions`; `page_url` + session id is each session's page."""
    calendar = new_calendar(name=NAME)
    for session in sessions:
        lines = [session.question, "", f"Page de la séance : {page_url}{session.session_id}"]
        if session.cancelled:
            lines.insert(0, "Séance annulée.")
        else:
            lines.append(f"Webconférence : {session.join_url}")
        event = session_event(
            session.as_data(),
            stamp=session.changed_at,
            description="\n".join(lines),
            cancelled=session.cancelled,
        )
        calendar.add_component(event)
    return bytes(calendar.to_ical())
