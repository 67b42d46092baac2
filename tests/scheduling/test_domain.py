"""Session rules: scheduling, moving and cancelling sessions, their reminders and digest,
and the sessions a compte rendu may be shared for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.scheduling.cadence import Slot
from services.scheduling.domain import (
    Rejection,
    Session,
    cancel,
    check_slot,
    reminder_due_at,
    reminder_outcome,
    reminders_ahead,
    report_refusal,
    reschedule,
    schedule,
    timers_ahead,
)
from tests.scheduling.builders import paris, session, slot

NOW = paris(2020, 1, 6, 9)
LAUNCH = slot(2020, 1, 21)


def reason(outcome: object) -> str:
    assert isinstance(outcome, Rejection), outcome
    return outcome.reason


def test_a_two_hour_session_on_a_working_day_is_scheduled():
    assert check_slot(LAUNCH, now=NOW, others=[]) is None
    assert schedule(session("s1", LAUNCH), now=NOW, others=[]) == session("s1", LAUNCH)


def test_a_session_ending_before_it_starts_is_rejected():
    backwards = Slot(paris(2020, 1, 21, 12), paris(2020, 1, 21, 10))
    assert reason(check_slot(backwards, now=NOW, others=[])) == "ends_before_start"
    empty = Slot(paris(2020, 1, 21, 10), paris(2020, 1, 21, 10))
    assert reason(check_slot(empty, now=NOW, others=[])) == "ends_before_start"


def test_a_session_longer_than_two_hours_is_rejected():
    too_long = Slot(paris(2020, 1, 21, 10), paris(2020, 1, 21, 12, 1))
    assert reason(check_slot(too_long, now=NOW, others=[])) == "too_long"


def test_a_session_in_the_past_is_rejected():
    assert reason(check_slot(LAUNCH, now=paris(2020, 1, 21, 10), others=[])) == "past_session"


def test_a_session_on_a_public_holiday_is_rejected_with_its_name():
    outcome = check_slot(slot(2020, 11, 11), now=NOW, others=[])
    assert reason(outcome) == "public_holiday"
    assert isinstance(outcome, Rejection)
    assert "11/11/2020" in outcome.detail
    assert "Armistice" in outcome.detail


def test_a_session_overlapping_a_live_one_is_rejected():
    other = session("other", Slot(paris(2020, 1, 21, 11), paris(2020, 1, 21, 13)))
    outcome = check_slot(LAUNCH, now=NOW, others=[other])
    assert reason(outcome) == "overlap"
    assert isinstance(outcome, Rejection)
    assert "Session other" in outcome.detail


def test_back_to_back_and_cancelled_sessions_do_not_overlap():
    after = session("after", Slot(paris(2020, 1, 21, 12), paris(2020, 1, 21, 14)))
    cancelled = session("gone", LAUNCH, status="cancelled")
    assert check_slot(LAUNCH, now=NOW, others=[after, cancelled]) is None


@given(
    start=st.integers(0, 48 * 60),
    length=st.integers(1, 4 * 60),
    other_start=st.integers(0, 48 * 60),
    other_length=st.integers(1, 120),
)
def test_overlap_is_symmetric_and_means_shared_time(start, length, other_start, other_length):
    base = paris(2020, 2, 3, 0)
    first = Slot(base + timedelta(minutes=start), base + timedelta(minutes=start + length))
    second = Slot(
        base + timedelta(minutes=other_start),
        base + timedelta(minutes=other_start + other_length),
    )
    shared = min(first.ends_at, second.ends_at) - max(first.starts_at, second.starts_at)
    assert first.overlaps(second) == second.overlaps(first) == (shared > timedelta(0))


def test_rescheduling_moves_the_session_and_bumps_its_sequence():
    moved = reschedule(session("s1", LAUNCH), slot(2020, 1, 28), now=NOW, others=[])
    assert isinstance(moved, Session)
    assert (moved.slot, moved.sequence, moved.pinned) == (slot(2020, 1, 28), 1, True)


def test_rescheduling_to_an_overlapping_slot_ignores_the_session_itself():
    original = session("s1", LAUNCH)
    later = Slot(paris(2020, 1, 21, 11), paris(2020, 1, 21, 13))
    moved = reschedule(original, later, now=NOW, others=[original])
    assert isinstance(moved, Session)
    assert moved.slot == later


def test_rescheduling_to_the_same_slot_changes_nothing():
    original = session("s1", LAUNCH)
    assert reschedule(original, LAUNCH, now=NOW, others=[original]) is original


def test_rescheduling_is_rejected_for_unknown_cancelled_past_or_bad_slots():
    live = session("s1", LAUNCH)
    assert reason(reschedule(None, LAUNCH, now=NOW, others=[])) == "unknown_session"
    gone = replace(live, status="cancelled")
    assert reason(reschedule(gone, slot(2020, 2, 4), now=NOW, others=[])) == "cancelled_session"
    after_start = paris(2020, 1, 21, 10, 30)
    assert reason(reschedule(live, slot(2020, 2, 4), now=after_start, others=[])) == "past_session"
    assert reason(reschedule(live, slot(2020, 4, 13), now=NOW, others=[])) == "public_holiday"


def test_cancelling_a_session_bumps_its_sequence_and_keeps_the_reason():
    done = cancel(session("s1", LAUNCH, sequence=2), now=NOW, reason="Intervenant absent")
    assert isinstance(done, Session)
    assert (done.status, done.sequence, done.cancel_reason) == (
        "cancelled",
        3,
        "Intervenant absent",
    )
    assert not done.live


def test_cancelling_twice_or_after_the_start_is_rejected():
    gone = session("s1", LAUNCH, status="cancelled")
    assert reason(cancel(gone, now=NOW, reason="x")) == "cancelled_session"
    assert reason(cancel(session("s1", LAUNCH), now=LAUNCH.starts_at, reason="x")) == "past_session"
    assert reason(cancel(None, now=NOW, reason="x")) == "unknown_session"


def test_a_session_far_ahead_gets_both_reminders_at_the_same_local_time():
    assert reminders_ahead(LAUNCH.starts_at, now=NOW) == [
        ("J-7", paris(2020, 1, 14, 10)),
        ("J-1", paris(2020, 1, 20, 10)),
    ]


def test_a_session_less_than_seven_days_ahead_gets_only_the_reminders_still_ahead():
    assert reminders_ahead(LAUNCH.starts_at, now=paris(2020, 1, 16)) == [
        ("J-1", paris(2020, 1, 20, 10))
    ]
    assert reminders_ahead(LAUNCH.starts_at, now=paris(2020, 1, 20, 18)) == []


def test_reminders_keep_the_local_time_across_daylight_saving_time():
    after_change = paris(2020, 3, 31, 10)
    assert reminder_due_at("J-7", after_change) == paris(2020, 3, 24, 10)
    assert reminder_due_at("J-7", after_change).utcoffset() == timedelta(hours=1)


def test_a_late_reminder_is_missed_after_the_start_and_a_j7_is_superseded_by_the_j1():
    start = LAUNCH.starts_at
    assert reminder_outcome("J-7", start, now=paris(2020, 1, 14, 10)) == "emit"
    assert reminder_outcome("J-7", start, now=paris(2020, 1, 20, 11)) == "superseded"
    assert reminder_outcome("J-1", start, now=paris(2020, 1, 20, 11)) == "emit"
    assert reminder_outcome("J-1", start, now=start) == "missed"


# --- the digest and the compte rendu ------------------------------------------------


DIGEST_AHEAD = timedelta(hours=72)


def test_the_digest_is_planned_72_hours_before_the_start_with_the_reminders():
    planned = timers_ahead(
        session("s1", LAUNCH), now=NOW, digest_ahead=DIGEST_AHEAD, digest_sent=False
    )
    assert planned == [
        ("J-7", paris(2020, 1, 14, 10)),
        ("J-1", paris(2020, 1, 20, 10)),
        ("digest", paris(2020, 1, 18, 10)),
    ]


def test_a_session_within_the_window_gets_its_digest_due_at_once_until_it_starts():
    soon = session("s1", slot(2020, 1, 8))
    planned = timers_ahead(soon, now=NOW, digest_ahead=DIGEST_AHEAD, digest_sent=False)
    started = timers_ahead(
        soon, now=paris(2020, 1, 8, 10), digest_ahead=DIGEST_AHEAD, digest_sent=False
    )
    assert planned == [("J-1", paris(2020, 1, 7, 10)), ("digest", paris(2020, 1, 5, 10))]
    assert started == []


def test_a_sent_digest_or_a_cancelled_session_plans_no_digest():
    sent = timers_ahead(session("s1", LAUNCH), now=NOW, digest_ahead=DIGEST_AHEAD, digest_sent=True)
    cancelled = session("s1", LAUNCH, status="cancelled")
    assert [kind for kind, _ in sent] == ["J-7", "J-1"]
    assert timers_ahead(cancelled, now=NOW, digest_ahead=DIGEST_AHEAD, digest_sent=False) == []


def test_a_report_is_refused_for_an_unknown_cancelled_or_future_session():
    held = session("s1", LAUNCH)
    after = paris(2020, 1, 21, 12)
    assert report_refusal(held, "s1", now=after) is None
    assert report_refusal(held, "s1", now=paris(2020, 1, 21, 10)) is None  # started
    assert "unknown session 's9'" in str(report_refusal(None, "s9", now=after))
    assert "has not started yet" in str(report_refusal(held, "s1", now=NOW))
    cancelled = replace(held, status="cancelled")
    assert "was cancelled" in str(report_refusal(cancelled, "s1", now=after))
