"""RGPD erasure across the platform: after `member_leave_requested` with `erase: true`,
no collection of any service's database holds the person's address or names.

The person first leaves traces everywhere: a registration (registration, programme,
notifications), a place in a session (registration, notifications), a topic proposal,
a contribution and a ballot (programme), emails (welcome, invitation, confirmation,
acknowledgement, the coordinators' notice naming them). Another member does the same
and must still be found: the scan itself is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shared.settings import SERVICES
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.data import member, registration, texts
from tests.harness.kafka import Publisher, Tap, eventually, wait_until
from tests.harness.mail import received_by
from tests.reliability.people import (
    next_year_tuesday,
    session,
    token,
    topic,
)
from tests.reliability.probes import Stopwatch, database, wait_for_mailboxes

pytestmark = pytest.mark.reliability


def enrolment(session_id: str, email: str, *, participant_id: str) -> dict[str, Any]:
    """participant_enrolled data: a confirmed place."""
    return {
        "session_id": session_id,
        "participant_id": participant_id,
        "email": email,
        "first_name": "Zéphyrine",
        "last_name": "Quellec",
        "status": "enrolled",
        "waitlist_position": None,
        "promoted": False,
        "is_member": True,
    }


async def scan(mongo: Any, settings: Any, needles: dict[str, str]) -> dict[str, list[str]]:
    """needle name -> the 'service.collection' that contain it (case-insensitive, and as
    JSON would escape it)."""
    forms = {
        name: {value.lower(), json.dumps(value).strip('"').lower()}
        for name, value in needles.items()
    }
    found: dict[str, list[str]] = {name: [] for name in needles}
    for service in SERVICES:
        db = database(mongo, settings, service)
        for collection in await db.list_collection_names():
            text = "\n".join(texts([doc async for doc in db[collection].find({})])).lower()
            for name, variants in forms.items():
                if any(variant in text for variant in variants):
                    found[name].append(f"{service}.{collection}")
    return found


class Person:
    """Someone who leaves traces in every service."""

    def __init__(self, label: str) -> None:
        mark = token()
        self.email = f"{label}.{mark}@cc-exemple.fr"
        self.first_name = f"Zéphyrine{mark}"
        self.last_name = f"Quellec-{label}{mark}"

    @property
    def needles(self) -> dict[str, str]:
        """What must not survive an erasure."""
        return {"email": self.email, "first_name": self.first_name, "last_name": self.last_name}

    async def take_part(self, publisher: Publisher, *, session_id: str, topic_id: str) -> list[str]:
        """Sign up, propose, contribute, vote (once a member); the events' ids."""
        name = f"{self.first_name} {self.last_name}"
        signup = await publisher.event(
            "session_signup_requested",
            {
                "session_id": session_id,
                "email": self.email,
                "first_name": self.first_name,
                "last_name": self.last_name,
            },
            subject=session_id,
        )
        proposal = await publisher.event(
            # A title is the group's (it stays): it must not carry the name for this test.
            "topic_proposed",
            topic(f"Jardins partagés {token()}", email=self.email, name=name),
        )
        comment = await publisher.event(
            "topic_commented",
            {"topic_id": topic_id, "email": self.email, "comment": f"Je suis {name}."},
        )
        vote = await publisher.event(
            "topic_vote_cast", {"email": self.email, "ranking": [topic_id]}
        )
        return [event["id"] for event in (signup, proposal, comment, vote)]


def events(reader: Tap, event_type: str, where: Callable[[Any], bool]) -> list[dict[str, Any]]:
    """Events of a type whose data matches (the shared platform's topics also carry the
    fuzzer's garbage, which is skipped)."""
    found = []
    for message in reader.of(event_type):
        with contextlib.suppress(ValueError, TypeError, KeyError, AssertionError):
            body = message.json()
            if where(body["data"]):
                found.append(body)
    return found


async def seen(
    reader: Tap, event_type: str, where: Callable[[Any], bool], count: int = 1
) -> list[dict[str, Any]]:
    """Wait for `count` matching events."""
    await wait_until(
        lambda: len(events(reader, event_type, where)) >= count,
        timeout=120,
        message=f"{count} x {event_type}",
    )
    return events(reader, event_type, where)


async def processed_by(mongo: Any, settings: Any, service: str, ids: list[str]) -> bool:
    """True once the service recorded every id."""
    inbox = database(mongo, settings, service)[COLLECTION]
    return bool(await inbox.count_documents({"_id": {"$in": ids}}) == len(ids))


async def test_an_erased_member_leaves_no_address_or_name_in_any_service(
    platform, mongo, mail, figures
):
    clock = Stopwatch()
    settings = platform.settings
    publisher = Publisher(settings)
    reader = Tap(
        settings,
        ["member_registered", "topic_accepted", "session_scheduled", "participant_enrolled"],
    )
    await publisher.start()
    await reader.start()
    try:
        gone, stays = Person("erased"), Person("kept")
        for person in (gone, stays):
            data = registration(person.email, first_name=person.first_name)
            await publisher.event("registration_requested", {**data, "last_name": person.last_name})
        starts = next_year_tuesday() + timedelta(weeks=9)
        await publisher.event(
            "session_schedule_requested",
            {
                "title": "Séance RGPD",
                "question": "Que garder des personnes ?",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
            },
        )
        members = await seen(
            reader, "member_registered", lambda d: d["email"] in {gone.email, stays.email}, 2
        )
        [scheduled] = await seen(reader, "session_scheduled", lambda d: d["title"] == "Séance RGPD")
        session_id = scheduled["data"]["session_id"]
        await eventually(
            lambda: processed_by(mongo, settings, "programme", [m["id"] for m in members]),
            timeout=120,
            message="both members known to the programme service",
        )
        await eventually(
            lambda: _known(mongo, settings, session_id),
            timeout=120,
            message="the session known to the registration service",
        )
        seed = await publisher.event(
            "topic_proposed", topic(f"Sujet commun {token()}", email=stays.email, name="X")
        )
        [accepted] = await seen(
            reader, "topic_accepted", lambda d: d["title"] == seed["data"]["title"]
        )
        taken: list[str] = []
        for person in (gone, stays):
            taken += await person.take_part(
                publisher, session_id=session_id, topic_id=accepted["data"]["topic_id"]
            )
        # welcome, invitation, sign-up confirmation, two topic acknowledgements
        await wait_for_mailboxes(mail, [gone.email, stays.email], per_recipient=4, timeout=120)
        await eventually(
            lambda: processed_by(mongo, settings, "programme", taken[1:4] + taken[5:8]),
            timeout=120,
            message="both proposals, contributions and ballots processed",
        )
        await eventually(
            lambda: processed_by(mongo, settings, "registration", [taken[0], taken[4]]),
            timeout=120,
            message="both sign-ups processed",
        )
        before = await scan(mongo, settings, gone.needles)

        leave = await publisher.event(
            "member_leave_requested", {"email": gone.email, "erase": True}
        )
        await eventually(
            lambda: processed_by(mongo, settings, "registration", [leave["id"]]),
            timeout=120,
            message="the leave request processed",
        )
        await wait_until(
            lambda: "leave_confirmation" in _kinds(mail, gone.email),
            timeout=120,
            message="the leave confirmation",
        )
        after = await _settled_scan(mongo, settings, gone)
        kept = await scan(mongo, settings, stays.needles)
    finally:
        await reader.stop()
        await publisher.stop()

    figures.record(
        "erasure",
        traces_before=sum(len(places) for places in before.values()),
        collections_before=sorted({p for places in before.values() for p in places}),
        traces_after=sum(len(places) for places in after.values()),
        other_member_traces=sum(len(places) for places in kept.values()),
        seconds=clock.seconds(),
    )
    assert all(before.values()), before  # the person was everywhere the scan looks
    assert after == {name: [] for name in gone.needles}
    assert all(kept.values()), kept  # and the scan finds someone who was not erased


def _kinds(mail: Any, address: str) -> list[str]:
    return [str(m.message["X-Caprural-Kind"]) for m in received_by(mail, address)]


async def _known(mongo: Any, settings: Any, session_id: str) -> bool:
    sessions = database(mongo, settings, "registration")["sessions"]
    return bool(await sessions.count_documents({"_id": session_id}))


async def _settled_scan(
    mongo: Any, settings: Any, person: Person, *, timeout: float = 60.0
) -> dict[str, list[str]]:
    """Scan until nothing of the person is left (scrubbing follows the last email), or
    the deadline; the last scan."""
    deadline = time.monotonic() + timeout
    while True:
        found = await scan(mongo, settings, person.needles)
        if not any(found.values()) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def test_a_withdrawal_processed_after_the_erasure_brings_no_address_back(
    platform, mongo, figures
):
    """The registration service publishes a leaver's withdrawals before `member_erased`,
    but the notifications service reads them from another topic: in the order erasure
    first, withdrawal second, the withdrawal must not store the address again."""
    settings = platform.settings
    publisher = Publisher(settings)
    await publisher.start()
    try:
        person = Person("late")
        member_id, participant_id = f"m-{token()}", f"p-{token()}"
        session_id = f"s-{token()}"
        starts = next_year_tuesday() + timedelta(weeks=11)
        steps: list[tuple[str, dict[str, Any]]] = [
            ("session_scheduled", session(session_id, starts_at=starts)),
            ("member_registered", member(person.email, member_id=member_id)),
            (
                "participant_enrolled",
                enrolment(session_id, person.email, participant_id=participant_id),
            ),
            ("member_erased", {"member_id": member_id}),
            (
                "participant_withdrawn",
                {
                    "session_id": session_id,
                    "participant_id": participant_id,
                    "email": person.email,
                    "reason": "member_left",
                },
            ),
        ]
        for event_type, data in steps:
            sent: dict[str, Any] = await publisher.event(event_type, data)
            ids = [sent["id"]]
            await eventually(
                lambda ids=ids: processed_by(mongo, settings, "notifications", ids),  # type: ignore[misc]
                timeout=120,
                message=f"{event_type} processed",
            )
        # Emails still to send are scrubbed once sent: what stays after that counts.
        found = await _settled_scan(mongo, settings, person)
    finally:
        await publisher.stop()
    figures.record("erasure_then_withdrawal", traces_after=sum(map(len, found.values())))
    assert found == {name: [] for name in person.needles}


async def test_an_erased_outsider_and_an_erased_expert_leave_no_address_or_name(
    platform, mongo, mail, figures
):
    """The two new kinds of person: someone on the interest list (told of a session) and
    an expert invited to a session; each is erased by a leave request with `erase`, and
    the same scan finds nothing of them, while it still finds the two who stay."""
    clock = Stopwatch()
    settings = platform.settings
    publisher = Publisher(settings)
    reader = Tap(settings, ["session_scheduled", "interest_recorded", "expert_invited"])
    await publisher.start()
    await reader.start()
    try:
        outsiders = {"erased": Person("outsider"), "kept": Person("outsider-kept")}
        experts = {"erased": Person("expert"), "kept": Person("expert-kept")}
        for person in outsiders.values():
            await publisher.event(
                "interest_declared",
                {
                    "email": person.email,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "organisation": "Commune d'Exemple",
                    "topic_ids": [],
                    "consent": True,
                },
            )
        addresses = {p.email for p in outsiders.values()}
        await seen(reader, "interest_recorded", lambda d: d["email"] in addresses, 2)
        starts = next_year_tuesday() + timedelta(weeks=13)
        title = f"Séance ouverte {token()}"
        await publisher.event(
            "session_schedule_requested",
            {
                "title": title,
                "question": "Qui inviter ?",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
            },
        )
        [scheduled] = await seen(reader, "session_scheduled", lambda d: d["title"] == title)
        session_id = scheduled["data"]["session_id"]
        for person in experts.values():
            await publisher.event(
                "expert_invitation_requested",
                {
                    "session_id": session_id,
                    "email": person.email,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "organisation": "Chambre d'agriculture",
                    "expertise": "Restauration collective",
                },
            )
        # outsiders: the interest confirmation and the session's announcement;
        # experts: the invitation
        await wait_for_mailboxes(mail, [p.email for p in outsiders.values()], per_recipient=2)
        await wait_for_mailboxes(mail, [p.email for p in experts.values()], per_recipient=1)
        gone = [outsiders["erased"], experts["erased"]]
        before = {p.email: await scan(mongo, settings, p.needles) for p in gone}

        leaves = [
            await publisher.event("member_leave_requested", {"email": p.email, "erase": True})
            for p in gone
        ]
        await eventually(
            lambda: processed_by(mongo, settings, "registration", [e["id"] for e in leaves]),
            timeout=120,
            message="both erasures processed",
        )
        after = {p.email: await _settled_scan(mongo, settings, p) for p in gone}
        kept = {
            p.email: await scan(mongo, settings, p.needles)
            for p in (outsiders["kept"], experts["kept"])
        }
    finally:
        await reader.stop()
        await publisher.stop()

    figures.record(
        "erasure_outsider_and_expert",
        traces_before=sum(len(v) for found in before.values() for v in found.values()),
        collections_before=sorted(
            {c for found in before.values() for v in found.values() for c in v}
        ),
        traces_after=sum(len(v) for found in after.values() for v in found.values()),
        seconds=clock.seconds(),
    )
    for email, found in before.items():
        assert all(found.values()), (email, found)  # the person was where the scan looks
    for email, found in after.items():
        assert found == {"email": [], "first_name": [], "last_name": []}, (email, found)
    for email, found in kept.items():
        assert all(found.values()), (email, found)  # the scan still finds who stays
