"""The reminder timer, without Kafka: late reminders, publishing failures, leases.

Each test runs on both storages (the `backend` fixture): the timer's store in memory,
sharing the unit of work's reminders, and MongoDB's, outside transactions as in the
service. The lease runs on a wall clock of the test's own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduling import events
from services.scheduling.timer import LEASE, emit_due_reminders
from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.requests import schedule_day

WALL = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


async def test_a_late_j7_is_superseded_by_the_j1_and_a_started_sessions_reminder_is_missed(
    backend, deps, clock, sent
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    await schedule_day(backend, deps, 1, 9, "Commencée")

    clock.set(paris(2020, 1, 20, 11))  # both reminders of the launch are due
    published = await emit_due_reminders(deps.timer)

    assert published == 1
    assert [(e.data.title, e.data.remind) for e in sent.events] == [("Lancement", "J-1")]
    assert await emit_due_reminders(deps.timer) == 0  # every claim was closed


async def test_a_reminder_that_could_not_be_published_is_published_at_the_next_poll(
    backend, deps, clock, sent
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    clock.set(paris(2020, 1, 14, 10))
    sent.down = True

    with pytest.raises(ConnectionError):
        await emit_due_reminders(deps.timer)
    sent.down = False
    published = await emit_due_reminders(deps.timer)

    assert published == 1
    assert [(e.data.title, e.data.remind) for e in sent.events] == [("Lancement", "J-7")]


async def test_a_claim_left_by_a_dead_instance_is_taken_over_after_its_lease_with_the_same_id(
    backend, deps, clock, sent
):
    launch = await schedule_day(backend, deps, 1, 21, "Lancement")
    clock.set(paris(2020, 1, 14, 10))
    wall = FakeClock(WALL)
    store = deps.timer.reminders
    alive = replace(deps.timer, owner="alive", wall_clock=wall)
    claimed = await store.claim_due(now=clock(), owner="dead", wall_clock=wall(), lease=LEASE)

    during_the_lease = await emit_due_reminders(alive)
    wall.set(WALL + LEASE + timedelta(seconds=1))
    after_the_lease = await emit_due_reminders(alive)

    assert claimed is not None
    assert (claimed.kind, claimed.sequence, claimed.owner) == ("J-7", 0, "dead")
    assert (during_the_lease, after_the_lease) == (0, 1)
    [reminder] = sent.events
    async with backend.unit() as uow:
        session = await uow.sessions.find(launch.data.session_id)
    assert session is not None
    expected = events.reminder_due(session, kind="J-7", due_at=paris(2020, 1, 14, 10))
    assert reminder.id == expected.id  # consumers deduplicate the re-published reminder


async def test_an_instance_that_lost_its_claim_can_neither_release_nor_close_it(
    backend, deps, clock
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    clock.set(paris(2020, 1, 14, 10))
    store, now, later = deps.timer.reminders, clock(), WALL + 2 * LEASE
    lost = await store.claim_due(now=now, owner="slow", wall_clock=WALL, lease=LEASE)
    taken = await store.claim_due(now=now, owner="other", wall_clock=later, lease=LEASE)
    assert lost is not None
    assert taken is not None

    await store.release(lost)  # too late: "other" holds it
    while_held = await store.claim_due(now=now, owner="third", wall_clock=later, lease=LEASE)
    await store.finish(lost, "void")  # too late as well
    await store.release(taken)  # "other" could not publish: it gives the claim back
    given_back = await store.claim_due(now=now, owner="third", wall_clock=later, lease=LEASE)

    assert taken.reminder_id == lost.reminder_id
    assert while_held is None
    assert given_back is not None
    assert given_back.reminder_id == lost.reminder_id


async def test_two_timers_never_get_the_same_reminder(backend, deps, clock):
    for day in (17, 18):
        await schedule_day(backend, deps, 2, day, f"S{day}")
    clock.set(paris(2020, 2, 11, 10))  # both J-7 are due
    store = deps.timer.reminders
    now = clock()

    first = await store.claim_due(now=now, owner="a", wall_clock=WALL, lease=LEASE)
    second = await store.claim_due(now=now, owner="b", wall_clock=WALL, lease=LEASE)
    third = await store.claim_due(now=now, owner="a", wall_clock=WALL, lease=LEASE)

    assert first is not None
    assert second is not None
    assert first.reminder_id != second.reminder_id
    assert first.due_at < second.due_at  # the earliest first
    assert third is None
