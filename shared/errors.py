"""How a failed message is treated: poison (dead-letter it) or transient (retry it)."""

from __future__ import annotations

import asyncio
import smtplib
import traceback

import aiosmtplib
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, PyMongoError


class PoisonMessage(Exception):
    """The message can never be processed (e.g. it names an unknown session)."""


class TransientFailure(Exception):
    """A dependency is unavailable for now; the message must be retried later."""


def is_poison(error: BaseException) -> bool:
    """Schema violations, undecodable bodies and domain-declared poison."""
    # pydantic.ValidationError, json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
    return isinstance(error, PoisonMessage | ValueError)


def is_transient(error: BaseException) -> bool:
    """Failures of a dependency (network, database, broker, mail relay) that will pass."""
    if isinstance(error, TransientFailure | ConnectionFailure | KafkaError | OSError):
        return True
    if isinstance(error, asyncio.TimeoutError | aiosmtplib.SMTPException | smtplib.SMTPException):
        return True
    if isinstance(error, PyMongoError):
        return error.has_error_label("TransientTransactionError") or error.has_error_label(
            "RetryableWriteError"
        )
    return False


def readable(error: ValidationError) -> str:
    """One line per fault: where, and why (no input values: they may be personal data)."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in problem["loc"]) or "(event)"
        lines.append(f"{where}: {problem['msg']}")
    return "\n".join(dict.fromkeys(lines))


def describe(error: BaseException) -> str:
    """What went wrong, for a person: the fields at fault and why, one line each, or
    the exception's type and message."""
    if isinstance(error, ValidationError):
        return readable(error)
    if isinstance(error, PoisonMessage):
        return str(error)
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return " ".join(text.split())
