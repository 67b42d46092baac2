"""Registration handlers, without Kafka: members, places, leaving and erasure.

Each test runs on both units of work (the `backend` fixture): in memory, and MongoDB's
through the real inbox, which holds the fake to the real repositories.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.registration import handlers
from services.registration.handlers import Deps
from shared.errors import PoisonMessage
from shared.identity import person_key
from tests.harness.data import event, registration
from tests.registration.support import session_data, signup

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
DEPS = Deps(clock=lambda: NOW, capacity=2)


async def register(backend, email: str, **overrides: Any) -> Any:
    outcome, *_ = await backend.run(
        handlers.register_member,
        event("registration_requested", registration(email, **overrides)),
        DEPS,
    )
    return outcome


async def schedule(backend, session_id: str, *, days: int = 10, sequence: int = 0) -> None:
    data = session_data(session_id, starts_at=NOW + timedelta(days=days), sequence=sequence)
    await backend.run(handlers.track_session, event("session_scheduled", data), DEPS)


async def sign_up(backend, session_id: str, email: str, **overrides: Any) -> Any:
    request = event("session_signup_requested", signup(session_id, email, **overrides))
    [outcome] = await backend.run(handlers.sign_up, request, DEPS)
    return outcome


async def leave(backend, email: str, *, erase: bool = False) -> Any:
    request = event("member_leave_requested", {"email": email, "erase": erase})
    return await backend.run(handlers.leave_group, request, DEPS)


# --- members -------------------------------------------------------------------------


async def test_an_eligible_person_becomes_a_member_with_normalised_role_and_approach(backend):
    outcome = await register(backend, "Camille.Martin@CC-Exemple.fr")

    assert outcome.type == "member_registered"
    assert outcome.data.email == "Camille.Martin@CC-Exemple.fr"  # as given, for sending
    assert (outcome.data.role, outcome.data.approach) == ("charge_de_mission", "PAT")
    assert outcome.subject == outcome.data.member_id
    async with backend.unit() as uow:
        stored = await uow.members.find("camille.martin@cc-exemple.fr")
    assert stored is not None
    assert stored.member_id == outcome.data.member_id


async def test_second_registration_with_same_email_is_already_member(backend):
    await register(backend, "camille@cc-exemple.fr")
    again = await register(backend, "  CAMILLE@cc-exemple.fr ")

    assert (again.type, again.data.reason) == ("registration_rejected", "already_member")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"role": "Élu"}, "not_eligible"),
        ({"approach": "other"}, "not_eligible"),
        ({"consent": False}, "invalid"),
        ({"email": "pas-une-adresse"}, "invalid"),
        ({"email": "quelqun@commune.invalid"}, "invalid"),
        ({"first_name": "<script>alert(1)</script>"}, "invalid"),
    ],
)
async def test_a_refused_registration_says_why(backend, overrides, reason):
    overrides = dict(overrides)
    email = overrides.pop("email", "someone@commune.fr")
    outcome = await register(backend, email, **overrides)

    assert (outcome.type, outcome.data.reason) == ("registration_rejected", reason)
    assert outcome.data.detail
    assert outcome.subject == person_key(email)  # a pseudonym, never the address
    async with backend.unit() as uow:
        assert await uow.members.find(email) is None


async def test_a_chef_de_projet_of_a_sat_is_a_member(backend):
    outcome = await register(backend, "cheffe@pnr.fr", role="Cheffe de projet", approach="SAT")

    assert (outcome.data.role, outcome.data.approach) == ("chef_de_projet", "SAT")


# --- places --------------------------------------------------------------------------


async def test_sign_ups_fill_the_places_then_the_waitlist_in_order(backend):
    await register(backend, "member@cc-exemple.fr")
    await schedule(backend, "s1")

    outcomes = [
        await sign_up(backend, "s1", email)
        for email in ("member@cc-exemple.fr", "ana@commune.fr", "bob@commune.fr", "cleo@commune.fr")
    ]
    again = await sign_up(backend, "s1", "ANA@commune.fr")

    assert [(o.data.status, o.data.waitlist_position) for o in outcomes] == [
        ("enrolled", None),
        ("enrolled", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert [o.data.is_member for o in outcomes] == [True, False, False, False]
    assert (again.type, again.data.reason) == ("session_signup_rejected", "already_enrolled")


async def test_a_withdrawal_promotes_the_first_of_the_waitlist(backend):
    await schedule(backend, "s1")
    for email in ("ana@commune.fr", "bob@commune.fr", "cleo@commune.fr"):
        await sign_up(backend, "s1", email)

    cancel = event("session_signup_cancelled", {"session_id": "s1", "email": "ANA@commune.fr"})
    withdrawn, promoted = await backend.run(handlers.cancel_signup, cancel, DEPS)
    redelivered = await backend.run(handlers.cancel_signup, cancel, DEPS)
    another = event(cancel.type, cancel.data.model_dump())
    again = await backend.run(handlers.cancel_signup, another, DEPS)

    assert (withdrawn.type, withdrawn.data.email) == ("participant_withdrawn", "ana@commune.fr")
    assert withdrawn.data.reason == "cancelled_by_participant"
    assert (promoted.data.email, promoted.data.promoted) == ("cleo@commune.fr", True)
    assert promoted.data.status == "enrolled"
    assert redelivered == [withdrawn, promoted]  # the same event: the same outputs
    assert again == []  # another request: already withdrawn
    async with backend.unit() as uow:
        assert await uow.participants.count_places("s1") == (2, 0)


@pytest.mark.parametrize(
    ("session", "reason"),
    [("nowhere", "unknown_session"), ("past", "past_session"), ("cancelled", "cancelled_session")],
)
async def test_a_sign_up_for_an_unknown_past_or_cancelled_session_is_refused(
    backend, session, reason
):
    await schedule(backend, "past", days=-1)
    await schedule(backend, "cancelled")
    data = session_data("cancelled", starts_at=NOW + timedelta(days=10), sequence=1, reason="x")
    await backend.run(handlers.close_session, event("session_cancelled", data), DEPS)

    outcome = await sign_up(backend, session, "guest@commune.fr")

    assert (outcome.type, outcome.data.reason) == ("session_signup_rejected", reason)


async def test_a_sign_up_with_a_bad_address_or_markup_in_a_name_is_invalid(backend):
    await schedule(backend, "s1")

    bad_address = await sign_up(backend, "s1", "guest@@commune.fr")
    markup = await sign_up(backend, "s1", "guest@commune.fr", last_name="<img src=x>")

    assert bad_address.data.reason == markup.data.reason == "invalid"


async def test_an_older_version_of_a_session_never_replaces_a_newer_one(backend):
    await schedule(backend, "s1", days=10, sequence=1)
    await schedule(backend, "s1", days=-1, sequence=0)  # a late, older fact

    async with backend.unit() as uow:
        stored = await uow.sessions.find("s1")
    assert stored is not None
    assert stored.sequence == 1
    assert stored.starts_at > NOW


async def test_a_cancelled_session_withdraws_everyone_and_stays_cancelled(backend):
    await schedule(backend, "s1")
    await sign_up(backend, "s1", "ana@commune.fr")
    data = session_data("s1", starts_at=NOW + timedelta(days=10), sequence=1, reason="Absent")

    [withdrawn] = await backend.run(handlers.close_session, event("session_cancelled", data), DEPS)
    await schedule(backend, "s1", sequence=2)

    assert (withdrawn.data.email, withdrawn.data.reason) == ("ana@commune.fr", "session_cancelled")
    async with backend.unit() as uow:
        stored = await uow.sessions.find("s1")
        assert await uow.participants.of_session("s1") == []
    assert stored is not None
    assert stored.cancelled


# --- leaving and erasure ----------------------------------------------------------------


async def test_a_member_who_leaves_gives_up_upcoming_places_and_may_join_again(backend):
    joined = await register(backend, "m@cc-exemple.fr")
    await schedule(backend, "soon")
    await schedule(backend, "over", days=-3)
    await sign_up(backend, "soon", "m@cc-exemple.fr")
    await sign_up(backend, "soon", "g1@commune.fr")
    await sign_up(backend, "soon", "g2@commune.fr")

    withdrawn, promoted, left = await leave(backend, "M@cc-exemple.fr")
    again = await leave(backend, "m@cc-exemple.fr")
    rejoined = await register(backend, "m@cc-exemple.fr", territory="Autre")

    assert (withdrawn.data.reason, promoted.data.email) == ("member_left", "g2@commune.fr")
    assert (left.type, left.data.erase) == ("member_left", False)
    assert again == []
    assert (rejoined.data.member_id, rejoined.data.territory) == (joined.data.member_id, "Autre")


async def test_an_erasure_forgets_the_member_and_their_places(backend):
    joined = await register(backend, "erwan@pnr.fr")
    await schedule(backend, "s1")
    await sign_up(backend, "s1", "erwan@pnr.fr")

    outputs = await leave(backend, "ERWAN@pnr.fr", erase=True)

    assert [e.type for e in outputs] == [
        "participant_withdrawn",
        "member_left",
        "member_erased",
        "person_erased",
    ]
    assert outputs[2].data.member_id == joined.data.member_id
    assert outputs[3].data.person == person_key("erwan@pnr.fr")  # a pseudonym only
    async with backend.unit() as uow:
        assert await uow.members.find("erwan@pnr.fr") is None
        assert await uow.participants.of_person("erwan@pnr.fr") == []


async def test_a_leave_request_with_an_impossible_address_is_poison(backend):
    with pytest.raises(PoisonMessage, match=r"data\.email"):
        await leave(backend, "no-at-sign")


# --- the interest list ----------------------------------------------------------------


async def declare(backend, email: str, **overrides: Any) -> Any:
    data = {
        "email": email,
        "first_name": "Alex",
        "last_name": "Bernard",
        "topic_ids": ["t-foncier"],
        "consent": True,
    }
    data.update(overrides)
    return await backend.run(handlers.declare_interest, event("interest_declared", data), DEPS)


async def test_anyone_may_be_told_of_the_sessions_on_their_topics(backend):
    [recorded] = await declare(backend, "Alex@Asso.org")
    [updated] = await declare(backend, "alex@asso.org", topic_ids=[])

    assert (recorded.type, recorded.data.origin) == ("interest_recorded", "declared")
    assert recorded.data.topic_ids == ["t-foncier"]
    assert updated.data.topic_ids == []  # now every session
    async with backend.unit() as uow:
        entry = await uow.interested.find("alex@asso.org")
    assert entry is not None
    assert entry.email == "alex@asso.org"


@pytest.mark.parametrize(
    "overrides",
    [{"consent": False}, {"email": "pas-une-adresse"}, {"last_name": "<b>Bernard</b>"}],
)
async def test_an_interest_without_consent_a_valid_address_or_clean_names_is_refused(
    backend, overrides
):
    overrides = dict(overrides)
    email = overrides.pop("email", "alex@asso.org")
    [refused] = await declare(backend, email, **overrides)

    assert (refused.type, refused.data.reason) == ("interest_rejected", "invalid")
    assert refused.data.detail
    async with backend.unit() as uow:
        assert await uow.interested.find("alex@asso.org") is None


async def test_a_person_refused_membership_is_put_on_the_list_for_every_session(backend):
    rejected, recorded = await backend.run(
        handlers.register_member,
        event("registration_requested", registration("elu@commune.fr", role="Élu")),
        DEPS,
    )

    assert rejected.data.reason == "not_eligible"
    assert (recorded.type, recorded.data.origin, recorded.data.topic_ids) == (
        "interest_recorded",
        "not_eligible",
        [],
    )


async def test_withdrawing_interest_takes_the_person_off_the_list_once(backend):
    await declare(backend, "alex@asso.org")
    request = {"email": "ALEX@asso.org"}

    [removed] = await backend.run(
        handlers.withdraw_interest, event("interest_withdrawn", request), DEPS
    )
    again = await backend.run(
        handlers.withdraw_interest, event("interest_withdrawn", request), DEPS
    )

    assert (removed.type, removed.data.reason) == ("interest_removed", "withdrawn")
    assert again == []


async def test_leaving_takes_an_interested_person_off_the_list_and_erasure_forgets_a_guest(
    backend,
):
    await declare(backend, "alex@asso.org")
    await schedule(backend, "s1")
    await sign_up(backend, "s1", "alex@asso.org")
    await sign_up(backend, "s1", "bea@asso.org")
    await sign_up(backend, "s1", "chloe@asso.org")  # waitlisted

    [removed] = await leave(backend, "alex@asso.org")
    outputs = await leave(backend, "alex@asso.org", erase=True)

    assert (removed.type, removed.data.reason) == ("interest_removed", "withdrawn")
    assert [e.type for e in outputs] == [
        "participant_withdrawn",
        "participant_enrolled",
        "person_erased",
    ]
    assert outputs[1].data.email == "chloe@asso.org"  # promoted
    async with backend.unit() as uow:
        assert await uow.participants.of_person("alex@asso.org") == []
        assert await uow.interested.find("alex@asso.org") is None
