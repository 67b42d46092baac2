"""Other systems publish with the official CloudEvents SDK (Kafka binding), as they do.

Every inbound event type, on the running services: in binary mode, then the same event
(same id) in structured mode, then one without `time`, then one with a field the
contract does not know. Each is processed once; a binary event with a broken header is
dead-lettered with a reason a person can read.
"""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings import kafka as binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from services.programme.app import create_app as programme
from services.registration.app import create_app as registration
from services.scheduling.app import create_app as scheduling
from shared.contract import INBOUND, topic_name
from shared.kafka import client_options
from shared.unit_of_work import PROCESSED_EVENTS
from tests.harness.kafka import eventually
from tests.harness.services import running

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OWNER = {
    "registration_requested": "registration",
    "session_signup_requested": "registration",
    "session_signup_cancelled": "registration",
    "member_leave_requested": "registration",
    "topic_proposed": "programme",
    "topic_commented": "programme",
    "topic_vote_cast": "programme",
    "programme_publication_requested": "programme",
    "session_schedule_requested": "scheduling",
    "session_reschedule_requested": "scheduling",
    "session_cancel_requested": "scheduling",
    "interest_declared": "registration",
    "interest_withdrawn": "registration",
    "session_question_submitted": "registration",
    "attendance_recorded": "registration",
    "feedback_submitted": "registration",
    "session_report_published": "scheduling",
    "expert_invitation_requested": "scheduling",
    "expert_response_submitted": "scheduling",
}
POISON_WITHOUT_STATE = {"session_report_published"}
"""A compte rendu names a session that took place: the examples' does not exist here, so
it is dead-lettered (with its reason) in either mode, never processed."""


def example(event_type: str, mark: str) -> dict[str, Any]:
    data = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    if "email" in data:  # each variant is its own person
        data["email"] = f"{mark}-{data['email']}"
    if "proposed_by" in data:
        data["proposed_by"]["email"] = f"{mark}-{data['proposed_by']['email']}"
        data["title"] = f"{data['title']} {mark}"
    assert isinstance(data, dict)
    return data


def sdk_event(event_type: str, data: dict[str, Any]) -> SdkEvent:
    attributes = {"id": str(uuid.uuid4()), "type": event_type, "source": "urn:crm:tests"}
    return SdkEvent(attributes={**attributes, "datacontenttype": "application/json"}, data=data)


class Client:
    """Another Cap Rural system: plain aiokafka, messages made by the SDK."""

    def __init__(self, producer: AIOKafkaProducer, prefix: str) -> None:
        self.producer = producer
        self.prefix = prefix

    async def send(self, event_type: str, message: binding.KafkaMessage) -> None:
        key = message.key.encode() if isinstance(message.key, str) else message.key
        await self.producer.send_and_wait(
            topic_name(event_type, self.prefix),
            message.value,
            key=key,
            headers=list(message.headers.items()),
        )


def without(message: binding.KafkaMessage, name: str) -> binding.KafkaMessage:
    headers = {k: v for k, v in message.headers.items() if k != name}
    return binding.KafkaMessage(headers=headers, key=message.key, value=message.value)


async def test_every_inbound_type_sent_by_the_sdk_in_either_mode_is_processed_once(
    settings, mongo, tap
):
    assert set(OWNER) == {model.event_type for model in INBOUND}
    reader = await tap("topic_accepted", *OWNER, dlq=True)
    producer = AIOKafkaProducer(acks="all", **client_options(settings))
    await producer.start()
    client = Client(producer, settings.kafka_topic_prefix)
    sent: dict[str, list[str]] = {}
    async with AsyncExitStack() as services:
        for create_app in (registration, programme, scheduling):
            await services.enter_async_context(running(create_app, settings))
        proposal = sdk_event("topic_proposed", example("topic_proposed", "seed"))
        await client.send("topic_proposed", binding.to_binary(proposal, JSONFormat()))
        [accepted] = await reader.wait_for("topic_accepted", timeout=60)
        for event_type in OWNER:
            ids = sent.setdefault(event_type, [])
            for variant in ("binary", "no_time", "unknown_field"):
                data = example(event_type, variant)
                if event_type == "topic_commented":
                    data["topic_id"] = accepted["data"]["topic_id"]
                if variant == "unknown_field":
                    data["phone"] = "06 00 00 00 00"
                event = sdk_event(event_type, data)
                ids.append(event.get_id())
                if variant == "no_time":
                    message = without(binding.to_binary(event, JSONFormat()), "ce_time")
                    await client.send(event_type, message)
                elif variant == "unknown_field":
                    await client.send(event_type, binding.to_structured(event, JSONFormat()))
                else:  # the same event, once in each mode
                    await client.send(event_type, binding.to_binary(event, JSONFormat()))
                    await client.send(event_type, binding.to_structured(event, JSONFormat()))
        broken = binding.to_binary(
            sdk_event("member_leave_requested", example("member_leave_requested", "x")),
            JSONFormat(),
        )
        headers = {k: v for k, v in broken.headers.items() if k != "ce_id"}
        headers["ce_specversion"] = b"0.3"
        await client.send(
            "member_leave_requested", binding.KafkaMessage(headers, broken.key, broken.value)
        )

        async def records() -> dict[str, int]:
            counts: dict[str, int] = {}
            for event_type, owner in OWNER.items():
                if event_type in POISON_WITHOUT_STATE:
                    continue
                processed = mongo[settings.database_name(owner)][PROCESSED_EVENTS]
                for event_id in sent[event_type]:
                    counts[event_id] = await processed.count_documents({"_id": event_id})
            return counts if all(counts.values()) else {}

        counts = await eventually(records, timeout=90, message="every event processed")
        [letter] = await reader.wait_for_dlq("member_leave_requested", timeout=60)
        reports = await reader.wait_for_dlq("session_report_published", count=4, timeout=60)
    await producer.stop()

    assert set(counts.values()) == {1}, counts
    expected_letters = {"member_leave_requested", *POISON_WITHOUT_STATE}
    assert all(not reader.of(t, dlq=True) for t in OWNER if t not in expected_letters)
    unknown = example("session_report_published", "x")["session_id"]
    reasons = {r.headers["x-dlq-error"].decode() for r in reports}
    assert reasons == {f"data.session_id: unknown session '{unknown}'"}
    reason = letter.headers["x-dlq-error"].decode()
    assert reason.splitlines() == ["specversion: Input should be '1.0'", "id: Field required"]
    members = mongo[settings.database_name("registration")]["members"]
    assert await members.count_documents({"email": {"$regex": "^binary-"}}) == 1
