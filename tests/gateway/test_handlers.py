"""Gateway handlers, without Kafka: the sessions projection, places, erasure.

Each test runs on both units of work (the `backend` fixture): in memory, and MongoDB's
through the real inbox, which holds the fake to the real repositories.
"""

from __future__ import annotations

from datetime import timedelta

from services.gateway import handlers
from shared.identity import person_key
from tests.gateway.support import (
    DEPS,
    NOW,
    cancelled,
    enrolled,
    rescheduled,
    scheduled,
    withdrawn,
)
from tests.harness.data import event, texts

START = NOW + timedelta(days=10)
LATER = START + timedelta(days=7)


async def session(backend, session_id: str):
    async with backend.unit() as uow:
        return await uow.sessions.find(session_id)


async def places(backend, *session_ids: str):
    async with backend.unit() as uow:
        return await uow.places.enrolled(session_ids)


# --- the sessions projection ----------------------------------------------------------


async def test_a_scheduled_session_is_kept_with_what_the_pages_show(backend):
    emitted = await backend.run(handlers.track_session, scheduled("s1", starts_at=START), DEPS)

    stored = await session(backend, "s1")
    assert emitted == []
    assert (stored.title, stored.topic_id, stored.starts_at) == ("Séance s1", "topic-s1", START)
    assert (stored.sequence, stored.cancelled, stored.changed_at) == (0, False, NOW)


async def test_the_highest_sequence_wins_whatever_the_order_of_the_topics(backend):
    await backend.run(handlers.track_session, rescheduled("s1", starts_at=LATER, sequence=1), DEPS)
    await backend.run(handlers.track_session, scheduled("s1", starts_at=START), DEPS)

    stored = await session(backend, "s1")
    assert (stored.starts_at, stored.sequence) == (LATER, 1)


async def test_a_cancellation_is_final_even_when_read_before_the_schedule(backend):
    await backend.run(handlers.close_session, cancelled("s1", starts_at=START, sequence=1), DEPS)
    await backend.run(handlers.track_session, scheduled("s1", starts_at=START), DEPS)
    await backend.run(handlers.track_session, rescheduled("s1", starts_at=LATER, sequence=2), DEPS)

    stored = await session(backend, "s1")
    assert (stored.cancelled, stored.sequence, stored.starts_at) == (True, 1, START)


async def test_a_late_cancellation_of_an_older_version_keeps_the_newest_details(backend):
    await backend.run(handlers.track_session, rescheduled("s1", starts_at=LATER, sequence=2), DEPS)
    await backend.run(handlers.close_session, cancelled("s1", starts_at=START, sequence=1), DEPS)

    stored = await session(backend, "s1")
    assert (stored.cancelled, stored.sequence, stored.starts_at) == (True, 2, LATER)


async def test_sessions_are_listed_from_a_moment_earliest_first(backend):
    for session_id, days in (("late", 30), ("past", -3), ("soon", 2)):
        data = scheduled(session_id, starts_at=NOW + timedelta(days=days))
        await backend.run(handlers.track_session, data, DEPS)

    async with backend.unit() as uow:
        found = await uow.sessions.starting_from(NOW, limit=10)

    assert [s.session_id for s in found] == ["soon", "late"]


# --- places -----------------------------------------------------------------------------


async def test_only_participants_holding_a_place_count(backend):
    await backend.run(handlers.take_place, enrolled("s1", "p1"), DEPS)
    await backend.run(handlers.take_place, enrolled("s1", "p2"), DEPS)
    await backend.run(handlers.take_place, enrolled("s1", "p3", status="waitlisted"), DEPS)
    await backend.run(handlers.take_place, enrolled("s2", "p4"), DEPS)
    await backend.run(handlers.free_place, withdrawn("s1", "p1"), DEPS)

    assert await places(backend, "s1", "s2", "s3") == {"s1": 1, "s2": 1}


async def test_a_promotion_from_the_waitlist_takes_a_place(backend):
    await backend.run(handlers.take_place, enrolled("s1", "p1", status="waitlisted"), DEPS)
    promotion = enrolled("s1", "p1", status="enrolled", promoted=True)
    await backend.run(handlers.take_place, promotion, DEPS)

    assert await places(backend, "s1") == {"s1": 1}


async def test_a_waitlisting_read_after_its_promotion_leaves_the_place_taken(backend):
    promotion = enrolled("s1", "p1", status="enrolled", promoted=True)
    await backend.run(handlers.take_place, promotion, DEPS)
    await backend.run(handlers.take_place, enrolled("s1", "p1", status="waitlisted"), DEPS)

    assert await places(backend, "s1") == {"s1": 1}


async def test_a_withdrawal_read_before_its_enrolment_still_frees_the_place(backend):
    await backend.run(handlers.free_place, withdrawn("s1", "p1"), DEPS)
    await backend.run(handlers.take_place, enrolled("s1", "p1"), DEPS)

    assert await places(backend, "s1") == {}


async def test_the_gateway_keeps_no_address_of_the_participants(backend):
    await backend.run(handlers.take_place, enrolled("s1", "p1"), DEPS)
    await backend.run(handlers.free_place, withdrawn("s1", "p2"), DEPS)

    if backend.name == "mongodb":
        stored = [
            doc
            for name in await backend.db.list_collection_names()
            async for doc in backend.db[name].find({})
        ]
    else:
        async with backend.unit() as uow:
            stored = [repr(p) for p in uow.places.by_id.values()]
    assert stored
    assert not [text for text in texts(stored) if "@" in text]


# --- links and confirmations -----------------------------------------------------------


async def test_a_used_link_keeps_its_first_use(backend):
    from services.gateway.records import UsedLink

    async with backend.unit() as uow:
        await uow.links.add(UsedLink("link-1", "cancel", NOW))
        await uow.links.add(UsedLink("link-1", "rate", NOW + timedelta(hours=1)))
        used = await uow.links.find("link-1")
        unused = await uow.links.find("link-2")

    assert used == UsedLink("link-1", "cancel", NOW)
    assert unused is None


async def test_confirmations_are_counted_per_person_and_hour(backend):
    ana, bob = person_key("ana@commune.fr"), person_key("bob@commune.fr")
    hour, next_hour = NOW, NOW + timedelta(hours=1)
    async with backend.unit() as uow:
        taken = [await uow.confirmations.take(ana, hour, limit=2) for _ in range(3)]
        other_person = await uow.confirmations.take(bob, hour, limit=2)
        next_one = await uow.confirmations.take(ana, next_hour, limit=2)

    assert (taken, other_person, next_one) == ([True, True, False], True, True)


async def test_an_erased_person_loses_their_confirmation_counters(backend):
    ana, bob = person_key("ana@commune.fr"), person_key("bob@commune.fr")
    async with backend.unit() as uow:
        for person in (ana, ana, bob):
            await uow.confirmations.take(person, NOW, limit=2)

    erased = event("person_erased", {"person": ana})
    emitted = await backend.run(handlers.forget_person, erased, DEPS)

    async with backend.unit() as uow:
        ana_again = await uow.confirmations.take(ana, NOW, limit=1)
        bob_again = await uow.confirmations.take(bob, NOW, limit=1)
    assert (emitted, ana_again, bob_again) == ([], True, False)
