"""Dates in French, on Paris time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.french import DAYS, MONTHS, clock_time, long_date, slot


def test_the_launch_webconference_reads_as_the_brief_says():
    start = datetime(2020, 1, 21, 9, 0, tzinfo=UTC)
    assert slot(start, start + timedelta(hours=2)) == "mardi 21 janvier 2020, 10h-12h"


def test_summer_time_is_applied():
    start = datetime(2020, 7, 21, 8, 0, tzinfo=UTC)
    assert slot(start, start + timedelta(hours=2)) == "mardi 21 juillet 2020, 10h-12h"


def test_the_first_of_the_month_is_1er_and_minutes_are_written_when_not_zero():
    assert long_date(datetime(2020, 9, 1, 8, 0, tzinfo=UTC)) == "mardi 1er septembre 2020"
    assert clock_time(datetime(2020, 9, 1, 7, 5, tzinfo=UTC)) == "9h05"
    assert clock_time(datetime(2020, 9, 1, 12, 30, tzinfo=UTC)) == "14h30"


def test_a_slot_over_two_days_names_both():
    start = datetime(2020, 12, 31, 22, 0, tzinfo=UTC)
    assert slot(start, start + timedelta(hours=2)) == (
        "du jeudi 31 décembre 2020, 23h au vendredi 1er janvier 2021, 1h"
    )


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        long_date(datetime(2020, 1, 21, 10, 0))


@settings(deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_every_date_has_a_french_day_and_month(moment):
    words = long_date(moment).split()
    assert words[0] in DAYS
    assert words[2] in MONTHS
    assert words[3].isdigit()
