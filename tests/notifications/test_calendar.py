"""Calendar invitations parse back with the session's times, UID, SEQUENCE and METHOD."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Component

from services.notifications.domain import Recipient
from services.notifications.emails.ics import parameter_text, session_calendar
from shared.calendar import session_uid
from shared.contract.scheduling import SessionData
from shared.identity import display_name

PARIS = ZoneInfo("Europe/Paris")
STAMP = datetime(2020, 1, 10, 9, 30, tzinfo=UTC)


def a_session(**overrides) -> SessionData:
    values = {
        "session_id": "2020-03-gouvernance",
        "title": "Gouvernance, instances; animation",
        "question": "Quelles instances de gouvernance ?",
        "starts_at": datetime(2020, 3, 17, 9, 0, tzinfo=UTC),
        "ends_at": datetime(2020, 3, 17, 11, 0, tzinfo=UTC),
        "join_url": "https://visio.caprural.org/pat/2020-03?x=1&y=2",
        "sequence": 3,
    }
    values.update(overrides)
    return SessionData(**values)


def parsed(body: bytes) -> tuple[Calendar, Component]:
    calendar = Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_an_invitation_carries_the_session_in_paris_time_with_its_timezone():
    calendar = session_calendar(
        a_session(),
        method="REQUEST",
        organizer="Cap Rural <pat@caprural.org>",
        stamp=STAMP,
        description="Question",
    )
    body = calendar.for_attendee(Recipient("camille@cc-exemple.fr", "Camille", "Martin"))
    parsed_calendar, event = parsed(body)
    assert parsed_calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "2020-03-gouvernance@caprural.org"
    assert event.decoded("SEQUENCE") == 3
    assert event.decoded("DTSTART") == datetime(2020, 3, 17, 10, 0, tzinfo=PARIS)
    assert event.decoded("DTEND") == datetime(2020, 3, 17, 12, 0, tzinfo=PARIS)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTSTAMP") == STAMP
    assert str(event["SUMMARY"]) == "Gouvernance, instances; animation"
    assert str(event["LOCATION"]) == "https://visio.caprural.org/pat/2020-03?x=1&y=2"
    assert str(event["URL"]) == "https://visio.caprural.org/pat/2020-03?x=1&y=2"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:pat@caprural.org"
    assert event["ORGANIZER"].params["CN"] == "Cap Rural"
    assert str(event["ATTENDEE"]) == "mailto:camille@cc-exemple.fr"
    assert event["ATTENDEE"].params["CN"] == "Camille Martin"
    [zone] = parsed_calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Paris"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_quotes_and_backslashes_never_reach_a_parameter():
    assert parameter_text('Anne "Nanou" D\\Arc') == "Anne 'Nanou' DArc"


def test_the_uid_is_the_same_for_every_version_of_a_session():
    first = session_calendar(
        a_session(sequence=0),
        method="REQUEST",
        organizer="pat@caprural.org",
        stamp=STAMP,
        description="",
    )
    moved = session_calendar(
        a_session(
            sequence=1,
            starts_at=datetime(2020, 3, 24, 9, tzinfo=UTC),
            ends_at=datetime(2020, 3, 24, 11, tzinfo=UTC),
        ),
        method="REQUEST",
        organizer="pat@caprural.org",
        stamp=STAMP,
        description="",
    )
    uids = {str(parsed(c.body)[1]["UID"]) for c in (first, moved)}
    assert uids == {session_uid("2020-03-gouvernance")}


def test_a_cancellation_is_method_cancel_with_status_cancelled():
    calendar = session_calendar(
        a_session(sequence=4),
        method="CANCEL",
        organizer="pat@caprural.org",
        stamp=STAMP,
        description="Annulée",
    )
    parsed_calendar, event = parsed(calendar.for_attendee(Recipient("a@b.fr")))
    assert parsed_calendar["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 4


def test_a_summer_session_is_at_its_paris_wall_clock_time():
    calendar = session_calendar(
        a_session(
            starts_at=datetime(2020, 7, 21, 8, tzinfo=UTC),
            ends_at=datetime(2020, 7, 21, 10, tzinfo=UTC),
        ),
        method="REQUEST",
        organizer="pat@caprural.org",
        stamp=STAMP,
        description="",
    )
    _, event = parsed(calendar.body)
    assert event["DTSTART"].to_ical() == b"20200721T100000"
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=2)


names = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029"
        ),
        min_size=1,
        max_size=100,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None)
@given(first=names, last=names, title=names)
def test_any_name_or_title_still_parses_back_to_the_same_values(first, last, title):
    calendar = session_calendar(
        a_session(title=title),
        method="REQUEST",
        organizer="Cap Rural <pat@caprural.org>",
        stamp=STAMP,
        description=title,
    )
    body = calendar.for_attendee(Recipient("camille@cc-exemple.fr", first, last))
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    _, event = parsed(body)
    assert str(event["ATTENDEE"]) == "mailto:camille@cc-exemple.fr"
    # The name as every service shows it (shared.identity: bounded to 100 characters).
    assert event["ATTENDEE"].params["CN"] == parameter_text(display_name(first, last))
    assert str(event["SUMMARY"]) == title
    assert event.decoded("SEQUENCE") == 3
