"""Secured servers for the security scenarios: a self-signed certificate (openssl CLI), a
TLS front for Tansu (which speaks plaintext only), SecantusDB with SCRAM authentication
and an SMTP sink that requires STARTTLS and AUTH.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pymongo import MongoClient

from shared.devstack import processes
from shared.devstack.mailsink import MailStore

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1: the server's, and the CA clients trust."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, folder: Path) -> Certificate:
        """Generate one with the openssl CLI (valid two days, IP and DNS names)."""
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
        return cls(cert, key)

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context with this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


class TlsFront:
    """A TLS listener that forwards each connection, decrypted, to a plaintext server."""

    def __init__(self, certificate: Certificate, *, target_port: int) -> None:
        self.port = processes.free_port()
        self._context = certificate.server_context()
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on HOST:port."""
        self._server = await asyncio.start_server(self._forward, HOST, self.port, ssl=self._context)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                HOST, self._target_port
            )
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(_pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def stop(self) -> None:
        """Stop listening and cut the open connections."""
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            sink.close()


@dataclass
class AuthenticatedMail:
    """An SMTP sink that refuses mail before STARTTLS and AUTH with one login."""

    certificate: Certificate
    username: str
    password: str
    port: int = field(default_factory=processes.free_port)
    store: MailStore = field(default_factory=MailStore)
    logins: list[tuple[str, bool, bool]] = field(default_factory=list)
    """(login, accepted, over TLS) of every AUTH attempt."""
    controller: Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode(errors="replace")
        accepted = login == self.username and data.password.decode() == self.password
        self.logins.append((login, accepted, session.ssl is not None))
        return AuthResult(success=accepted, handled=False)

    def start(self) -> None:
        """Listen on HOST:port (aiosmtpd in a thread)."""
        self.controller = Controller(
            self.store,
            hostname=HOST,
            port=self.port,
            tls_context=self.certificate.server_context(),
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
        )
        self.controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def authenticated_mongodb(work: Path, *, user: str, password: str) -> tuple[processes.Child, int]:
    """SecantusDB with `--auth` and one root user (created before auth is switched on)."""
    port = processes.free_port()
    storage, log = work / "mongodb-auth", work / "mongodb-auth.log"
    first = processes.secantus(host=HOST, port=port, storage=storage, log=log).start()
    try:
        processes.wait_for_port(HOST, port, timeout=60, process=first.process)
        client: MongoClient[dict[str, Any]] = MongoClient(
            HOST, port, serverSelectionTimeoutMS=10_000
        )
        with client:
            client.admin.command(
                "createUser", user, pwd=password, roles=[{"role": "root", "db": "admin"}]
            )
    finally:
        first.stop()
    secured = processes.secantus(host=HOST, port=port, storage=storage, log=log)
    secured.args = [*secured.args, "--auth"]
    secured.start()
    processes.wait_for_port(HOST, port, timeout=60, process=secured.process)
    return secured, port
