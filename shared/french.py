"""Dates and times as a French reader expects them, in Europe/Paris: the same wording in
the emails and on the public pages.

`slot(start, end)` gives "mardi 17 mars 2020, 10h-12h"; no locale is needed.
"""

from __future__ import annotations

from datetime import datetime

from shared.calendar import PARIS

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def paris(moment: datetime) -> datetime:
    """The same instant on Paris wall-clock time."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in an email: give its time zone")
    return moment.astimezone(PARIS)


def long_date(moment: datetime) -> str:
    """'mardi 17 mars 2020' ('1er' for the first of the month)."""
    local = paris(moment)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{DAYS[local.weekday()]} {day} {MONTHS[local.month - 1]} {local.year}"


def clock_time(moment: datetime) -> str:
    """'10h', '10h30', '9h05'."""
    local = paris(moment)
    return f"{local.hour}h" if local.minute == 0 else f"{local.hour}h{local.minute:02d}"


def slot(start: datetime, end: datetime) -> str:
    """'mardi 17 mars 2020, 10h-12h'; both dates when the slot spans two days."""
    if paris(start).date() == paris(end).date():
        return f"{long_date(start)}, {clock_time(start)}-{clock_time(end)}"
    return f"du {long_date(start)}, {clock_time(start)} au {long_date(end)}, {clock_time(end)}"


def moment(when: datetime) -> str:
    """'mardi 17 mars 2020 à 10h' (when something was done)."""
    return f"{long_date(when)} à {clock_time(when)}"
