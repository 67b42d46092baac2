"""Poison versus transient, and the retry backoff."""

from __future__ import annotations

import json

import pytest
from aiokafka.errors import KafkaConnectionError
from pydantic import BaseModel, ValidationError
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from shared.errors import PoisonMessage, TransientFailure, is_poison, is_transient
from shared.middleware import RetryPolicy


class Model(BaseModel):
    x: int


def validation_error() -> ValidationError:
    try:
        Model.model_validate({"x": "nope"})
    except ValidationError as error:
        return error
    raise AssertionError("unreachable")


def json_error() -> ValueError:
    try:
        json.loads("{bad")
    except ValueError as error:
        return error
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "error",
    [
        validation_error(),
        json_error(),
        PoisonMessage("unknown session"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
    ],
)
def test_schema_and_decoding_errors_are_poison(error):
    assert is_poison(error)
    assert not is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("down"),
        ServerSelectionTimeoutError("down"),
        KafkaConnectionError("down"),
        ConnectionRefusedError(),
        TimeoutError(),
        TransientFailure("smtp 421"),
    ],
)
def test_unavailable_dependencies_are_transient(error):
    assert is_transient(error)
    assert not is_poison(error)


def test_a_bug_is_neither():
    assert not is_poison(KeyError("x"))
    assert not is_transient(KeyError("x"))


def test_backoff_grows_then_is_capped():
    policy = RetryPolicy(base=0.2, maximum=30)
    assert 0.1 <= policy.delay(1) <= 0.4
    assert policy.delay(5) >= 3.2
    assert all(policy.delay(attempt) <= 30 for attempt in range(1, 100))


def test_attempts_are_counted_per_message_and_forgotten_on_success():
    policy = RetryPolicy()
    position = ("topic", 0, 42)
    assert policy.failed(position) == 1
    assert policy.failed(position) == 2
    assert policy.failed(("topic", 0, 43)) == 1
    policy.succeeded(position)
    assert policy.failed(position) == 1
