"""Security: Kafka TLS and SASL, MongoDB authentication, SMTP STARTTLS with AUTH, and no
secret in any log.

Tansu cannot provision SASL users, so SASL is tested as configuration (the options the
services hand to aiokafka) and as a refused handshake; TLS is real: Tansu advertises a
TLS front that forwards to it. SecantusDB runs with SCRAM-SHA-256 authentication and the
SMTP sink requires STARTTLS and AUTH. The services run with LOG_LEVEL=DEBUG, with their
secrets given as `*_FILE` paths, then with wrong secrets; every log is searched for
every secret (as given, URL-encoded and as SMTP AUTH PLAIN would encode it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from shared.devstack import processes
from shared.kafka import client_options, kafka_security
from shared.settings import Settings
from tests.harness.data import member, registration
from tests.harness.infra import Infra, MailServer, make_settings
from tests.harness.kafka import Publisher, eventually, wait_until
from tests.harness.services import ServiceProcess
from tests.reliability.people import address, token
from tests.reliability.probes import Stopwatch, database
from tests.reliability.secured import (
    HOST,
    AuthenticatedMail,
    Certificate,
    TlsFront,
    authenticated_mongodb,
)
from tests.reliability.stack import Stack

pytestmark = pytest.mark.reliability

MONGO_USER = "caprural-services"
SMTP_USER = "pat-platform"
SASL_USER = "caprural"
SECRETS = {
    name: f"{name}-{secrets.token_urlsafe(12)}"
    for name in ("mongodb", "smtp", "sasl", "wrong-mongodb", "wrong-smtp")
}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's folder: certificate, secrets files, servers' data and logs."""
    return tmp_path_factory.mktemp("security")


@pytest.fixture(scope="module")
def certificate(work: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (server certificate and CA at once)."""
    return Certificate.create(work)


@pytest.fixture(scope="module")
async def tls_kafka(work: Path, certificate: Certificate) -> AsyncIterator[str]:
    """A private Tansu reachable only through a TLS front; its bootstrap address."""
    tansu_port = processes.free_port()
    front = TlsFront(certificate, target_port=tansu_port)
    child = processes.Child(
        "kafka",
        [
            processes.tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://{HOST}:{tansu_port}",
            "--advertised-listener-url",
            f"tcp://{HOST}:{front.port}",
        ],
        log=work / "kafka.log",
    ).start()
    try:
        processes.wait_for_port(HOST, tansu_port, timeout=30, process=child.process)
        await front.start()
        yield f"{HOST}:{front.port}"
    finally:
        await front.stop()
        child.stop()


@pytest.fixture(scope="module")
def mongodb_port(work: Path) -> Iterator[int]:
    """A private SecantusDB that requires SCRAM-SHA-256 authentication."""
    child, port = authenticated_mongodb(work, user=MONGO_USER, password=SECRETS["mongodb"])
    yield port
    child.stop()


@pytest.fixture(scope="module")
def secured_mail(certificate: Certificate) -> Iterator[AuthenticatedMail]:
    """An SMTP sink that requires STARTTLS, then AUTH as SMTP_USER."""
    sink = AuthenticatedMail(certificate, SMTP_USER, SECRETS["smtp"])
    sink.start()
    yield sink
    sink.stop()


def mongodb_url(port: int, password: str) -> str:
    """A MongoDB URL with credentials."""
    return f"mongodb://{MONGO_USER}:{quote(password)}@{HOST}:{port}/?authSource=admin"


@pytest.fixture
def secured(
    tls_kafka: str, mongodb_port: int, secured_mail: AuthenticatedMail, certificate: Certificate
) -> Settings:
    """Settings for TLS Kafka, authenticated MongoDB and STARTTLS+AUTH SMTP."""
    infra = Infra(
        tls_kafka,
        mongodb_url(mongodb_port, SECRETS["mongodb"]),
        MailServer(HOST, secured_mail.port),
    )
    return make_settings(
        infra,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=str(certificate.cert),
        smtp_starttls=True,
        smtp_username=SMTP_USER,
        smtp_password=SECRETS["smtp"],
        kafka_sasl_username=SASL_USER,
        kafka_sasl_password=SECRETS["sasl"],
    )


def secret_files(work: Path, **values: str) -> dict[str, str]:
    """Each secret in a file, given as `<NAME>_FILE` (and the plain variable emptied)."""
    env: dict[str, str] = {}
    for name, value in values.items():
        path = work / f"{name.lower()}-{token()}"
        path.write_text(value + "\n")
        env[f"{name}_FILE"] = str(path)
        env[name] = ""  # empty is unset: the file is read instead
    return env


def leaks(logs: dict[Path, str]) -> list[tuple[str, str]]:
    """(log file, secret name) for every secret found in a log, in any usual encoding."""
    forms: dict[str, list[str]] = {}
    for name, value in SECRETS.items():
        plain = base64.b64encode(f"\0{SMTP_USER}\0{value}".encode()).decode()
        forms[name] = [value, quote(value), base64.b64encode(value.encode()).decode(), plain]
    return [
        (path.name, name)
        for path, text in logs.items()
        for name, encodings in forms.items()
        if any(form in text for form in encodings)
    ]


# --- configuration -------------------------------------------------------------------


def test_sasl_scram_over_tls_is_built_from_the_settings(monkeypatch, certificate, work):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", SASL_USER)
    for name, value in secret_files(work, KAFKA_SASL_PASSWORD=SECRETS["sasl"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(certificate.cert))
    settings = Settings()

    security = kafka_security(settings)
    options = client_options(settings)

    assert isinstance(security, SASLScram512)
    assert (security.username, security.password) == (SASL_USER, SECRETS["sasl"])
    assert security.use_ssl is True
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        SASL_USER,
        SECRETS["sasl"],
    )
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert any("127.0.0.1" in str(ca.get("subject")) for ca in context.get_ca_certs())
    assert SECRETS["sasl"] not in repr(settings) + settings.model_dump_json()


@pytest.mark.parametrize(
    ("protocol", "mechanism", "kind", "tls"),
    [
        ("SASL_PLAINTEXT", "SCRAM-SHA-256", SASLScram256, False),
        ("SSL", "SCRAM-SHA-512", BaseSecurity, True),
        ("PLAINTEXT", "SCRAM-SHA-512", type(None), False),
    ],
)
def test_each_kafka_protocol_gets_its_options(protocol, mechanism, kind, tls):
    settings = Settings(
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username=SASL_USER,
        kafka_sasl_password=SECRETS["sasl"],
    )
    security = kafka_security(settings)
    options = client_options(settings)
    assert type(security) is kind
    assert options["security_protocol"] == protocol
    assert ("sasl_mechanism" in options) is protocol.startswith("SASL")
    assert isinstance(options.get("ssl_context"), ssl.SSLContext) is tls


# --- the services against secured servers ----------------------------------------------


async def test_services_work_over_tls_kafka_authenticated_mongodb_and_starttls_smtp(
    secured, secured_mail, mongodb_port, certificate, work, figures
):
    clock = Stopwatch()
    env = {
        **secret_files(
            work,
            MONGODB_URL=secured.mongodb_url.get_secret_value(),
            SMTP_PASSWORD=SECRETS["smtp"],
            KAFKA_SASL_PASSWORD=SECRETS["sasl"],
        ),
        # The mailer has no CA-file setting: OpenSSL's SSL_CERT_FILE makes it trust ours.
        "SSL_CERT_FILE": str(certificate.cert),
        "LOG_LEVEL": "DEBUG",
    }
    stack = await Stack(secured, work / f"logs-{token()}", env=env).start()
    publisher = Publisher(secured)
    await publisher.start()
    try:
        person = address(token(), 1, prefix="secure")
        await publisher.event("registration_requested", registration(person), subject=person)
        await wait_until(
            lambda: any(person in m.recipients for m in secured_mail.store.snapshot()),
            timeout=120,
            message="the welcome email over STARTTLS with AUTH",
        )
        client = _client(mongodb_port)
        members = database(client, secured, "registration")["members"]
        stored = await members.count_documents({"email": person})
        await client.close()
        assert stack.all_alive(), stack.alive()
    finally:
        await publisher.stop()
        await stack.stop()

    anonymous = _client(mongodb_port, password=None)
    with pytest.raises(OperationFailure):
        await anonymous[secured.database_name("registration")]["members"].find_one({})
    await anonymous.close()
    found = leaks(stack.log_texts())
    figures.record(
        "security_services",
        kafka="TLS through a front to Tansu (CA from KAFKA_SSL_CAFILE)",
        mongodb="SCRAM-SHA-256, URL from MONGODB_URL_FILE",
        smtp="STARTTLS required, AUTH PLAIN/LOGIN required, password from SMTP_PASSWORD_FILE",
        logins=[login for login, _, _ in secured_mail.logins],
        log_lines=sum(text.count("\n") for text in stack.log_texts().values()),
        secrets_in_logs=len(found),
        seconds=clock.seconds(),
    )
    assert stored == 1
    assert secured_mail.logins
    assert all(ok and tls for _, ok, tls in secured_mail.logins)
    assert found == []


async def test_wrong_secrets_fail_visibly_and_are_never_logged(
    secured, secured_mail, mongodb_port, certificate, work, tls_kafka, figures
):
    clock = Stopwatch()
    logs = work / f"wrong-{token()}"
    logs.mkdir()
    wrong_smtp = secured.model_copy(update={"smtp_password": SECRETS["wrong-smtp"]})
    stack = Stack(wrong_smtp, logs, env={"SSL_CERT_FILE": str(certificate.cert)})
    await stack.start(["notifications"])
    publisher = Publisher(wrong_smtp)
    await publisher.start()
    try:
        person = address(token(), 2, prefix="refused")
        await publisher.event("member_registered", member(person), subject=person)
        client = _client(mongodb_port)
        deliveries = database(client, wrong_smtp, "notifications")["deliveries"]
        deferred = await eventually(
            lambda: deliveries.find_one({"status": "pending", "error": {"$ne": None}}),
            timeout=120,
            message="the welcome deferred by a refused login",
        )
        await client.close()
    finally:
        await publisher.stop()
        await stack.stop()

    wrong_mongodb = secured.model_copy(
        update={"mongodb_url": mongodb_url(mongodb_port, SECRETS["wrong-mongodb"])}
    )
    refused = ServiceProcess("registration", wrong_mongodb, log=logs / "registration-mongodb.log")
    refused.child.start()
    await wait_until(
        lambda: not refused.child.alive(), timeout=90, message="registration exits at start-up"
    )
    refused.child.close_log()

    sasl = secured.model_copy(
        update={"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512"}
    )
    handshake = ServiceProcess("registration", sasl, log=logs / "registration-sasl.log")
    handshake.child.env = {**handshake.child.env, "LOG_LEVEL": "DEBUG"}
    handshake.child.start()
    deadline = time.monotonic() + 60
    await wait_until(
        lambda: "Kafka not ready" in handshake.log_text() or time.monotonic() > deadline,
        timeout=90,
        message="the SASL handshake refused",
    )
    handshake.kill()

    texts = {path: path.read_text(errors="replace") for path in sorted(logs.glob("*.log"))}
    found = leaks(texts)
    figures.record(
        "security_wrong_secrets",
        smtp=deferred["error"][:80],
        mongodb=_last_error(texts[logs / "registration-mongodb.log"]),
        kafka_sasl=_last_error(texts[logs / "registration-sasl.log"]),
        secrets_in_logs=len(found),
        seconds=clock.seconds(),
    )
    assert any(login == SMTP_USER and not ok for login, ok, _ in secured_mail.logins)
    assert deferred["error"].startswith("535") or "auth" in deferred["error"].lower()
    assert "AuthenticationFailed" in texts[logs / "registration-mongodb.log"]
    assert "Kafka not ready" in texts[logs / "registration-sasl.log"]
    assert found == []


def _client(port: int, password: str | None = SECRETS["mongodb"]) -> AsyncMongoClient[Any]:
    url = mongodb_url(port, password) if password else f"mongodb://{HOST}:{port}"
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=10_000)


def _last_error(text: str) -> str:
    """The message of the last error or warning a service logged (JSON lines)."""
    messages = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("level") in {"WARNING", "ERROR"}:
                messages.append(str(entry.get("message", "")).splitlines()[-1])
    return messages[-1][:160] if messages else ""
