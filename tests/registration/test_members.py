"""Registration end to end: members, rejections, bad input, redelivery, racing instances."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from services.registration.app import create_app
from shared.contract import derived_id
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.data import registration
from tests.harness.services import running
from tests.registration.support import database, token

pytestmark = pytest.mark.integration

OUTCOMES = ("member_registered", "registration_rejected")


def outcome_of(reader, envelope) -> list[dict[str, Any]]:
    """The events derived from one request (their ids derive from the request's id)."""
    ids = {derived_id(envelope["id"], t) for t in OUTCOMES}
    return [e for t in OUTCOMES for e in reader.events(t) if e["id"] in ids]


async def test_bad_registrations_go_to_the_dlq_and_the_next_good_one_is_processed(
    settings, publisher, tap
):
    mark = token()
    reader = await tap("registration_requested", *OUTCOMES, dlq=True)
    good = registration(f"good-{mark}@cc-exemple.fr")
    bad_data = {
        "missing_fields": {"email": f"x-{mark}@cc-exemple.fr", "first_name": "Camille"},
        "overlong_organisation": {**good, "organisation": "x" * 201},
        "overlong_email": {**good, "email": "a" * 250 + "@cc-exemple.fr"},
        "crlf_in_name": {**good, "first_name": "Camille\r\nBcc: victim@example.org"},
        "consent_as_text": {**good, "consent": "yes"},
    }
    tolerated = {**registration(f"crm-{mark}@cc-exemple.fr"), "phone": "06 00 00 00 00"}
    async with running(create_app, settings):
        await publisher.raw("registration_requested", b"\xff\xfe not json", key="k")
        bad = [
            await publisher.event("registration_requested", data, validate=False)
            for data in bad_data.values()
        ]
        extra = await publisher.event("registration_requested", tolerated, validate=False)
        after = await publisher.event("registration_requested", good)
        await reader.wait_for("member_registered", count=2, timeout=60)
        dead = await reader.wait_for_dlq("registration_requested", count=len(bad) + 1)

    [registered] = outcome_of(reader, after)
    assert registered["data"]["email"] == good["email"]
    # A field the contract does not know is ignored, never stored or passed on.
    [crm] = outcome_of(reader, extra)
    assert crm["type"] == "member_registered"
    assert "phone" not in crm["data"]
    reasons = {d.headers["x-dlq-error"].decode() for d in dead}
    assert "data.organisation: String should have at most 200 characters" in reasons
    assert "data.consent: Input should be a valid boolean" in reasons
    dead_ids = {json.loads(d.value)["id"] for d in dead if d.value.startswith(b"{")}
    assert dead_ids == {envelope["id"] for envelope in bad}
    assert {d.headers["x-dlq-reason"] for d in dead} == {b"poison"}
    assert reader.events("registration_rejected") == []


async def test_a_redelivered_registration_re_emits_the_same_event_and_stores_one_member(
    settings, publisher, tap, mongo
):
    mark = token()
    reader = await tap(*OUTCOMES)
    async with running(create_app, settings):
        sent = await publisher.event("registration_requested", registration(f"a-{mark}@cc.fr"))
        [first] = await reader.wait_for("member_registered", timeout=60)
        await publisher.again(sent)
        await reader.wait_for("member_registered", count=2, timeout=60)
        processed = database(mongo, settings)[COLLECTION]
        assert await processed.count_documents({"_id": sent["id"]}) == 1
        assert await database(mongo, settings)["members"].count_documents({}) == 1

    bodies = [m.value for m in reader.of("member_registered")]
    assert bodies[0] == bodies[1]  # same id, same bytes
    assert reader.events("registration_rejected") == []
    assert first["id"] == outcome_of(reader, sent)[0]["id"]


async def test_two_instances_in_one_group_make_one_member_per_address(
    settings, publisher, tap, mongo
):
    """Racing requests for one address (other casing, other partitions) make one member."""
    mark = token()
    reader = await tap(*OUTCOMES)
    people = [f"person{i}-{mark}@cc-exemple.fr" for i in range(12)]
    async with running(create_app, settings), running(partial(create_app), settings):
        sent = []
        for address in people:
            for variant in (address, address.upper(), address.title()):
                # Different keys spread the same address over partitions and instances.
                sent.append(
                    await publisher.event(
                        "registration_requested", registration(variant), subject=token()
                    )
                )
        await reader.wait_for("member_registered", count=len(people), timeout=90)
        await reader.wait_for("registration_rejected", count=2 * len(people), timeout=90)
        members = database(mongo, settings)["members"]
        assert await members.count_documents({}) == len(people)

    registered = reader.events("member_registered")
    assert sorted(e["data"]["email"].lower() for e in registered) == sorted(people)
    rejected = reader.events("registration_rejected")
    assert {e["data"]["reason"] for e in rejected} == {"already_member"}
    assert all(len(outcome_of(reader, envelope)) == 1 for envelope in sent)
