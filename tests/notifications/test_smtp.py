"""The SMTP client against a real relay (aiosmtpd over the network), and its message
preparation held to aiosmtplib's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import example, given
from hypothesis import strategies as st
from pymongo.errors import PyMongoError

from services.notifications.domain import Deferred, Refused, Sent
from services.notifications.smtp import SmtpClient, _on_the_wire, _path
from shared.devstack.mailsink import MailStore, start_controller
from shared.devstack.processes import free_port
from shared.settings import Settings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MESSAGE = (
    b"From: pat@caprural.test\r\nTo: camille@cc-exemple.fr\r\nSubject: essai\r\n\r\n"
    b"Bonjour,\r\n.une ligne qui commence par un point\r\n..et deux\r\nFin.\r\n"
)


@given(st.binary(max_size=300) | st.text(alphabet="\r\n.ab", max_size=60).map(str.encode))
@example(b".")
@example(b"a\n.\r.\r\n.")
def test_a_message_goes_on_the_wire_as_aiosmtplib_prepares_it(message):
    prepared = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message)) + b".\r\n"
    assert _on_the_wire(message) == prepared


ADDRESS_TEXT = "aZ09.!#$%&'*+/=?^_`{|}~-@ <>\"é\r\n"


@given(st.text(alphabet=ADDRESS_TEXT, min_size=1, max_size=16))
@example("camille.martin@cc-exemple.fr")
@example("a..b@c")
def test_an_address_is_quoted_as_aiosmtplib_quotes_it(address):
    def on_the_wire(quote: Callable[[str], bytes]) -> bytes | str:
        try:
            return quote(address)
        except ValueError:  # UnicodeEncodeError included: not on an SMTP command line
            return "refused"

    assert on_the_wire(_path) == on_the_wire(lambda a: quote_address(a).encode("ascii"))


@pytest.fixture
def relay() -> Iterator[tuple[MailStore, int]]:
    store = MailStore()
    port = free_port()
    controller = start_controller(store, host="127.0.0.1", port=port)
    try:
        yield store, port
    finally:
        controller.stop()


def client(port: int, timeout: float = 5) -> SmtpClient:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=timeout)
    return SmtpClient(settings, clock=lambda: NOW)


async def test_the_relay_receives_the_message_as_it_was_given(relay):
    store, port = relay
    smtp = client(port)
    try:
        for index in range(2):  # the second one over the same connection
            outcome = await smtp.send(
                MESSAGE, sender="pat@caprural.test", recipient=f"m{index}@cc-exemple.fr"
            )
            assert outcome == Sent(NOW)
    finally:
        await smtp.close()
    received = store.snapshot()
    assert [m.recipients for m in received] == [("m0@cc-exemple.fr",), ("m1@cc-exemple.fr",)]
    assert all(m.data == MESSAGE for m in received)  # dots restored by the relay


async def test_a_refused_recipient_is_refused_and_the_connection_goes_on(relay):
    store, port = relay
    smtp = client(port)
    try:
        refused = await smtp.send(
            MESSAGE, sender="pat@caprural.test", recipient="refuse@cc-exemple.fr"
        )
        sent = await smtp.send(MESSAGE, sender="pat@caprural.test", recipient="ok@cc-exemple.fr")
    finally:
        await smtp.close()
    assert isinstance(refused, Refused)
    assert "550" in refused.error
    assert sent == Sent(NOW)
    assert [m.recipients for m in store.snapshot()] == [("ok@cc-exemple.fr",)]


async def test_an_address_that_cannot_go_on_the_wire_is_refused_without_a_word_to_the_relay(
    relay,
):
    store, port = relay
    smtp = client(port)
    try:
        outcome = await smtp.send(MESSAGE, sender="pat@caprural.test", recipient="é@exemple.fr")
    finally:
        await smtp.close()
    assert isinstance(outcome, Refused)
    assert store.snapshot() == []


async def test_a_failed_record_before_data_hands_nothing_over_and_is_raised(relay):
    store, port = relay
    smtp = client(port)

    async def record_fails() -> None:
        raise PyMongoError("base injoignable")

    try:
        with pytest.raises(PyMongoError):
            await smtp.send(
                MESSAGE,
                sender="pat@caprural.test",
                recipient="m@cc-exemple.fr",
                before_data=record_fails(),
            )
        # The envelope was reset: the connection carries the next email.
        assert await smtp.send(MESSAGE, sender="pat@caprural.test", recipient="n@x.fr") == Sent(NOW)
    finally:
        await smtp.close()
    assert [m.recipients for m in store.snapshot()] == [("n@x.fr",)]


async def test_a_relay_that_is_gone_defers():
    smtp = client(free_port())  # nobody listens there
    outcome = await asyncio.wait_for(
        smtp.send(MESSAGE, sender="pat@caprural.test", recipient="m@x.fr"), timeout=10
    )
    assert isinstance(outcome, Deferred)


async def test_a_relay_that_does_not_answer_in_time_defers_and_the_next_email_goes(relay):
    store, port = relay
    smtp = client(port, timeout=1.0)  # ample for a loaded CI machine's next email
    store.delay = 10.0  # each answer to MAIL, RCPT and a message comes too late
    try:
        late = await smtp.send(MESSAGE, sender="pat@caprural.test", recipient="late@x.fr")
        store.delay = 0.0
        sent = await smtp.send(MESSAGE, sender="pat@caprural.test", recipient="next@x.fr")
    finally:
        await smtp.close()
    assert isinstance(late, Deferred)
    assert "Timed out waiting for server response" in late.error
    assert sent == Sent(NOW)  # over a new connection: the late one was given up
    assert [m.recipients for m in store.snapshot()] == [("next@x.fr",)]
