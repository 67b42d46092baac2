"""The session timer, without Kafka: late reminders, publishing failures, leases, and the
digest of questions (due, taken once, re-published with its id after a crash).

Each test runs on both storages (the `backend` fixture): the timer's store in memory,
sharing the unit of work's reminders, and MongoDB's, outside transactions as in the
service. The lease runs on a wall clock of the test's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scheduling import events
from services.scheduling.timer import LEASE, emit_due
from shared.contract import derived_id
from shared.kafka import Emission
from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.conftest import Sent
from tests.scheduling.requests import ask, question, schedule_day

WALL = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def reminders(sent: Sent) -> list[Any]:
    """The reminders the timer published (not the digests)."""
    return [e for e in sent.events if e.type == "session_reminder_due"]


async def test_a_late_j7_is_superseded_by_the_j1_and_a_started_sessions_reminder_is_missed(
    backend, deps, clock, sent
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    await schedule_day(backend, deps, 1, 9, "Commencée")

    clock.set(paris(2020, 1, 20, 11))  # both reminders of the launch are due
    published = await emit_due(deps.timer)

    assert published == 2  # the J-1, and the launch's digest of questions (due on the 18th)
    assert [(e.data.title, e.data.remind) for e in reminders(sent)] == [("Lancement", "J-1")]
    assert await emit_due(deps.timer) == 0  # every claim was closed


async def test_a_reminder_that_could_not_be_published_is_published_at_the_next_poll(
    backend, deps, clock, sent
):
    await schedule_day(backend, deps, 1, 21, "Lancement")
    clock.set(paris(2020, 1, 14, 10))
    sent.down = True

    with pytest.raises(ConnectionError):
        await emit_due(deps.timer)
    sent.down = False
    published = await emit_due(deps.timer)

    assert published == 1
    assert [(e.data.title, e.data.remind) for e in sent.events] == [("Lancement", "J-7")]


async def test_a_claim_left_by_a_dead_instance_is_taken_over_after_its_lease_with_the_same_id(
    backend, deps, clock, sent
):
    launch = await schedule_day(backend, deps, 1, 21, "Lancement")
    clock.set(paris(2020, 1, 14, 10))
    wall = FakeClock(WALL)
    store = deps.timer.entries
    alive = replace(deps.timer, owner="alive", wall_clock=wall)
    claimed = await store.claim_due(now=clock(), owner="dead", wall_clock=wall(), lease=LEASE)

    during_the_lease = await emit_due(alive)
    wall.set(WALL + LEASE + timedelta(seconds=1))
    after_the_lease = await emit_due(alive)

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
    store, now, later = deps.timer.entries, clock(), WALL + 2 * LEASE
    lost = await store.claim_due(now=now, owner="slow", wall_clock=WALL, lease=LEASE)
    taken = await store.claim_due(now=now, owner="other", wall_clock=later, lease=LEASE)
    assert lost is not None
    assert taken is not None

    await store.release(lost)  # too late: "other" holds it
    while_held = await store.claim_due(now=now, owner="third", wall_clock=later, lease=LEASE)
    await store.finish(lost, "void")  # too late as well
    await store.release(taken)  # "other" could not publish: it gives the claim back
    given_back = await store.claim_due(now=now, owner="third", wall_clock=later, lease=LEASE)

    assert taken.entry_id == lost.entry_id
    assert while_held is None
    assert given_back is not None
    assert given_back.entry_id == lost.entry_id


async def test_two_timers_never_get_the_same_reminder(backend, deps, clock):
    for day in (17, 18):
        await schedule_day(backend, deps, 2, day, f"S{day}")
    clock.set(paris(2020, 2, 11, 10))  # both J-7 are due
    store = deps.timer.entries
    now = clock()

    first = await store.claim_due(now=now, owner="a", wall_clock=WALL, lease=LEASE)
    second = await store.claim_due(now=now, owner="b", wall_clock=WALL, lease=LEASE)
    third = await store.claim_due(now=now, owner="a", wall_clock=WALL, lease=LEASE)

    assert first is not None
    assert second is not None
    assert first.entry_id != second.entry_id
    assert first.due_at < second.due_at  # the earliest first
    assert third is None


# --- the digest of questions ----------------------------------------------------------------


async def test_a_digest_taken_by_an_instance_that_died_is_published_after_its_lease_as_taken(
    backend, deps, clock, sent
):
    session_id = (await schedule_day(backend, deps, 1, 21, "Lancement")).data.session_id
    await ask(backend, deps, question(session_id, "Avant"))
    clock.set(paris(2020, 1, 18, 10))
    wall = FakeClock(WALL)
    alive = replace(deps.timer, owner="alive", wall_clock=wall)
    store = deps.timer.entries
    # The dead instance claimed the digest and took it, then was killed before publishing.
    claimed = await store.claim_due(now=clock(), owner="dead", wall_clock=wall(), lease=LEASE)
    while claimed is not None and claimed.kind != "digest":
        await store.finish(claimed, "done")  # the launch's J-7, out of the way
        claimed = await store.claim_due(now=clock(), owner="dead", wall_clock=wall(), lease=LEASE)
    assert claimed is not None
    await deps.timer.digests.take(session_id, at=clock())
    [forwarded] = await ask(backend, deps, question(session_id, "Pendant"))  # taken: forwarded

    during_the_lease = await emit_due(alive)
    wall.set(WALL + LEASE + timedelta(seconds=1))
    after_the_lease = await emit_due(alive)
    afterwards = await emit_due(alive)

    assert forwarded.data.asked.question == "Pendant"
    assert (during_the_lease, after_the_lease, afterwards) == (0, 1, 0)
    [digest] = digests(sent)
    assert digest.id == derived_id(session_id, "question_digest_due", "digest")
    assert [q.question for q in digest.data.questions] == ["Avant"]  # as it was taken
    assert digest.time == paris(2020, 1, 18, 10)


async def test_a_digest_that_could_not_be_published_goes_out_at_the_next_poll_with_its_id(
    backend, deps, clock, sent
):
    session_id = (await schedule_day(backend, deps, 1, 21, "Lancement")).data.session_id
    await ask(backend, deps, question(session_id, "Avant"))
    clock.set(paris(2020, 1, 14, 10))
    await emit_due(deps.timer)  # the J-7
    clock.set(paris(2020, 1, 18, 10))
    sent.down = True

    with pytest.raises(ConnectionError):
        await emit_due(deps.timer)  # the digest is taken, then cannot be published
    sent.down = False
    clock.set(paris(2020, 1, 18, 11))
    [forwarded] = await ask(backend, deps, question(session_id, "Entre-temps"))
    await emit_due(deps.timer)

    [digest] = digests(sent)
    assert digest.id == derived_id(session_id, "question_digest_due", "digest")
    assert [q.question for q in digest.data.questions] == ["Avant"]
    assert digest.time == paris(2020, 1, 18, 10)  # when it was taken
    assert forwarded.data.asked.question == "Entre-temps"  # asked once it was taken


async def test_a_digest_published_just_before_the_timer_stopped_goes_again_with_the_same_id(
    backend, deps, clock, sent
):
    session_id = (await schedule_day(backend, deps, 1, 21, "Lancement")).data.session_id
    await ask(backend, deps, question(session_id, "Avant"))
    clock.set(paris(2020, 1, 18, 10))
    stopping = replace(deps.timer, publisher=StopsAfterPublishing(sent))

    with pytest.raises(asyncio.CancelledError):
        await emit_due(stopping)  # the J-7 goes, then the digest, then it stops
    clock.set(paris(2020, 1, 18, 10, 1))
    republished = await emit_due(deps.timer)
    afterwards = await emit_due(deps.timer)

    first, again = digests(sent)
    assert (republished, afterwards) == (1, 0)
    assert first.id == again.id == derived_id(session_id, "question_digest_due", "digest")
    assert first.to_json() == again.to_json()  # the same bytes: consumers keep one


class StopsAfterPublishing:
    """A publisher that publishes, then is cancelled (the service stopping) before the
    timer confirms the digest: the claim is given back, the digest not confirmed."""

    def __init__(self, sent: Sent) -> None:
        self.sent = sent

    async def publish(self, emissions: Sequence[Emission]) -> None:
        await self.sent.publish(emissions)
        if any(e.event_type == "question_digest_due" for e in emissions):
            raise asyncio.CancelledError


def digests(sent: Sent) -> list[Any]:
    """The digests the timer published."""
    return [e for e in sent.events if e.type == "question_digest_due"]
