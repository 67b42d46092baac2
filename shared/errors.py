"""How a failed message is treated: poison (dead-letter it) or transient (retry it)."""

from __future__ import annotations

import asyncio
import smtplib

import aiosmtplib
from aiokafka.errors import KafkaError
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
