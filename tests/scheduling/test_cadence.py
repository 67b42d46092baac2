"""The calendar rules: weekday-of-month, public holidays, the bimonthly cadence."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scheduling.cadence import (
    PARIS,
    Slot,
    cadence,
    default_launch,
    holiday_during,
    holiday_name,
    next_free_weekday,
    nth_weekday,
    weekday_of_month,
)
from tests.scheduling.builders import paris, slot

LAUNCH_2020 = slot(2020, 1, 21)


def test_the_2020_launch_gives_the_third_tuesdays_of_every_other_month():
    assert list(cadence(LAUNCH_2020)) == [
        slot(2020, 3, 17),
        slot(2020, 5, 19),
        slot(2020, 7, 21),
        slot(2020, 9, 15),
        slot(2020, 11, 17),
    ]


def test_none_of_the_2020_sessions_is_on_a_public_holiday():
    for item in cadence(LAUNCH_2020):
        assert item.starts_at.weekday() == calendar.TUESDAY
        assert weekday_of_month(item.starts_at.date()) == (calendar.TUESDAY, 3)
        assert holiday_during(item) is None


def test_cadence_keeps_the_local_hours_across_daylight_saving_time():
    march, may = next(iter(cadence(LAUNCH_2020))), list(cadence(LAUNCH_2020))[1]
    assert march.starts_at.utcoffset() == timedelta(hours=1)
    assert may.starts_at.utcoffset() == timedelta(hours=2)
    assert (march.starts_at.hour, may.starts_at.hour) == (10, 10)
    assert may.duration == timedelta(hours=2)


def test_a_session_on_armistice_day_moves_to_the_next_such_weekday():
    second_wednesday = slot(2020, 1, 8)
    assert list(cadence(second_wednesday))[-1] == slot(2020, 11, 18)


def test_a_session_on_may_day_moves_past_victory_day_too():
    first_friday = slot(2020, 1, 3)
    may = list(cadence(first_friday))[1]
    assert holiday_name(date(2020, 5, 1)) is not None
    assert holiday_name(date(2020, 5, 8)) is not None
    assert may == slot(2020, 5, 15)


def test_cadence_stops_at_the_end_of_the_launch_year():
    assert list(cadence(slot(2020, 10, 6))) == [slot(2020, 12, 1)]
    assert list(cadence(slot(2020, 11, 3))) == []


def test_a_fifth_weekday_becomes_the_last_one_in_shorter_months():
    assert weekday_of_month(date(2020, 1, 31)) == (calendar.FRIDAY, 5)
    assert nth_weekday(2020, 2, weekday=calendar.FRIDAY, ordinal=5) == date(2020, 2, 28)
    assert nth_weekday(2020, 5, weekday=calendar.FRIDAY, ordinal=5) == date(2020, 5, 29)


@given(
    year=st.integers(2020, 2100),
    month=st.integers(1, 12),
    weekday=st.integers(0, 6),
    ordinal=st.integers(1, 5),
)
def test_nth_weekday_is_that_weekday_of_that_month(year, month, weekday, ordinal):
    day = nth_weekday(year, month, weekday=weekday, ordinal=ordinal)
    assert (day.year, day.month, day.weekday()) == (year, month, weekday)
    found_weekday, found_ordinal = weekday_of_month(day)
    assert found_weekday == weekday
    assert found_ordinal == ordinal or (ordinal == 5 and (day + timedelta(days=7)).month != month)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 10, 31)))
def test_every_cadence_slot_is_off_holidays_in_the_launch_year(day):
    launch = Slot(
        datetime.combine(day, datetime.min.time(), PARIS).replace(hour=14),
        datetime.combine(day, datetime.min.time(), PARIS).replace(hour=16),
    )
    for item in cadence(launch):
        assert item.year == day.year
        assert item.starts_at.weekday() == day.weekday()
        assert holiday_during(item) is None
        assert (item.starts_at.hour, item.ends_at.hour) == (14, 16)


def test_the_default_launch_is_the_third_tuesday_of_january():
    assert default_launch(2020) == LAUNCH_2020
    assert default_launch(2021) == slot(2021, 1, 19)


def test_a_slot_is_kept_in_paris_time_to_the_second():
    moment = datetime(2020, 3, 17, 9, 0, 0, 123456, tzinfo=UTC)
    made = Slot.of(moment, moment + timedelta(hours=2))
    assert made.starts_at == paris(2020, 3, 17, 10)
    assert made.starts_at.tzinfo == PARIS
    assert made.starts_at.microsecond == 0


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Slot.of(datetime(2020, 3, 17, 10), datetime(2020, 3, 17, 12))


def test_a_slot_ending_on_a_holiday_touches_it():
    evening = Slot(paris(2020, 7, 13, 23), paris(2020, 7, 14, 0, 30))
    assert holiday_during(evening) == (date(2020, 7, 14), holiday_name(date(2020, 7, 14)))


def test_no_free_weekday_is_found_beyond_the_year():
    christmas = slot(2020, 12, 25)
    assert next_free_weekday(christmas) is None
    assert next_free_weekday(slot(2020, 12, 4), taken=[slot(2020, 12, 4)]) == slot(2020, 12, 11)
