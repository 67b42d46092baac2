"""The platform foundation end to end: publish, process once, dead-letter, health, signals."""

from __future__ import annotations

import json
import signal
import urllib.request
import uuid

import pytest

from services.registration.app import create_app as registration_app
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.kafka import eventually
from tests.harness.services import ServiceProcess, running

pytestmark = pytest.mark.integration

VALID = {
    "email": "agent@cc-exemple.fr",
    "first_name": "Camille",
    "last_name": "Martin",
    "role": "charge_de_mission",
    "organisation": "CC Exemple",
    "territory": "Exemple",
    "approach": "PAT",
    "topics_of_interest": [],
    "consent": True,
}


async def test_registration_service_records_the_id_of_a_published_event(settings, publisher, mongo):
    async with running(registration_app, settings):
        sent = await publisher.event("registration_requested", VALID, subject=VALID["email"])
        processed = mongo[settings.database_name("registration")][COLLECTION]
        record = await eventually(
            lambda: processed.find_one({"_id": sent["id"]}),
            timeout=60,
            message="the processed event record",
        )
    assert record["type"] == "registration_requested"


async def test_schema_invalid_messages_go_to_the_dlq_and_consumption_goes_on(
    settings, publisher, tap, mongo
):
    reader = await tap("registration_requested", dlq=True)
    async with running(registration_app, settings):
        await publisher.raw("registration_requested", b"{not json", key="k1")
        missing_field = {k: v for k, v in VALID.items() if k != "consent"}
        bad = await publisher.event("registration_requested", missing_field, validate=False)
        good = await publisher.event("registration_requested", VALID)
        processed = mongo[settings.database_name("registration")][COLLECTION]
        await eventually(
            lambda: processed.find_one({"_id": good["id"]}),
            timeout=60,
            message="the good event after two poison ones",
        )
        dead = await reader.wait_for_dlq("registration_requested", count=2)
    unparseable = next(d for d in dead if d.value == b"{not json")
    invalid = next(d for d in dead if d.value != b"{not json")
    assert unparseable.key == b"k1"
    assert json.loads(invalid.value)["id"] == bad["id"]
    for letter in dead:
        assert letter.headers["x-dlq-reason"] == b"poison"
        assert letter.headers["x-dlq-source-topic"].endswith(b"registration_requested")
        assert letter.headers["x-dlq-service"] == b"registration"
        assert int(letter.headers["x-dlq-source-offset"]) >= 0
    assert b"consent" in invalid.headers["x-dlq-error"]
    assert await processed.count_documents({"_id": bad["id"]}) == 0


async def test_a_redelivered_event_is_recorded_once(settings, publisher, mongo):
    async with running(registration_app, settings):
        sent = await publisher.event("registration_requested", VALID, event_id=str(uuid.uuid4()))
        await publisher.again(sent)
        after = await publisher.event("registration_requested", VALID)
        processed = mongo[settings.database_name("registration")][COLLECTION]
        await eventually(
            lambda: processed.find_one({"_id": after["id"]}),
            timeout=60,
            message="the event published after the redelivery",
        )
        assert await processed.count_documents({"_id": sent["id"]}) == 1


def test_a_service_process_serves_health_and_stops_on_sigterm(settings, tmp_path):
    service = ServiceProcess("registration", settings, log=tmp_path / "registration.log").start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/health", timeout=5) as r:
            assert json.loads(r.read()) == {"status": "ok", "service": "registration"}
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/ready", timeout=5) as r:
            assert json.loads(r.read()) == {
                "service": "registration",
                "kafka": True,
                "mongodb": True,
            }
        with urllib.request.urlopen(
            f"http://127.0.0.1:{service.port}/docs/asyncapi.json", timeout=5
        ) as r:
            assert "registration_requested" in json.loads(r.read())["channels"].__repr__()
    finally:
        code = service.terminate(timeout=30)
    # uvicorn re-raises the signal once its graceful shutdown is complete.
    assert code in (0, -signal.SIGTERM), service.log_text()[-2000:]
    assert "Application shutdown complete" in service.log_text()
    assert not service.child.alive()
