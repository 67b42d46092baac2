"""Reading records as CloudEvents (shared/wire.py), as the official SDK writes them.

Every inbound type, in binary and in structured mode, without `time`, with a field the
contract does not know: each is read as the same request. Broken records get one
readable line per fault.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from cloudevents.core.bindings import kafka as binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from shared.contract import INBOUND, event_model
from shared.wire import UNKNOWN_FIELDS, Inbound, UnreadableEvent, read_record

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INBOUND_TYPES = [model.event_type for model in INBOUND]


def example(event_type: str) -> dict[str, Any]:
    data = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def sdk_event(event_type: str, data: dict[str, Any], **attributes: Any) -> SdkEvent:
    return SdkEvent(
        attributes={
            "id": str(uuid.uuid4()),
            "type": event_type,
            "source": "urn:crm:test",
            "datacontenttype": "application/json",
            **attributes,
        },
        data=data,
    )


def record(message: binding.KafkaMessage, topic: str, *, timestamp: int = 0) -> ConsumerRecord:
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=0,
        timestamp=timestamp,
        timestamp_type=0,
        key=key,
        value=message.value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(message.value),
        headers=list(message.headers.items()),
    )


def without(message: binding.KafkaMessage, header: str) -> binding.KafkaMessage:
    headers = {name: value for name, value in message.headers.items() if name != header}
    return binding.KafkaMessage(headers=headers, key=message.key, value=message.value)


def read(message: binding.KafkaMessage, event_type: str, **options: Any) -> Any:
    return read_record(record(message, event_type, **options), event_model(event_type))


def test_every_inbound_type_has_a_valid_example():
    for event_type in INBOUND_TYPES:
        envelope = {
            "specversion": "1.0",
            "id": "x",
            "type": event_type,
            "source": "urn:test",
            "data": example(event_type),
        }
        event_model(event_type).model_validate(envelope)


@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_binary_and_structured_modes_read_the_same_event(event_type):
    event = sdk_event(event_type, example(event_type), subject="aggregate-1")
    binary = read(binding.to_binary(event, JSONFormat()), event_type)
    structured = read(binding.to_structured(event, JSONFormat()), event_type)

    assert isinstance(binary, Inbound)
    assert isinstance(structured, Inbound)
    assert (binary.mode, structured.mode) == ("binary", "structured")
    assert binary.event == structured.event
    assert binary.event.id == event.get_id()
    assert binary.event.subject == "aggregate-1"


@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_an_event_without_time_takes_the_record_s_timestamp(event_type):
    event = sdk_event(event_type, example(event_type))
    message = without(binding.to_binary(event, JSONFormat()), "ce_time")

    read_back = read(message, event_type, timestamp=1_579_600_800_000)

    assert isinstance(read_back, Inbound)
    assert read_back.event.time.isoformat() == "2020-01-21T10:00:00+00:00"


@pytest.mark.parametrize("event_type", INBOUND_TYPES)
def test_a_field_the_contract_does_not_know_is_ignored_and_counted(event_type):
    data = {**example(event_type), "phone": "06 00 00 00 00"}
    event = sdk_event(event_type, data, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    before = UNKNOWN_FIELDS[(event_type, "data.phone")]

    read_back = read(binding.to_structured(event, JSONFormat()), event_type)

    assert isinstance(read_back, Inbound)
    assert "phone" not in read_back.event.data.model_dump()
    assert read_back.event.model_extra["traceparent"].startswith("00-aaaa")
    assert UNKNOWN_FIELDS[(event_type, "data.phone")] == before + 1


def test_a_structured_event_from_the_sdk_s_v1_api_has_its_media_type_in_the_header():
    # The SDK's older API moves `datacontenttype` to the content-type header and sends
    # no ce_ header: structured, with the data's media type beside it.
    envelope: dict[str, Any] = {"specversion": "1.0", "id": "e1", "source": "urn:crm"}
    envelope |= {"type": "member_leave_requested", "data": example("member_leave_requested")}
    message = binding.KafkaMessage(
        headers={"content-type": b"application/json"},
        key=None,
        value=json.dumps(envelope).encode(),
    )

    read_back = read(message, "member_leave_requested")

    assert isinstance(read_back, Inbound)
    assert read_back.mode == "structured"


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("no_id", "id: Field required"),
        ("old_specversion", "specversion: Input should be '1.0'"),
        ("xml_data", "datacontenttype: String should match pattern"),
        ("data_not_json", "data: the value is not JSON"),
        ("missing_field", "data.email: Field required"),
    ],
)
def test_a_broken_binary_event_is_refused_with_a_readable_reason(broken, reason):
    event = sdk_event("member_leave_requested", example("member_leave_requested"))
    message = binding.to_binary(event, JSONFormat())
    headers = dict(message.headers)
    value = message.value
    if broken == "no_id":
        del headers["ce_id"]
    elif broken == "old_specversion":
        headers["ce_specversion"] = b"0.3"
    elif broken == "xml_data":
        headers["content-type"] = b"text/xml"
    elif broken == "data_not_json":
        value = b"<email>x</email>"
    elif broken == "missing_field":
        value = json.dumps({"erase": True}).encode()

    refused = read(binding.KafkaMessage(headers, message.key, value), "member_leave_requested")

    assert isinstance(refused, UnreadableEvent)
    assert reason in str(refused)
    assert "camille" not in str(refused)  # a reason never repeats the values


def test_a_value_that_is_no_event_at_all_says_so():
    garbage = binding.KafkaMessage(headers={}, key=None, value=b"\xff\xfe not json")

    refused = read(garbage, "registration_requested")

    assert isinstance(refused, UnreadableEvent)
    assert str(refused) == "(event): the value is not JSON (structured mode expected)"
