"""The public event contract: CloudEvents envelopes and pydantic payload models."""

from shared.contract.catalog import (
    EVENTS,
    INBOUND,
    PRODUCED,
    dlq_topic_name,
    event_model,
    topic_name,
)
from shared.contract.envelope import CONTENT_TYPE, CloudEvent, Data, derived_id

__all__ = [
    "CONTENT_TYPE",
    "EVENTS",
    "INBOUND",
    "PRODUCED",
    "CloudEvent",
    "Data",
    "derived_id",
    "dlq_topic_name",
    "event_model",
    "topic_name",
]
