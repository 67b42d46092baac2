"""Scheduling handlers, without Kafka: requests, programme versions, reminders re-planned.

Each test runs on both units of work (the `backend` fixture): in memory, and MongoDB's
through the real inbox, which holds the fake to the real repositories. The clock says
Monday 6 January 2020, 9:00 in Paris, until a test moves it; reminders are observed
through the reminder timer, run by hand (`emit_due`).
"""

from __future__ import annotations

import asyncio

import pytest

from services.scheduling import handlers
from services.scheduling.timer import emit_due
from shared.contract import derived_id
from tests.harness.data import event
from tests.scheduling.builders import WEBCONFERENCE, paris
from tests.scheduling.requests import (
    KEY,
    by_topic,
    cancel,
    publish_programme,
    reschedule,
    schedule,
    schedule_day,
)

THIRD_TUESDAYS = [paris(2020, m, d) for m, d in ((3, 17), (5, 19), (7, 21), (9, 15), (11, 17))]
TOPICS = ["t1", "t2", "t3", "t4", "t5"]


async def reminders_due(deps) -> list[tuple[str, str, int]]:
    """Run the timer once: (title, kind, sequence) of the reminders it published (not the
    digests of questions, see test_cycle.py)."""
    before = len(deps.timer.publisher.events)
    await emit_due(deps.timer)
    return [
        (r.data.title, r.data.remind, r.data.sequence)
        for r in deps.timer.publisher.events[before:]
        if r.type == "session_reminder_due"
    ]


# --- schedule --------------------------------------------------------------------------


async def test_a_requested_session_is_scheduled_with_an_unguessable_link(backend, deps):
    request = event(
        "session_schedule_requested",
        {
            "title": "Gouvernance",
            "question": "Qui décide ?",
            "starts_at": "2020-02-04T09:00:00Z",
            "ends_at": "2020-02-04T11:00:00.700Z",
        },
        subject=KEY,
    )
    [scheduled] = await backend.run(handlers.schedule_session, request, deps)

    session_id = derived_id(request.id, "session")
    assert (scheduled.type, scheduled.subject) == ("session_scheduled", session_id)
    assert scheduled.data.session_id == session_id
    # Kept in Paris time, to the second.
    assert (scheduled.data.starts_at, scheduled.data.ends_at) == (
        paris(2020, 2, 4, 10),
        paris(2020, 2, 4, 12),
    )
    assert scheduled.data.starts_at.utcoffset() == paris(2020, 2, 4).utcoffset()
    assert (scheduled.data.sequence, scheduled.data.topic_id) == (0, None)
    link = scheduled.data.join_url.removeprefix(WEBCONFERENCE + "/pat-")
    assert link != scheduled.data.join_url
    assert len(link) == 24
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert stored.live
    assert stored.programme_year is None
    assert (stored.slot.starts_at, stored.join_url) == (
        paris(2020, 2, 4, 10),
        scheduled.data.join_url,
    )


async def test_a_given_link_is_kept_and_every_other_session_gets_its_own(backend, deps):
    given = await schedule(
        backend, deps, paris(2020, 2, 4, 10), paris(2020, 2, 4, 12), join_url="https://v.fr/g"
    )
    others = [await schedule_day(backend, deps, 2, day, f"S{day}") for day in (5, 6)]

    assert given.data.join_url == "https://v.fr/g"
    assert len({o.data.join_url for o in others}) == 2


@pytest.mark.parametrize(
    ("start", "end", "reason", "detail"),
    [
        (paris(2020, 2, 4, 11), paris(2020, 2, 4, 13), "overlap", "Gouvernance"),
        (paris(2020, 4, 13, 10), paris(2020, 4, 13, 12), "public_holiday", "Lundi de Pâques"),
        (paris(2020, 2, 6, 9), paris(2020, 2, 6, 11, 30), "too_long", "deux heures"),
        (paris(2019, 12, 3, 10), paris(2019, 12, 3, 12), "past_session", "03/12/2019"),
        (paris(2020, 2, 6, 12), paris(2020, 2, 6, 10), "ends_before_start", "fin"),
    ],
)
async def test_a_slot_that_breaks_a_rule_is_rejected_and_nothing_is_stored(
    backend, deps, start, end, reason, detail
):
    await schedule_day(backend, deps, 2, 4, "Gouvernance")

    rejected = await schedule(backend, deps, start, end, "Refusée")

    assert rejected.type == "session_rejected"
    assert (rejected.data.request_type, rejected.data.reason) == (
        "session_schedule_requested",
        reason,
    )
    assert detail in rejected.data.detail
    assert (rejected.subject, rejected.data.session_id) == (KEY, None)  # keyed as its request
    async with backend.unit() as uow:
        titles = [s.title for s in await uow.sessions.live_in_year(start.year)]
    assert "Refusée" not in titles


async def test_back_to_back_sessions_are_fine_and_a_cancelled_one_frees_its_slot(backend, deps):
    morning = await schedule_day(backend, deps, 2, 4, "Matin")
    afternoon = await schedule(backend, deps, paris(2020, 2, 4, 12), paris(2020, 2, 4, 14), "Midi")
    await cancel(backend, deps, morning.data.session_id)
    again = await schedule_day(backend, deps, 2, 4, "Matin, autrement")

    assert [afternoon.type, again.type] == ["session_scheduled", "session_scheduled"]
    async with backend.unit() as uow:
        live = await uow.sessions.live_in_year(2020)
    assert [s.title for s in live] == ["Matin, autrement", "Midi"]  # earliest first


async def test_the_same_request_sent_again_under_another_id_overlaps_the_first(backend, deps):
    first = await schedule_day(backend, deps, 2, 4, "Gouvernance")
    second = await schedule_day(backend, deps, 2, 4, "Gouvernance")

    assert (first.type, second.type) == ("session_scheduled", "session_rejected")
    assert second.data.reason == "overlap"


async def test_overlapping_requests_handled_at_the_same_time_schedule_one_session(backend, deps):
    # Every collection exists by now, as in the service: only the calendar lock makes the
    # two transactions conflict (MongoDB's snapshot isolation allows that write skew).
    await schedule_day(backend, deps, 2, 6, "Avant")

    outcomes = await asyncio.gather(
        *(
            schedule(backend, deps, paris(2020, 2, 4, 10 + hour), paris(2020, 2, 4, 12 + hour))
            for hour in (0, 1)
        )
    )

    assert sorted(o.type for o in outcomes) == ["session_rejected", "session_scheduled"]
    async with backend.unit() as uow:
        live = await uow.sessions.live_in_year(2020)
    assert [s.title for s in live] == ["Gouvernance", "Avant"]


# --- reschedule -----------------------------------------------------------------------


async def test_a_session_moved_by_hand_gets_a_new_sequence_and_is_pinned(backend, deps):
    scheduled = await schedule_day(backend, deps, 2, 4, "Gouvernance")
    session_id = scheduled.data.session_id

    [moved] = await reschedule(
        backend, deps, session_id, paris(2020, 2, 11, 14), paris(2020, 2, 11, 16)
    )

    assert (moved.type, moved.subject) == ("session_rescheduled", session_id)
    assert (moved.data.starts_at, moved.data.previous_starts_at) == (
        paris(2020, 2, 11, 14),
        paris(2020, 2, 4, 10),
    )
    assert (moved.data.sequence, moved.data.join_url) == (1, scheduled.data.join_url)
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert (stored.sequence, stored.pinned) == (1, True)


async def test_a_move_to_the_same_slot_changes_nothing_and_a_move_onto_its_own_hours_is_fine(
    backend, deps
):
    session_id = (await schedule_day(backend, deps, 2, 4, "Gouvernance")).data.session_id

    same = await reschedule(backend, deps, session_id, paris(2020, 2, 4, 10), paris(2020, 2, 4, 12))
    later = await reschedule(
        backend, deps, session_id, paris(2020, 2, 4, 11), paris(2020, 2, 4, 13)
    )

    assert same == []
    assert [(e.type, e.data.sequence) for e in later] == [("session_rescheduled", 1)]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unknown", "unknown_session"),
        ("cancelled", "cancelled_session"),
        ("started", "past_session"),
        ("onto another", "overlap"),
        ("onto a holiday", "public_holiday"),
    ],
)
async def test_a_move_that_cannot_be_made_is_rejected_and_changes_nothing(
    backend, deps, clock, case, reason
):
    session_id = (await schedule_day(backend, deps, 2, 4, "Gouvernance")).data.session_id
    await schedule_day(backend, deps, 2, 11, "Autre")
    start, end = paris(2020, 2, 18, 10), paris(2020, 2, 18, 12)
    if case == "unknown":
        session_id = "no-such-session"
    elif case == "cancelled":
        await cancel(backend, deps, session_id)
    elif case == "started":
        clock.set(paris(2020, 2, 4, 10, 30))
    elif case == "onto another":
        start, end = paris(2020, 2, 11, 11), paris(2020, 2, 11, 13)
    else:
        start, end = paris(2020, 5, 1, 10), paris(2020, 5, 1, 12)

    [rejected] = await reschedule(backend, deps, session_id, start, end)

    assert (rejected.type, rejected.data.reason) == ("session_rejected", reason)
    assert rejected.data.request_type == "session_reschedule_requested"
    assert rejected.subject == rejected.data.session_id == session_id
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is None or stored.slot.starts_at == paris(2020, 2, 4, 10)


# --- cancel ---------------------------------------------------------------------------


async def test_a_cancelled_session_gets_a_new_sequence_and_cannot_be_changed_again(backend, deps):
    session_id = (await schedule_day(backend, deps, 2, 4, "Gouvernance")).data.session_id
    [moved] = await reschedule(
        backend, deps, session_id, paris(2020, 2, 11, 10), paris(2020, 2, 11, 12)
    )

    [cancelled] = await cancel(backend, deps, session_id, "Intervenante indisponible")
    [again] = await cancel(backend, deps, session_id)
    [move] = await reschedule(
        backend, deps, session_id, paris(2020, 2, 18, 10), paris(2020, 2, 18, 12)
    )

    assert (cancelled.type, cancelled.subject) == ("session_cancelled", session_id)
    assert (cancelled.data.sequence, cancelled.data.reason) == (2, "Intervenante indisponible")
    assert cancelled.data.starts_at == moved.data.starts_at
    assert [again.data.reason, move.data.reason] == ["cancelled_session", "cancelled_session"]
    assert again.data.request_type == "session_cancel_requested"
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert (stored.status, stored.cancel_reason) == (
        "cancelled",
        "Intervenante indisponible",
    )


@pytest.mark.parametrize(
    ("case", "reason"), [("unknown", "unknown_session"), ("started", "past_session")]
)
async def test_an_unknown_or_started_session_cannot_be_cancelled(
    backend, deps, clock, case, reason
):
    session_id = (await schedule_day(backend, deps, 2, 4, "Gouvernance")).data.session_id
    if case == "unknown":
        session_id = "no-such-session"
    else:
        clock.set(paris(2020, 2, 4, 10))

    [rejected] = await cancel(backend, deps, session_id)

    assert (rejected.data.reason, rejected.data.session_id) == (reason, session_id)


# --- the programme ----------------------------------------------------------------------


async def test_a_programme_places_its_topics_on_the_cadence_of_the_years_launch(backend, deps):
    launch = await schedule_day(backend, deps, 1, 21, "Lancement")

    emitted = await publish_programme(backend, deps, 1, TOPICS)

    assert [e.type for e in emitted] == ["session_scheduled"] * 5
    assert [(e.data.topic_id, e.data.starts_at) for e in emitted] == list(
        zip(TOPICS, THIRD_TUESDAYS, strict=True)
    )
    assert {(e.data.sequence, e.data.ends_at - e.data.starts_at) for e in emitted} == {
        (0, launch.data.ends_at - launch.data.starts_at)
    }
    assert len({e.data.join_url for e in [*emitted, launch]}) == 6
    assert all(e.subject == e.data.session_id for e in emitted)
    async with backend.unit() as uow:
        assert await uow.programmes.applied_version(2020) == 1
        stored = await uow.sessions.find(emitted[0].data.session_id)
    assert stored is not None
    assert (stored.programme_year, stored.title) == (2020, "Sujet t1")


async def test_without_a_requested_launch_the_third_tuesday_of_january_launches_the_year(
    backend, deps
):
    emitted = await publish_programme(backend, deps, 1, TOPICS, year=2021)

    assert [e.data.starts_at for e in emitted] == [
        paris(2021, m, d) for m, d in ((3, 16), (5, 18), (7, 20), (9, 21), (11, 16))
    ]


async def test_a_programme_version_already_applied_or_older_changes_nothing(backend, deps):
    await publish_programme(backend, deps, 2, TOPICS)

    assert await publish_programme(backend, deps, 2, ["t9"]) == []
    assert await publish_programme(backend, deps, 1, ["t9"]) == []
    async with backend.unit() as uow:
        assert await uow.programmes.applied_version(2020) == 2
        assert len(await uow.sessions.live_in_year(2020)) == 5


async def test_a_new_version_moves_cancels_and_adds_sessions_keeping_their_ids(backend, deps):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    first = by_topic(await publish_programme(backend, deps, 1, TOPICS), "session_scheduled")

    emitted = await publish_programme(backend, deps, 2, ["t2", "t1", "t3", "t4", "t6"])

    assert [(e.type, e.data.topic_id) for e in emitted] == [
        ("session_cancelled", "t5"),  # cancellations first: they free their slots
        ("session_rescheduled", "t2"),
        ("session_rescheduled", "t1"),
        ("session_scheduled", "t6"),
    ]
    cancelled, *moved, added = (e.data for e in emitted)
    assert (cancelled.session_id, cancelled.sequence) == (first["t5"].session_id, 1)
    assert cancelled.reason == "Retirée du programme 2020 (version 2)."
    assert [(m.session_id, m.starts_at, m.previous_starts_at, m.sequence) for m in moved] == [
        (first["t2"].session_id, THIRD_TUESDAYS[0], THIRD_TUESDAYS[1], 1),
        (first["t1"].session_id, THIRD_TUESDAYS[1], THIRD_TUESDAYS[0], 1),
    ]
    assert [m.join_url for m in moved] == [first["t2"].join_url, first["t1"].join_url]
    assert added.starts_at == THIRD_TUESDAYS[4]
    assert added.session_id not in {s.session_id for s in first.values()}


async def test_a_programme_session_moved_by_hand_keeps_its_slot_in_a_new_version(backend, deps):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    first = by_topic(await publish_programme(backend, deps, 1, TOPICS), "session_scheduled")
    t1 = first["t1"].session_id
    await reschedule(backend, deps, t1, paris(2020, 3, 24, 14), paris(2020, 3, 24, 16))

    emitted = await publish_programme(backend, deps, 2, ["t2", "t1", "t3", "t4", "t5"])

    assert [(e.type, e.data.topic_id, e.data.starts_at) for e in emitted] == [
        ("session_rescheduled", "t2", THIRD_TUESDAYS[0])
    ]
    async with backend.unit() as uow:
        stored = await uow.sessions.find(t1)
    assert stored is not None
    assert stored.slot.starts_at == paris(2020, 3, 24, 14)


async def test_a_programme_session_moved_into_the_next_year_still_belongs_to_its_programme(
    backend, deps
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    first = by_topic(await publish_programme(backend, deps, 1, TOPICS), "session_scheduled")
    t5 = first["t5"].session_id
    await reschedule(backend, deps, t5, paris(2021, 1, 12, 10), paris(2021, 1, 12, 12))

    emitted = await publish_programme(backend, deps, 2, TOPICS)

    assert emitted == []  # t5 is not scheduled twice, nor moved back
    async with backend.unit() as uow:
        assert [s.session_id for s in await uow.sessions.live_in_year(2021)] == [t5]


async def test_a_slot_taken_by_a_requested_session_moves_a_week_later(backend, deps):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    await schedule_day(backend, deps, 5, 19, "Atelier")

    emitted = await publish_programme(backend, deps, 1, TOPICS)

    assert by_topic(emitted, "session_scheduled")["t2"].starts_at == paris(2020, 5, 26)


async def test_topics_beyond_the_years_slots_are_rejected_with_no_slot(backend, deps):
    await schedule_day(backend, deps, 1, 21, "Lancement")

    emitted = await publish_programme(backend, deps, 1, [*TOPICS, "t6", "t7"])

    rejected = [e for e in emitted if e.type == "session_rejected"]
    assert len(emitted) - len(rejected) == 5
    assert [(r.subject, r.data.topic_id, r.data.reason) for r in rejected] == [
        ("t6", "t6", "no_slot"),
        ("t7", "t7", "no_slot"),
    ]
    assert {r.data.request_type for r in rejected} == {"programme_published"}
    assert "2020" in rejected[0].data.detail


# --- reminders, re-planned with every change ----------------------------------------------


async def test_a_scheduled_session_gets_its_j7_then_its_j1_each_once(backend, deps, clock):
    launch = await schedule_day(backend, deps, 1, 21, "Lancement")

    early = await reminders_due(deps)
    clock.set(paris(2020, 1, 14, 10))
    j7 = await reminders_due(deps)
    again = await reminders_due(deps)
    clock.set(paris(2020, 1, 20, 10))
    j1 = await reminders_due(deps)

    assert (early, j7, again, j1) == ([], [("Lancement", "J-7", 0)], [], [("Lancement", "J-1", 0)])
    first = next(e for e in deps.timer.publisher.events if e.type == "session_reminder_due")
    assert first.time == paris(2020, 1, 14, 10)  # due at the session's local hour
    assert (first.subject, first.data.join_url) == (launch.data.session_id, launch.data.join_url)


async def test_a_session_four_days_ahead_gets_only_its_j1(backend, deps, clock):
    await schedule_day(backend, deps, 1, 10, "Bientôt")

    clock.set(paris(2020, 1, 9, 10))

    assert await reminders_due(deps) == [("Bientôt", "J-1", 0)]


async def test_a_moved_session_has_its_reminders_replanned_for_its_new_sequence(
    backend, deps, clock
):
    session_id = (await schedule_day(backend, deps, 1, 21, "Lancement")).data.session_id
    clock.set(paris(2020, 1, 14, 10))
    sent_before_the_move = await reminders_due(deps)
    await reschedule(backend, deps, session_id, paris(2020, 2, 4, 10), paris(2020, 2, 4, 12))

    clock.set(paris(2020, 1, 20, 10))  # the first J-1 is void
    at_the_old_j1 = await reminders_due(deps)
    clock.set(paris(2020, 1, 28, 10))
    new_j7 = await reminders_due(deps)
    clock.set(paris(2020, 2, 3, 10))
    new_j1 = await reminders_due(deps)

    assert sent_before_the_move == [("Lancement", "J-7", 0)]
    assert at_the_old_j1 == []
    assert new_j7 + new_j1 == [("Lancement", "J-7", 1), ("Lancement", "J-1", 1)]
    [*_, last] = (e for e in deps.timer.publisher.events if e.type == "session_reminder_due")
    assert last.data.starts_at == paris(2020, 2, 4, 10)


async def test_a_session_cancelled_by_request_or_by_a_new_programme_sends_no_reminder(
    backend, deps, clock
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    cancelled = await schedule_day(backend, deps, 1, 28, "Annulée")
    await schedule_day(backend, deps, 1, 29, "Témoin")
    await schedule(backend, deps, paris(2020, 11, 17, 14), paris(2020, 11, 17, 16), "Contrôle")
    await cancel(backend, deps, cancelled.data.session_id)
    clock.set(paris(2020, 1, 22, 10))  # the J-7 of both are due
    in_january = await reminders_due(deps)
    await publish_programme(backend, deps, 1, TOPICS)
    await publish_programme(backend, deps, 2, TOPICS[:4])  # t5, on 17 November, is cancelled

    clock.set(paris(2020, 11, 16, 14))  # the J-1 of t5 and of the control session are due
    in_november = await reminders_due(deps)

    assert in_january == [("Témoin", "J-7", 0)]
    assert in_november == [("Contrôle", "J-1", 0)]
