"""Notifications handlers, without Kafka or SMTP: who is planned which email, and erasure.

Each test runs on both units of work (the `backend` fixture): in memory, and MongoDB's
through the real inbox, which holds the fake to the real repositories.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications import handlers
from services.notifications.handlers import Deps
from shared.identity import person_key
from tests.harness.data import event
from tests.harness.units import MemoryBackend
from tests.notifications.builders import enrolment, member, session

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(days=20)
COORDINATION = "coordination@caprural.test"
DEPS = Deps(clock=lambda: NOW, coordinators=(COORDINATION,), capacity=30, wake=asyncio.Event())


def upcoming(session_id: str, **overrides: Any) -> dict[str, Any]:
    return session(
        session_id,
        starts_at=SOON.isoformat(),
        ends_at=(SOON + timedelta(hours=2)).isoformat(),
        **overrides,
    )


async def planned(backend, address: str) -> list[tuple[str, str]]:
    """(kind, status) of every delivery planned for `address`, in a stable order."""
    key = person_key(address)
    if isinstance(backend, MemoryBackend):
        async with backend.unit() as uow:
            docs = list(uow.deliveries.deliveries.values())
    else:
        docs = [d async for d in backend.db.deliveries.find({"recipient_key": key})]
    return sorted((d["kind"], d["status"]) for d in docs if d["recipient_key"] == key)


async def contents(backend) -> list[dict[str, Any]]:
    if isinstance(backend, MemoryBackend):
        async with backend.unit() as uow:
            return list(uow.deliveries.contents.values())
    return [d async for d in backend.db.contents.find({})]


async def join(backend, address: str, **overrides: Any) -> dict[str, Any]:
    data = member(address, **overrides)
    await backend.run(handlers.welcome_member, event("member_registered", data), DEPS)
    return data


async def test_a_new_member_is_welcomed_once_and_invited_to_the_sessions_ahead(backend):
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    data = await join(backend, "camille@cc-exemple.fr")
    again = event("member_registered", data)
    await backend.run(handlers.welcome_member, again, DEPS)  # another id, the same member

    assert await planned(backend, "camille@cc-exemple.fr") == [
        ("session_invitation", "pending"),
        ("welcome", "pending"),
    ]


async def test_an_invitation_goes_to_the_members_only_and_a_reminder_to_the_enrolled_too(backend):
    await join(backend, "member@cc-exemple.fr")
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    guest = enrolment("s1", "guest@commune.fr")
    await backend.run(handlers.confirm_signup, event("participant_enrolled", guest), DEPS)
    reminder = {**upcoming("s1"), "remind": "J-1"}
    await backend.run(handlers.remind_session, event("session_reminder_due", reminder), DEPS)

    assert await planned(backend, "guest@commune.fr") == [
        ("reminder", "pending"),
        ("signup_confirmation", "pending"),
    ]
    assert ("reminder", "pending") in await planned(backend, "member@cc-exemple.fr")


async def test_a_member_who_left_gets_the_confirmation_and_nothing_pending_any_more(backend):
    data = await join(backend, "leaving@cc-exemple.fr")
    left = {"member_id": data["member_id"], "email": data["email"], "first_name": "Camille"}
    await backend.run(handlers.confirm_leave, event("member_left", {**left, "erase": False}), DEPS)
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)

    assert await planned(backend, "leaving@cc-exemple.fr") == [
        ("leave_confirmation", "pending"),
        ("welcome", "cancelled"),
    ]


async def test_an_older_version_of_a_session_sends_nothing(backend):
    await join(backend, "member@cc-exemple.fr")
    moved = {**upcoming("s1", sequence=1), "previous_starts_at": SOON.isoformat()}
    await backend.run(handlers.announce_new_slot, event("session_rescheduled", moved), DEPS)
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)

    assert await planned(backend, "member@cc-exemple.fr") == [
        ("session_update", "pending"),
        ("welcome", "pending"),
    ]


async def test_a_topic_is_acknowledged_and_the_coordinators_told(backend):
    accepted = {
        "topic_id": "t1",
        "title": "Gouvernance",
        "question": "Quelles instances ?",
        "proposed_by": {"email": "agent@cc-exemple.fr", "name": "Agent"},
        "origin": "member",
    }
    await backend.run(handlers.acknowledge_topic, event("topic_accepted", accepted), DEPS)

    assert await planned(backend, "agent@cc-exemple.fr") == [("topic_acknowledgement", "pending")]
    assert await planned(backend, COORDINATION) == [("topic_notice", "pending")]


def programme(*comments: tuple[str, str, str]) -> dict[str, Any]:
    """A published programme whose one topic carries (author, author's address, words)."""
    return {
        "programme_id": "prog-2026",
        "year": 2026,
        "version": 1,
        "ballots": 2,
        "topics": [
            {
                "topic_id": "t1",
                "title": "Gouvernance",
                "question": "Quelles instances ?",
                "rank": 1,
                "score": 4,
                "comments": [
                    {"author": name, "author_id": person_key(address), "comment": words}
                    for name, address, words in comments
                ],
            }
        ],
    }


async def test_an_erasure_forgets_the_erased_person_s_words_never_a_homonym_s(backend):
    erased = await join(backend, "camille.a@cc-exemple.fr")
    await join(backend, "camille.b@pnr.fr")  # the same name: Camille Martin
    published = programme(
        ("Camille Martin", "camille.a@cc-exemple.fr", "Mots de la première Camille"),
        ("Camille Martin", "camille.b@pnr.fr", "Mots de la seconde Camille"),
    )
    await backend.run(handlers.announce_programme, event("programme_published", published), DEPS)

    await backend.run(
        handlers.erase_member, event("member_erased", {"member_id": erased["member_id"]}), DEPS
    )

    async with backend.unit() as uow:
        kept = await uow.recipients.programme(2026)
    assert kept is not None
    words = [c["comment"] for c in kept.data["topics"][0]["comments"]]
    assert words == ["Mots de la seconde Camille"]
    [announcement] = [c for c in await contents(backend) if c["kind"] == "programme_announcement"]
    assert [c["comment"] for c in announcement["data"]["topics"][0]["comments"]] == words


async def test_an_erased_member_leaves_no_address_in_the_projection_or_pending_contents(backend):
    data = await join(backend, "erwan@pnr.fr", first_name="Erwan")
    await backend.run(
        handlers.erase_member, event("member_erased", {"member_id": data["member_id"]}), DEPS
    )

    async with backend.unit() as uow:
        known = await uow.recipients.member(data["member_id"])
        assert await uow.recipients.active_members() == []
    assert known is not None
    assert (known.recipient, known.erased) == (None, True)
    assert await planned(backend, "erwan@pnr.fr") == [("welcome", "pending")]  # sent, then scrubbed


# --- the interest list and the public pages -------------------------------------------


async def interested(backend, address: str, *topics: str, origin: str = "declared") -> None:
    data = {"email": address, "first_name": "Alex", "topic_ids": list(topics), "origin": origin}
    await backend.run(handlers.note_interest, event("interest_recorded", data), DEPS)


async def test_a_new_session_is_announced_to_the_interested_it_concerns_never_to_members(
    backend,
):
    await join(backend, "member@cc-exemple.fr")
    await interested(backend, "member@cc-exemple.fr")  # also on the list: a member all the same
    await interested(backend, "everything@asso.org")
    await interested(backend, "foncier@asso.org", "t-foncier")
    await interested(backend, "other@asso.org", "t-autre")
    scheduled = upcoming("s1", topic_id="t-foncier")
    await backend.run(handlers.invite_to_session, event("session_scheduled", scheduled), DEPS)

    announced = {
        address: [k for k, _ in await planned(backend, address) if k == "session_announcement"]
        for address in ("member@cc-exemple.fr", "everything@asso.org", "foncier@asso.org")
    } | {"other@asso.org": await planned(backend, "other@asso.org")}
    assert announced == {
        "member@cc-exemple.fr": [],
        "everything@asso.org": ["session_announcement"],
        "foncier@asso.org": ["session_announcement"],
        "other@asso.org": [("interest_confirmation", "pending")],
    }


async def test_someone_interested_after_the_announcement_is_told_of_it_once(backend):
    scheduled = event("session_scheduled", upcoming("s1"))
    await backend.run(handlers.invite_to_session, scheduled, DEPS)
    await interested(backend, "late@asso.org", origin="not_eligible")
    await interested(backend, "late@asso.org")  # declared again later: still one announcement

    assert await planned(backend, "late@asso.org") == [
        ("interest_confirmation", "pending"),
        ("session_announcement", "pending"),
    ]


async def test_withdrawing_interest_drops_what_was_still_to_be_announced(backend):
    await interested(backend, "alex@asso.org")
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    removed = {"email": "ALEX@asso.org", "reason": "withdrawn"}
    await backend.run(handlers.forget_interest, event("interest_removed", removed), DEPS)
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s2")), DEPS)

    assert await planned(backend, "alex@asso.org") == [
        ("interest_confirmation", "pending"),
        ("session_announcement", "cancelled"),
    ]


async def test_a_person_erased_by_pseudonym_leaves_no_address_behind(backend):
    await interested(backend, "alex@asso.org")
    guest = enrolment("s1", "alex@asso.org")
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    await backend.run(handlers.confirm_signup, event("participant_enrolled", guest), DEPS)

    erased = {"person": person_key("alex@asso.org")}
    await backend.run(handlers.erase_person, event("person_erased", erased), DEPS)

    async with backend.unit() as uow:
        assert await uow.recipients.interested_in(None) == []
        assert await uow.recipients.participants("s1", ["enrolled"]) == []
    assert await planned(backend, "alex@asso.org") == []  # cancelled, and scrubbed at once
    assert all("alex@asso.org" not in repr(c) for c in await contents(backend))


async def test_a_form_of_the_public_pages_gets_its_confirmation_link_by_email(backend):
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    request = {
        "purpose": "signup",
        "email": "dominique@commune.fr",
        "first_name": "Dominique",
        "last_name": "Durand",
        "session_id": "s1",
    }
    await backend.run(
        handlers.send_confirmation_link, event("confirmation_requested", request), DEPS
    )

    assert await planned(backend, "dominique@commune.fr") == [("confirmation_link", "pending")]
