"""The CloudEvents 1.0 envelope (structured JSON mode) that carries every event."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contract.fields import Identifier, Timestamp

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
"""Kafka `content-type` header of a structured-mode CloudEvent."""

ID_NAMESPACE = uuid.UUID("6f1d4a52-3c1e-5b8a-9a57-2f4c0e6b7d10")
"""Namespace of the deterministic ids (uuid5) of derived events."""

_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_JSON_CONTENT_TYPE = r"^\s*(application/json|text/json|application/[A-Za-z0-9.+-]*\+json)\s*(;.*)?$"
_MAX_EXTENSIONS = 10
_MAX_EXTENSION_LENGTH = 500


class Data(BaseModel):
    """Base of every event payload: frozen; unknown fields are ignored (a tolerant
    reader: producers may add fields first), never kept."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


DataT = TypeVar("DataT", bound=Data)


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope; `id` is the idempotency key."""

    model_config = ConfigDict(frozen=True, extra="allow")

    event_type: ClassVar[str] = ""

    specversion: Literal["1.0"] = Field(description="CloudEvents version, always 1.0.")
    id: Identifier = Field(
        description="Unique id of this event; the same id delivered twice has one effect."
    )
    type: str = Field(description="Event type; also the Kafka topic name.")
    source: str = Field(
        min_length=1, max_length=500, description="URI-reference of the producing system."
    )
    time: Timestamp = Field(
        default_factory=lambda: datetime.now(UTC),
        description="When the fact happened (RFC 3339, with an offset). Optional: when "
        "absent, the Kafka record's timestamp.",
    )
    datacontenttype: str = Field(
        default="application/json",
        pattern=_JSON_CONTENT_TYPE,
        description="The data's media type: JSON (application/json, with or without "
        "parameters, or any +json type). Optional: absent means JSON.",
    )
    subject: Identifier | None = Field(
        default=None, description="The aggregate id (member email, topic id, session id)."
    )
    data: DataT = Field(description="The event payload.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        literal = get_args(cls.model_fields["type"].annotation)
        if literal:
            cls.event_type = literal[0]

    @model_validator(mode="before")
    @classmethod
    def _keep_valid_extensions(cls, value: Any) -> Any:
        """Extension attributes are kept when they are what CloudEvents allows (a short
        lower-case name, a short scalar value), and dropped otherwise: never refused."""
        if not isinstance(value, dict):
            return value
        kept: dict[str, Any] = {}
        extensions = 0
        for name, item in value.items():
            if name in cls.model_fields:
                kept[name] = item
            elif (
                extensions < _MAX_EXTENSIONS
                and _EXTENSION_NAME.match(name)
                and isinstance(item, str | int | bool)
                and len(str(item)) <= _MAX_EXTENSION_LENGTH
            ):
                kept[name] = item
                extensions += 1
        return kept

    @property
    def key(self) -> bytes | None:
        """The Kafka message key: the aggregate id."""
        return self.subject.encode() if self.subject else None

    def to_json(self) -> bytes:
        """The structured-mode body, as published."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def create(
        cls,
        data: DataT,
        *,
        source: str,
        subject: str | None = None,
        cause_id: str | None = None,
        discriminator: str = "",
        time: datetime | None = None,
    ) -> Self:
        """Build an event of this class; derived from `cause_id`, its id is deterministic."""
        event_id = (
            derived_id(cause_id, cls.event_type, discriminator)
            if cause_id is not None
            else str(uuid.uuid4())
        )
        return cls(
            specversion="1.0",
            id=event_id,
            type=cls.event_type,
            source=source,
            time=time or datetime.now(UTC),
            subject=subject,
            data=data,
        )


def derived_id(cause_id: str, event_type: str, discriminator: str = "") -> str:
    """Deterministic id of an event derived from another: reprocessing re-emits the same id."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{cause_id}/{event_type}/{discriminator}"))
