"""The experts of a session, without Kafka: invitations (once per session and address),
refusals, answers and changes of mind, the session updated when its accepted experts
change, the notice of an expert's silence 7 days before the session, erasure, and the
experts carried by every later event about the session.

Each handler and timer test runs on both units of work (the `backend` fixture); the
timer is run by hand (`emit_due`). The clock says Monday 6 January 2020, 9:00 in Paris,
until a test moves it; the launch is on Tuesday 21 January, 10:00-12:00, so an invited
expert's silence is due on Tuesday 14 January, 10:00.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.scheduling import domain, events, handlers
from services.scheduling.domain import SessionExpert
from services.scheduling.timer import emit_due
from shared.contract import derived_id
from shared.identity import email_key, person_key
from tests.scheduling.builders import paris, session, slot
from tests.scheduling.conftest import Sent
from tests.scheduling.requests import (
    EXPERT,
    answer,
    ask,
    cancel,
    erase,
    invitation,
    invite,
    question,
    report,
    reschedule,
    response,
    schedule,
    schedule_day,
    share,
)

NO_ANSWER_DUE = paris(2020, 1, 14, 10)
OTHER = "marc.petit@cerema-exemple.fr"
NOW = paris(2020, 1, 6, 9)


async def launch(backend, deps) -> str:
    """The launch on 21 January 2020, 10:00-12:00: its session id."""
    scheduled = await schedule_day(backend, deps, 1, 21, "Lancement")
    return str(scheduled.data.session_id)


def notices(sent: Sent) -> list[Any]:
    """The notices of silence the timer published (not the reminders nor the digests)."""
    return [e for e in sent.events if e.type == "expert_no_answer"]


async def notices_due(deps) -> list[tuple[str, str]]:
    """Run the timer once: (session_id, email) of the notices of silence it published."""
    before = len(notices(deps.timer.publisher))
    await emit_due(deps.timer)
    return [(e.data.session_id, e.data.email) for e in notices(deps.timer.publisher)[before:]]


def named(event: Any) -> list[tuple[str, str, str, str]]:
    """The experts a session event names."""
    return [(e.first_name, e.last_name, e.organisation, e.expertise) for e in event.data.experts]


CLAIRE = ("Claire", "Dubois", "INRAE", "Restauration collective")
MARC = ("Marc", "Petit", "Cerema", "Foncier agricole")
AS_MARC = {"first_name": "Marc", "last_name": "Petit", "organisation": "Cerema"}


async def invite_marc(backend, deps, session_id: str) -> list[Any]:
    """Invite the second expert, Marc Petit."""
    return await invite(backend, deps, session_id, OTHER, **AS_MARC, expertise="Foncier agricole")


# --- pure rules ---------------------------------------------------------------------------


def test_the_silence_is_due_7_days_before_at_the_same_local_time_or_at_once_when_later():
    summer = session("s", slot(2020, 4, 2))  # daylight saving time begins on 29 March
    close = session("c", slot(2020, 1, 10))

    assert domain.no_answer_due(summer, now=NOW) == paris(2020, 3, 26, 10)
    assert domain.no_answer_due(close, now=NOW) == NOW
    assert domain.no_answer_due(close, now=paris(2020, 1, 10, 10)) is None  # started
    cancelled = domain.cancel(close, now=NOW, reason="Annulée")
    assert not isinstance(cancelled, domain.Rejection)
    assert domain.no_answer_due(cancelled, now=NOW) is None


def test_experts_are_named_in_the_order_they_accepted_and_bounded_in_events():
    claire = SessionExpert("p-1", *CLAIRE)
    marc = SessionExpert("p-2", *MARC)
    base = session("s", slot(2020, 1, 21))
    both = domain.with_experts(base, domain.accepted(base, claire))
    both = domain.with_experts(both, domain.accepted(both, marc))
    crowded = domain.with_experts(base, tuple(SessionExpert(f"p-{n}", *MARC) for n in range(25)))

    assert [e.person for e in both.experts] == ["p-1", "p-2"]
    assert both.sequence == 2
    assert domain.without(both, "p-1") == (marc,)
    assert len(events.scheduled(crowded, cause_id="c", now=NOW).data.experts) == 20


# --- invitations --------------------------------------------------------------------------


async def test_an_invitation_is_stored_and_sent_once_per_session_and_address(backend, deps):
    session_id = await launch(backend, deps)
    request = invitation(session_id)

    [invited] = await backend.run(handlers.invite_expert, request, deps)
    again = await invite(backend, deps, session_id, EXPERT.upper(), first_name="C.")
    redelivered = await backend.run(handlers.invite_expert, request, deps)

    assert (invited.type, invited.subject) == ("expert_invited", session_id)
    assert invited.id == derived_id(request.id, "expert_invited", session_id)
    assert invited.data.model_dump() == {
        "session_id": session_id,
        "email": EXPERT,
        "first_name": "Claire",
        "last_name": "Dubois",
        "organisation": "INRAE",
        "expertise": "Restauration collective",
        "message": "Votre regard sur les marchés publics nous aiderait.",
    }
    assert again == []  # the same person, another casing: one invitation
    assert [e.id for e in redelivered] == [invited.id]
    async with backend.unit() as uow:
        [stored] = await uow.invitations.of_session(session_id)
    assert (stored.email, stored.key, stored.person) == (
        EXPERT,
        email_key(EXPERT),
        person_key(EXPERT),
    )
    assert (stored.status, stored.first_name, stored.invited_at) == ("invited", "Claire", NOW)
    assert stored.message == "Votre regard sur les marchés publics nous aiderait."


async def test_invitations_are_refused_for_a_closed_session_or_an_invalid_address(
    backend, deps, clock
):
    session_id = await launch(backend, deps)
    started = await schedule_day(backend, deps, 1, 8, "Commencée")
    cancelled = await schedule_day(backend, deps, 1, 9, "Annulée")
    await cancel(backend, deps, cancelled.data.session_id)
    clock.set(paris(2020, 1, 8, 10, 30))

    refused = [
        *await invite(backend, deps, "no-such-session"),
        *await invite(backend, deps, session_id, "claire.dubois@"),
        *await invite(backend, deps, cancelled.data.session_id),
        *await invite(backend, deps, started.data.session_id),
    ]

    assert [(e.type, e.data.reason) for e in refused] == [
        ("expert_invitation_rejected", "unknown_session"),
        ("expert_invitation_rejected", "invalid"),
        ("expert_invitation_rejected", "cancelled_session"),
        ("expert_invitation_rejected", "past_session"),
    ]
    assert [e.data.detail for e in refused] == [
        "Cette session n'existe pas.",
        "L'adresse électronique « claire.dubois@ » n'est pas valide : "
        "il manque le nom de domaine après le signe @.",
        "Cette session est annulée.",
        "La session du 08/01/2020 10:00 a déjà eu lieu.",
    ]
    assert refused[1].data.email == "claire.dubois@"  # as given
    assert refused[0].subject == "no-such-session"
    async with backend.unit() as uow:
        for stored_session in (session_id, cancelled.data.session_id, started.data.session_id):
            assert await uow.invitations.of_session(stored_session) == []


async def test_a_declined_expert_invited_again_gets_a_new_invitation(backend, deps):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    await answer(backend, deps, session_id, "declined", note="Pas disponible ce jour-là.")

    [invited] = await invite(backend, deps, session_id, message="Et à distance ?")

    assert (invited.type, invited.data.message) == ("expert_invited", "Et à distance ?")
    async with backend.unit() as uow:
        stored = await uow.invitations.find(session_id, person_key(EXPERT))
    assert stored is not None
    assert (stored.status, stored.note, stored.answered_at) == ("invited", None, None)


# --- answers ------------------------------------------------------------------------------


async def test_an_acceptance_names_the_expert_in_a_session_update_with_the_same_slot(backend, deps):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    await invite_marc(backend, deps, session_id)

    accepted, update = await answer(
        backend, deps, session_id, "accepted", EXPERT.lower(), note="Avec plaisir."
    )
    _, second_update = await answer(backend, deps, session_id, "accepted", OTHER)

    assert (accepted.type, accepted.subject) == ("expert_accepted", session_id)
    assert (accepted.data.email, accepted.data.note) == (EXPERT, "Avec plaisir.")
    assert (accepted.data.first_name, accepted.data.expertise) == ("Claire", CLAIRE[3])
    assert (update.type, update.subject, update.data.change) == (
        "session_rescheduled",
        session_id,
        "experts",
    )
    assert (update.data.starts_at, update.data.previous_starts_at, update.data.ends_at) == (
        paris(2020, 1, 21, 10),
        paris(2020, 1, 21, 10),
        paris(2020, 1, 21, 12),
    )
    assert (update.data.sequence, named(update)) == (1, [CLAIRE])
    assert (second_update.data.sequence, named(second_update)) == (2, [CLAIRE, MARC])
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
        claire = await uow.invitations.find(session_id, person_key(EXPERT))
    assert stored is not None
    assert claire is not None
    assert [e.person for e in stored.experts] == [person_key(EXPERT), person_key(OTHER)]
    assert (claire.status, claire.note, claire.answered_at) == ("accepted", "Avec plaisir.", NOW)


async def test_a_decline_tells_the_coordinators_and_leaves_the_session_as_it_is(backend, deps):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)

    [declined] = await answer(backend, deps, session_id, "declined", note="Indisponible.")

    assert (declined.type, declined.data.note, declined.data.changed_mind) == (
        "expert_declined",
        "Indisponible.",
        False,
    )
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert (stored.sequence, stored.experts) == (0, ())


async def test_a_change_of_mind_takes_the_expert_off_the_session_and_back_on_at_the_end(
    backend, deps
):
    session_id = await launch(backend, deps)
    for invited in (invite, invite_marc):
        await invited(backend, deps, session_id)
    await answer(backend, deps, session_id, "accepted")
    await answer(backend, deps, session_id, "accepted", OTHER)

    declined, shrunk = await answer(backend, deps, session_id, "declined", note="Empêchée.")
    accepted, grown = await answer(backend, deps, session_id, "accepted")

    assert (declined.type, declined.data.changed_mind, declined.data.note) == (
        "expert_declined",
        True,
        "Empêchée.",
    )
    assert (shrunk.data.change, shrunk.data.sequence, named(shrunk)) == ("experts", 3, [MARC])
    assert accepted.type == "expert_accepted"
    assert (grown.data.sequence, named(grown)) == (4, [MARC, CLAIRE])


async def test_the_same_answer_again_changes_nothing(backend, deps):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    await invite_marc(backend, deps, session_id)
    await answer(backend, deps, session_id, "accepted")
    await answer(backend, deps, session_id, "declined", OTHER)

    accepted_again = await answer(backend, deps, session_id, "accepted", EXPERT.upper())
    declined_again = await answer(backend, deps, session_id, "declined", OTHER, note="Toujours.")

    assert (accepted_again, declined_again) == ([], [])
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert stored.sequence == 1


async def test_answers_are_refused_from_someone_not_invited_or_for_a_closed_session(
    backend, deps, clock
):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    started = await schedule_day(backend, deps, 1, 8, "Commencée")
    await invite(backend, deps, started.data.session_id)
    cancelled = await schedule_day(backend, deps, 1, 9, "Annulée")
    await invite(backend, deps, cancelled.data.session_id)
    await cancel(backend, deps, cancelled.data.session_id)
    clock.set(paris(2020, 1, 8, 10, 30))

    refused = [
        *await answer(backend, deps, session_id, "accepted", OTHER),
        *await answer(backend, deps, session_id, "accepted", "claire.dubois@"),
        *await answer(backend, deps, "no-such-session", "accepted"),
        *await answer(backend, deps, cancelled.data.session_id, "accepted"),
        *await answer(backend, deps, started.data.session_id, "declined"),
    ]

    assert [(e.type, e.data.reason) for e in refused] == [
        ("expert_response_rejected", "not_invited"),
        ("expert_response_rejected", "invalid"),
        ("expert_response_rejected", "unknown_session"),
        ("expert_response_rejected", "cancelled_session"),
        ("expert_response_rejected", "past_session"),
    ]
    assert refused[0].data.detail == (
        f"Aucune invitation à intervenir à cette session n'a été adressée à « {OTHER} »."
    )
    assert (refused[0].data.email, refused[0].subject) == (OTHER, session_id)
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
        claire = await uow.invitations.find(started.data.session_id, person_key(EXPERT))
    assert stored is not None
    assert claire is not None
    assert (stored.sequence, claire.status) == (0, "invited")


async def test_two_experts_accepting_at_the_same_time_are_both_named(backend, deps):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    await invite_marc(backend, deps, session_id)

    outcomes = await asyncio.gather(
        answer(backend, deps, session_id, "accepted"),
        answer(backend, deps, session_id, "accepted", OTHER),
    )

    updates = sorted((o[1].data.sequence, len(o[1].data.experts)) for o in outcomes)
    assert updates == [(1, 1), (2, 2)]
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert (stored.sequence, len(stored.experts)) == (2, 2)


# --- the notice of silence ----------------------------------------------------------------


async def test_an_invited_experts_silence_is_told_once_7_days_before_the_session(
    backend, deps, clock, sent
):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    await invite_marc(backend, deps, session_id)
    await answer(backend, deps, session_id, "declined", OTHER)

    clock.set(paris(2020, 1, 14, 9, 59))
    early = await notices_due(deps)
    clock.set(NO_ANSWER_DUE)
    due = await notices_due(deps)
    clock.set(paris(2020, 1, 20, 10))
    again = await notices_due(deps)

    assert (early, due, again) == ([], [(session_id, EXPERT)], [])
    [notice] = notices(sent)
    assert notice.id == derived_id(session_id, "expert_no_answer", person_key(EXPERT))
    assert (notice.subject, notice.time) == (session_id, NO_ANSWER_DUE)
    assert (notice.data.first_name, notice.data.organisation) == ("Claire", "INRAE")
    async with backend.unit() as uow:
        told = await uow.invitations.find(session_id, person_key(EXPERT))
    assert told is not None
    assert (told.status, told.no_answer_at) == ("invited", NO_ANSWER_DUE)


async def test_no_silence_is_told_once_answered_cancelled_or_started(backend, deps, clock):
    answered = await launch(backend, deps)
    cancelled = (await schedule_day(backend, deps, 1, 22, "Annulée")).data.session_id
    started = (await schedule_day(backend, deps, 1, 15, "Commencée")).data.session_id
    for session_id in (answered, cancelled, started):
        await invite(backend, deps, session_id)
    await answer(backend, deps, answered, "accepted")
    await cancel(backend, deps, cancelled)

    clock.set(paris(2020, 1, 15, 10))  # every notice is due; "Commencée" has just begun
    told = await notices_due(deps)

    assert told == []


async def test_a_reschedule_replans_the_silence_of_the_experts_still_without_an_answer(
    backend, deps, clock
):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    await invite_marc(backend, deps, session_id)
    await answer(backend, deps, session_id, "accepted", OTHER)  # sequence 1: re-planned
    [moved] = await reschedule(
        backend, deps, session_id, paris(2020, 2, 4, 10), paris(2020, 2, 4, 12)
    )

    clock.set(NO_ANSWER_DUE)
    at_the_old_moment = await notices_due(deps)
    clock.set(paris(2020, 1, 28, 10))
    at_the_new_moment = await notices_due(deps)

    assert (moved.data.change, moved.data.sequence, named(moved)) == ("slot", 2, [MARC])
    assert (at_the_old_moment, at_the_new_moment) == ([], [(session_id, EXPERT)])


async def test_a_silence_told_before_a_reschedule_is_not_told_again(backend, deps, clock, sent):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)
    clock.set(NO_ANSWER_DUE)
    first = await notices_due(deps)
    await reschedule(backend, deps, session_id, paris(2020, 2, 4, 10), paris(2020, 2, 4, 12))

    clock.set(paris(2020, 1, 28, 10))
    second = await notices_due(deps)

    assert (len(first), second) == (1, [])


async def test_an_expert_invited_within_7_days_of_the_session_is_told_of_at_once(
    backend, deps, sent
):
    soon = await schedule(backend, deps, paris(2020, 1, 10, 10), paris(2020, 1, 10, 12), "Bientôt")
    await invite(backend, deps, soon.data.session_id)

    told = await notices_due(deps)

    assert told == [(soon.data.session_id, EXPERT)]
    assert notices(sent)[0].time == NOW


# --- the session's events carry its experts -----------------------------------------------


async def test_every_later_event_about_the_session_carries_its_experts(backend, deps, clock, sent):
    session_id = await launch(backend, deps)
    other = (await schedule_day(backend, deps, 2, 4, "Autre")).data.session_id
    for each in (session_id, other):
        await invite(backend, deps, each)
        await answer(backend, deps, each, "accepted")
    [moved] = await reschedule(
        backend, deps, session_id, paris(2020, 1, 28, 10), paris(2020, 1, 28, 12)
    )
    clock.set(paris(2020, 1, 27, 10))  # the J-1; the digest (72 h before) is due too
    await emit_due(deps.timer)
    [forwarded] = await ask(backend, deps, question(session_id))
    clock.set(paris(2020, 1, 28, 12, 30))
    [shared] = await share(backend, deps, report(session_id))
    [cancelled] = await cancel(backend, deps, other)

    timed = {e.type: e for e in sent.events}
    assert (moved.data.change, moved.data.previous_starts_at) == ("slot", paris(2020, 1, 21, 10))
    assert (moved.data.sequence, cancelled.data.sequence) == (2, 2)
    for carrying in (
        moved,
        timed["session_reminder_due"],
        timed["question_digest_due"],
        forwarded,
        shared,
        cancelled,
    ):
        assert named(carrying) == [CLAIRE], carrying.type


# --- erasure ------------------------------------------------------------------------------


async def test_person_erased_removes_an_accepted_expert_and_updates_the_session(
    backend, deps, clock
):
    session_id = await launch(backend, deps)
    past = await schedule_day(backend, deps, 1, 9, "Passée")
    for each in (session_id, past.data.session_id):
        await invite(backend, deps, each)
        await answer(backend, deps, each, "accepted")
    await invite_marc(backend, deps, session_id)
    marc_accepts = response(session_id, "accepted", OTHER)
    await backend.run(handlers.record_expert_answer, marc_accepts, deps)
    clock.set(paris(2020, 1, 10, 9))

    [update] = await erase(backend, deps, EXPERT.lower())

    assert (update.type, update.data.change, update.data.sequence) == (
        "session_rescheduled",
        "experts",
        3,
    )
    assert named(update) == [MARC]
    async with backend.unit() as uow:
        assert await uow.invitations.of_person(person_key(EXPERT)) == []
        kept = await uow.invitations.of_session(session_id)
        held = await uow.sessions.find(past.data.session_id)
        # Marc's acceptance named Claire among the session's experts: its record is emptied.
        records = await uow.processed.find([marc_accepts.id])
    assert [i.person for i in kept] == [person_key(OTHER)]
    assert held is not None
    assert (held.experts, held.sequence) == ((), 1)  # quietly: it took place
    assert records[marc_accepts.id].outputs == ()


async def test_erasing_an_expert_still_without_an_answer_drops_their_notice(backend, deps, clock):
    session_id = await launch(backend, deps)
    await invite(backend, deps, session_id)

    emitted = await erase(backend, deps, EXPERT)

    clock.set(NO_ANSWER_DUE)
    assert (emitted, await notices_due(deps)) == ([], [])
    async with backend.unit() as uow:
        stored = await uow.sessions.find(session_id)
    assert stored is not None
    assert stored.sequence == 0
