"""Reading a Kafka record as a CloudEvent, in either content mode of the Kafka binding.

- **Structured mode**: the record's value is the whole event as JSON. That is the case
  when the `content-type` header starts with `application/cloudevents`, and also when
  the record carries no `ce_` header at all (the official SDK's `to_structured` moves
  `datacontenttype` into `content-type`, and some producers set no header).
- **Binary mode**: the attributes are `ce_<name>` headers, the value is the `data`
  (JSON), `content-type` is the `datacontenttype`.

Either way the same event (same `id`) is the same request. JSON is parsed as the
contract's models parse it (pydantic's parser: strict UTF-8, no lone surrogates, a
bounded depth), so that what the contract refuses is refused here too. Optional attributes are
optional: `time` absent is the record's timestamp, `datacontenttype` absent is JSON.
Extension attributes are kept. Unknown fields of `data` are ignored, logged by name
(never their values) and counted per topic; required fields, types and bounds are
enforced, and a record that breaks them is refused with one readable line per field.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from pydantic_core import from_json

from shared.contract import CloudEvent
from shared.contract.tolerance import unknown_fields
from shared.errors import PoisonMessage, readable

logger = logging.getLogger(__name__)

EventT = TypeVar("EventT", bound=CloudEvent[Any])
Mode = Literal["structured", "binary"]
STRUCTURED_PREFIX = "application/cloudevents"

UNKNOWN_FIELDS: Counter[tuple[str, str]] = Counter()
"""Unknown data fields seen, by (topic, field path): what producers send beyond the contract."""


class UnreadableEvent(PoisonMessage):
    """The record is not a valid CloudEvent of its topic; the message says why, a line
    per fault."""


@dataclass(frozen=True)
class Inbound(Generic[EventT]):
    """A record read as its topic's event."""

    record: ConsumerRecord[Any, Any]
    event: EventT
    mode: Mode


def read_record(
    record: ConsumerRecord[Any, Any], model: type[EventT]
) -> Inbound[EventT] | UnreadableEvent:
    """The record's event, or why it can never be one."""
    headers = {name.lower(): value for name, value in record.headers or ()}
    mode: Mode = "binary" if _binary(headers) else "structured"
    try:
        envelope = _binary_envelope(record, headers) if mode == "binary" else _structured(record)
    except (ValueError, UnicodeDecodeError) as error:
        return UnreadableEvent(str(error))
    except RecursionError:
        return UnreadableEvent("(event): the value is nested too deeply to be an event")
    if "time" not in envelope and record.timestamp is not None:
        envelope["time"] = datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat()
    try:
        event = model.model_validate(envelope)
    except ValidationError as error:
        return UnreadableEvent(readable(error))
    except RecursionError:
        return UnreadableEvent("(event): the value is nested too deeply to be an event")
    _note_unknown(record.topic, model, envelope.get("data"))
    return Inbound(record, event, mode)


def _binary(headers: dict[str, bytes]) -> bool:
    content_type = headers.get("content-type", b"").decode(errors="replace").strip().lower()
    if content_type.startswith(STRUCTURED_PREFIX):
        return False
    return any(name.startswith("ce_") for name in headers)


def _structured(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    try:
        envelope = from_json(record.value or b"")
    except ValueError:
        raise ValueError("(event): the value is not JSON (structured mode expected)") from None
    if not isinstance(envelope, dict):
        raise ValueError("(event): the value is not a JSON object (structured mode expected)")
    headers = {name.lower(): value for name, value in record.headers or ()}
    content_type = headers.get("content-type", b"").decode(errors="replace")
    if "datacontenttype" not in envelope and content_type and STRUCTURED_PREFIX not in content_type:
        envelope["datacontenttype"] = content_type  # the SDK moves it to the header
    return envelope


def _binary_envelope(record: ConsumerRecord[Any, Any], headers: dict[str, bytes]) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        name.removeprefix("ce_"): value.decode("utf-8")
        for name, value in headers.items()
        if name.startswith("ce_")
    }
    content_type = headers.get("content-type")
    if content_type:
        envelope["datacontenttype"] = content_type.decode("utf-8")
    try:
        envelope["data"] = from_json(record.value or b"")
    except ValueError:
        raise ValueError(
            "data: the value is not JSON (binary mode: the value is the data)"
        ) from None
    return envelope


def _note_unknown(topic: str, model: type[CloudEvent[Any]], data: Any) -> None:
    data_model = model.model_fields["data"].annotation
    if data_model is None:
        return
    for path in unknown_fields(data_model, data, prefix="data"):
        UNKNOWN_FIELDS[(topic, path)] += 1
        if UNKNOWN_FIELDS[(topic, path)] == 1:
            logger.warning("ignoring %s on %s: not in the contract", path, topic)
