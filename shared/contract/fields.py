"""Bounded field types shared by every event of the contract.

Every string is trimmed and bounded; single-line fields refuse control characters
(CR/LF above all), so that nothing an event carries can ever reach an email header
as more than one line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must be a single line without control characters (CR, LF, tab...)")
    return value


def printable_text(value: str) -> str:
    if _CONTROL_EXCEPT_NEWLINES.search(value):
        raise ValueError("must not contain control characters other than line breaks")
    return value


def _line(max_length: int, min_length: int = 1) -> object:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Name = Annotated[str, _line(100), AfterValidator(single_line)]
"""A first or last name, or a person's display name."""

ShortText = Annotated[str, _line(200), AfterValidator(single_line)]
"""A one-line label: organisation, territory, title, role."""

Question = Annotated[str, _line(1000), AfterValidator(single_line)]
"""The one question a topic or a session is about."""

LongText = Annotated[str, _line(5000), AfterValidator(printable_text)]
"""Free text over several lines: a description or a comment."""

EmailText = Annotated[str, _line(254, min_length=3), AfterValidator(single_line)]
"""An email address as given. Its syntax is checked by the service that owns it
(email-validator, no DNS), so that a bad address becomes a clear rejection."""

Identifier = Annotated[str, _line(100), AfterValidator(single_line)]
"""An aggregate id (session, topic, member, programme)."""

Reason = Annotated[str, _line(500), AfterValidator(single_line)]
"""A short reason or error message."""

Url = Annotated[str, _line(500), AfterValidator(single_line), Field(pattern=r"^https?://\S+$")]
"""An http(s) URL."""

_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _plausible(value: datetime) -> datetime:
    # 9999-12-31T23:59:59-12:00 parses, but its UTC instant does not exist, and
    # 9999-12-31T23:00:00Z has no Paris time: no service could store or show such a date.
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not _EARLIEST <= instant < _LATEST:
        raise ValueError("must be an instant between the years 1900 and 2199")
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_plausible)]
"""A timezone-aware instant (RFC 3339 with an offset), between 1900 and 2199."""

__all__ = [
    "EmailText",
    "Identifier",
    "LongText",
    "Name",
    "Question",
    "Reason",
    "ShortText",
    "Timestamp",
    "Url",
    "datetime",
]
