"""Sending over SMTP with aiosmtplib: one connection reused while there is work.

`send` never raises for a delivery problem: it returns an outcome. Network errors,
timeouts and 4xx replies are `Deferred`; a 5xx reply for the recipient or the
message is `Refused`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable

import aiosmtplib
from aiosmtplib import SMTPResponse, SMTPStatus
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import normalize_message_line_endings

from services.notifications.domain import (
    Deferred,
    Outcome,
    Refused,
    Sent,
    header_safe,
    outcome_of_code,
)
from shared.clock import Clock
from shared.settings import Settings

logger = logging.getLogger(__name__)


class SmtpClient:
    """An SMTP client for the sender: connects on demand, keeps the connection open."""

    def __init__(self, settings: Settings, *, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._smtp: aiosmtplib.SMTP | None = None
        self._unreachable: str | None = None

    def new_batch(self) -> None:
        """Forget the last batch's connection failure: try connecting again."""
        self._unreachable = None

    async def send(
        self,
        message: bytes,
        *,
        sender: str,
        recipient: str,
        before_data: Awaitable[None] | None = None,
    ) -> Outcome:
        """Send one message to one recipient and say how it went.

        `before_data` is awaited after the envelope is accepted and before the message
        is handed over (the sender records the previous acceptance there, overlapping
        that write with this envelope's round trips). If it fails, the envelope is reset
        and its error raised: this message has not been sent.
        """
        if self._unreachable is not None:
            if before_data is not None:
                await before_data
            return Deferred(self._unreachable)
        smtp = await self._connected()
        if smtp is None:
            if before_data is not None:
                await before_data
            return Deferred(self._unreachable or "serveur SMTP injoignable")
        try:
            await self._transaction(smtp, message, sender, recipient, before_data)
        except aiosmtplib.SMTPRecipientRefused as refused:
            return outcome_of_code(refused.code, refused.message)
        except aiosmtplib.SMTPServerDisconnected as error:
            await self.close()
            return Deferred(header_safe(f"connexion SMTP perdue : {error}", limit=500))
        except aiosmtplib.SMTPResponseException as error:
            if error.code == 421:  # the server is closing the connection
                await self.close()
            return outcome_of_code(error.code, error.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self.close()
            return Deferred(header_safe(f"{type(error).__name__}: {error}", limit=500))
        except ValueError as error:  # an address aiosmtplib cannot put on the wire
            return Refused(header_safe(f"adresse refusée : {error}", limit=500))
        return Sent(self._clock())

    @staticmethod
    async def _transaction(
        smtp: aiosmtplib.SMTP,
        message: bytes,
        sender: str,
        recipient: str,
        before_data: Awaitable[None] | None,
    ) -> None:
        """MAIL, RCPT, (before_data), DATA: aiosmtplib's sendmail with a pause before
        DATA; the envelope is reset after a refusal, as sendmail does.

        The commands go through aiosmtplib's `execute_command` and the message through
        its protocol, as `SMTP.data` sends it, without its two regular expressions over
        the whole message when the message needs neither (`_on_the_wire`).
        SMTP_TIMEOUT_SECONDS bounds the envelope, then DATA and the message: one
        deadline each instead of one per reply. A reply given up on closes the
        connection (out of step)."""
        deadline = smtp.timeout
        try:
            async with asyncio.timeout(deadline):
                response = await smtp.execute_command(
                    b"MAIL", b"FROM:" + _path(sender), timeout=None
                )
                if response.code != SMTPStatus.completed:
                    raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)
                response = await smtp.execute_command(
                    b"RCPT", b"TO:" + _path(recipient), timeout=None
                )
                if response.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
                    raise aiosmtplib.SMTPRecipientRefused(
                        response.code, response.message, recipient
                    )
            if before_data is not None:
                waiting, before_data = before_data, None
                await waiting
            async with asyncio.timeout(deadline):
                response = await smtp.execute_command(b"DATA", timeout=None)
                if response.code != SMTPStatus.start_input:
                    raise aiosmtplib.SMTPDataError(response.code, response.message)
                response = await _message(smtp, _on_the_wire(message))
                if response.code != SMTPStatus.completed:
                    raise aiosmtplib.SMTPDataError(response.code, response.message)
        except BaseException as error:
            if before_data is not None:  # the previous record must still be awaited
                await asyncio.shield(before_data)
            if isinstance(error, TimeoutError):
                smtp.close()
                if not isinstance(error, aiosmtplib.SMTPException):  # said as aiosmtplib says it
                    raise aiosmtplib.SMTPReadTimeoutError(_NO_REPLY) from error
            else:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    if smtp.is_connected:
                        await smtp.rset()
            raise

    async def _connected(self) -> aiosmtplib.SMTP | None:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:  # as aiosmtplib's `mail` would, once
                try:
                    await smtp.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await smtp.helo()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            smtp.close()
            self._unreachable = header_safe(f"serveur SMTP injoignable : {error}", limit=500)
            logger.warning("SMTP server unreachable: %s", error)
            return None
        self._smtp = smtp
        return smtp

    async def close(self) -> None:
        """Say goodbye to the server (or just drop a broken connection)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if smtp.is_connected:
                await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()


_NO_REPLY = "Timed out waiting for server response"

PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
"""An address of unquoted ASCII atoms, as registration accepts them: quoted as it is."""


def _path(address: str) -> bytes:
    """An address as MAIL and RCPT take it: `<address>`, as aiosmtplib quotes it (its
    parser only for an address that is not plain; a ValueError for what cannot go on
    the wire, such as a non-ASCII address)."""
    if PLAIN_ADDRESS.fullmatch(address):
        return b"<" + address.encode("ascii") + b">"
    return quote_address(address).encode("ascii")


def _on_the_wire(message: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading dot doubled, the end
    line (aiosmtplib's own preparation, by its regular expressions only when needed)."""
    crlf = message.count(b"\r\n")
    if (
        crlf != message.count(b"\n")
        or crlf != message.count(b"\r")
        or not message.endswith(b"\r\n")
    ):
        message = normalize_message_line_endings(message)
    if message.startswith(b"."):
        message = b"." + message
    return message.replace(b"\n.", b"\n..") + b".\r\n"


async def _message(smtp: aiosmtplib.SMTP, data: bytes) -> SMTPResponse:
    """Hand the message over once DATA was accepted, and read the relay's answer (a
    lost connection closes it, as `SMTP.data` does)."""
    protocol = smtp.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    try:
        protocol.write(data)
        return await protocol.read_response(timeout=None)  # the caller's deadline
    except aiosmtplib.SMTPServerDisconnected:
        smtp.close()
        raise
