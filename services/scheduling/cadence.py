"""Calendar rules, pure: slots, French public holidays, the bimonthly cadence."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")
MAX_DURATION = timedelta(hours=2)
CADENCE_MONTHS = 2
DEFAULT_LAUNCH = (time(10, 0), time(12, 0))
"""Without a requested launch, a year's launch slot is its third Tuesday of January."""


@dataclass(frozen=True)
class Slot:
    """A time range, kept in Europe/Paris time."""

    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, starts_at: datetime, ends_at: datetime) -> Slot:
        """A slot from aware datetimes, in Paris time, to the second."""
        return cls(_paris(starts_at), _paris(ends_at))

    @property
    def duration(self) -> timedelta:
        """How long it lasts."""
        return self.ends_at - self.starts_at

    @property
    def year(self) -> int:
        """The local year of the start."""
        return self.starts_at.year

    def overlaps(self, other: Slot) -> bool:
        """True when the two share some time (back to back is fine)."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def weeks_later(self, weeks: int) -> Slot:
        """The same local hours, `weeks` weeks later."""
        return _at_local(self, self.starts_at.date() + timedelta(weeks=weeks))


def _paris(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a session time must be timezone-aware")
    return moment.astimezone(PARIS).replace(microsecond=0)


def _at_local(model: Slot, day: date) -> Slot:
    """`model`'s local start time and duration on another day."""
    start = datetime.combine(day, model.starts_at.timetz().replace(tzinfo=None), PARIS)
    end = (start.astimezone(UTC) + model.duration).astimezone(PARIS)
    return Slot(start, end)


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year, language="fr")


def holiday_name(day: date) -> str | None:
    """The French public holiday on `day`, if any (metropolitan France)."""
    name = _french_holidays(day.year).get(day)
    return str(name) if name else None


def holiday_during(slot: Slot) -> tuple[date, str] | None:
    """The public holiday a slot touches (start or end day), if any."""
    last_moment = slot.ends_at - timedelta(seconds=1)
    for day in sorted({slot.starts_at.date(), max(slot.starts_at, last_moment).date()}):
        name = holiday_name(day)
        if name:
            return day, name
    return None


def weekday_of_month(day: date) -> tuple[int, int]:
    """(weekday, ordinal): 21 January 2020 is (1, 3), the third Tuesday."""
    return day.weekday(), (day.day - 1) // 7 + 1


def nth_weekday(year: int, month: int, *, weekday: int, ordinal: int) -> date:
    """The `ordinal`-th `weekday` of a month; a fifth that does not exist is the last."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    day = 1 + offset + 7 * (ordinal - 1)
    last_day = calendar.monthrange(year, month)[1]
    while day > last_day:
        day -= 7
    return date(year, month, day)


def default_launch(year: int) -> Slot:
    """The third Tuesday of January, 10:00-12:00 Paris time."""
    day = nth_weekday(year, 1, weekday=calendar.TUESDAY, ordinal=3)
    start, end = DEFAULT_LAUNCH
    return Slot(datetime.combine(day, start, PARIS), datetime.combine(day, end, PARIS))


def next_free_weekday(slot: Slot, *, taken: Iterable[Slot] = ()) -> Slot | None:
    """`slot`, or the same weekday a week later (repeatedly), off holidays and `taken`.

    None when that would leave the slot's year.
    """
    blocked = list(taken)
    candidate = slot
    while candidate.year == slot.year:
        if holiday_during(candidate) is None and not any(candidate.overlaps(b) for b in blocked):
            return candidate
        candidate = candidate.weeks_later(1)
    return None


def cadence(launch: Slot) -> Iterator[Slot]:
    """The slots after a launch, within its year: every other month, same weekday-of-month
    and hours, each moved to the next such weekday when it falls on a public holiday."""
    weekday, ordinal = weekday_of_month(launch.starts_at.date())
    for month in range(launch.starts_at.month + CADENCE_MONTHS, 13, CADENCE_MONTHS):
        day = nth_weekday(launch.year, month, weekday=weekday, ordinal=ordinal)
        slot = next_free_weekday(_at_local(launch, day))
        if slot is None:
            return
        yield slot
