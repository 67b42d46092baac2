"""A published programme on the cadence: placement, new versions, held and moved sessions."""

from __future__ import annotations

from dataclasses import replace

from services.scheduling.cadence import default_launch
from services.scheduling.domain import Session
from services.scheduling.programme_plan import ProgrammePlan, Topic, launch_of, plan_programme
from tests.scheduling.builders import paris, session, slot

LAUNCH = slot(2020, 1, 21)
JANUARY = paris(2020, 1, 22)
THIRD_TUESDAYS = [slot(2020, 3, 17), slot(2020, 5, 19), slot(2020, 7, 21), slot(2020, 9, 15)]
THIRD_TUESDAYS.append(slot(2020, 11, 17))
TOPICS = [Topic(f"t{n}", f"Sujet {n}", f"Question {n} ?") for n in range(1, 6)]


def plan(topics, *, current=(), others=(), now=JANUARY) -> ProgrammePlan:
    return plan_programme(
        topics=topics,
        launch=LAUNCH,
        current=list(current),
        others=list(others),
        now=now,
        cancel_reason="Retirée du programme",
    )


def sessions_of(first: ProgrammePlan) -> list[Session]:
    """The sessions a first plan creates, as stored."""
    return [
        session(
            f"p-{p.topic.topic_id}",
            p.slot,
            topic_id=p.topic.topic_id,
            title=p.topic.title,
            question=p.topic.question,
            programme_year=2020,
        )
        for p in first.scheduled
    ]


def test_five_topics_take_the_third_tuesdays_in_rank_order():
    first = plan(TOPICS)
    assert [(p.topic.topic_id, p.slot) for p in first.scheduled] == list(
        zip(["t1", "t2", "t3", "t4", "t5"], THIRD_TUESDAYS, strict=True)
    )
    assert (first.rescheduled, first.cancelled, first.unplaced) == ([], [], [])


def test_the_launch_is_the_earliest_live_requested_session_of_the_year():
    extra = session("extra", slot(2020, 6, 2))
    launch = session("launch", LAUNCH)
    gone = session("gone", slot(2020, 1, 7), status="cancelled")
    programme = session("p", slot(2020, 1, 14), programme_year=2020)
    last_year = session("old", slot(2019, 12, 3))
    assert launch_of(2020, [extra, launch, gone, programme, last_year]) == LAUNCH
    assert launch_of(2021, [extra, launch]) == default_launch(2021)


def test_the_same_version_again_changes_nothing():
    current = sessions_of(plan(TOPICS))
    assert plan(TOPICS, current=current) == ProgrammePlan()


def test_a_new_ranking_moves_the_sessions_with_their_topics_instead_of_duplicating_them():
    current = sessions_of(plan(TOPICS))
    swapped = [TOPICS[1], TOPICS[0], *TOPICS[2:]]
    second = plan(swapped, current=current)
    assert second.scheduled == []
    assert second.cancelled == []
    moved = {s.session_id: (s.slot, s.sequence) for s in second.rescheduled}
    assert moved == {"p-t2": (THIRD_TUESDAYS[0], 1), "p-t1": (THIRD_TUESDAYS[1], 1)}


def test_a_topic_dropped_from_the_programme_cancels_its_session_and_a_new_one_is_scheduled():
    current = sessions_of(plan(TOPICS))
    newcomer = Topic("t9", "Sujet 9", "Question 9 ?")
    second = plan([*TOPICS[:4], newcomer], current=current)
    assert [(s.session_id, s.status, s.sequence) for s in second.cancelled] == [
        ("p-t5", "cancelled", 1)
    ]
    assert second.cancelled[0].cancel_reason == "Retirée du programme"
    assert [(p.topic.topic_id, p.slot) for p in second.scheduled] == [("t9", THIRD_TUESDAYS[4])]


def test_held_sessions_stay_and_the_other_topics_take_the_slots_still_ahead():
    current = sessions_of(plan(TOPICS))
    june = paris(2020, 6, 1)
    newcomer = Topic("t9", "Sujet 9", "Question 9 ?")
    second = plan([newcomer, *TOPICS], current=current, now=june)
    assert [(p.topic.topic_id, p.slot) for p in second.scheduled] == [("t9", THIRD_TUESDAYS[2])]
    moved = {s.topic_id: s.slot for s in second.rescheduled}
    assert moved == {"t3": THIRD_TUESDAYS[3], "t4": THIRD_TUESDAYS[4]}
    assert [s.topic_id for s in second.cancelled] == ["t5"]


def test_a_session_moved_by_hand_keeps_its_slot_in_a_new_version():
    current = sessions_of(plan(TOPICS))
    by_hand = replace(current[1], slot=slot(2020, 6, 2), sequence=1, pinned=True)
    current[1] = by_hand
    retitled = [TOPICS[0], replace(TOPICS[1], title="Sujet 2 précisé"), *TOPICS[2:]]
    second = plan(retitled, current=current)
    assert [(s.session_id, s.slot, s.title, s.sequence) for s in second.rescheduled] == [
        ("p-t2", slot(2020, 6, 2), "Sujet 2 précisé", 2)
    ]


def test_a_slot_taken_by_another_session_moves_a_week_later():
    extra = session("extra", slot(2020, 5, 19, hours=(11, 13)))
    first = plan(TOPICS, others=[extra])
    assert [p.slot for p in first.scheduled][1] == slot(2020, 5, 26)


def test_topics_beyond_the_year_s_slots_are_left_unplaced():
    many = [*TOPICS, Topic("t6", "Sujet 6", "Question 6 ?")]
    first = plan(many)
    assert len(first.scheduled) == 5
    assert [t.topic_id for t in first.unplaced] == ["t6"]


def test_a_topic_listed_twice_gets_one_session():
    first = plan([TOPICS[0], TOPICS[0], TOPICS[1]])
    assert [p.topic.topic_id for p in first.scheduled] == ["t1", "t2"]


def test_a_session_moved_by_hand_into_the_next_year_still_belongs_to_its_programme():
    current = sessions_of(plan(TOPICS))
    current[4] = replace(current[4], slot=slot(2021, 1, 12), sequence=1, pinned=True)
    assert plan(TOPICS, current=current) == ProgrammePlan()
