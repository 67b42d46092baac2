"""The servers the suite runs against: embedded ones, or those named by the environment.

KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL, when set, point the whole suite at a real Kafka
and MongoDB; otherwise Tansu and SecantusDB are started once per test session on free
ports. The SMTP server is always the in-process aiosmtpd sink, so that tests can read
what it received and stop it to simulate an outage.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from shared.devstack import processes
from shared.devstack.mailsink import MailStore, start_controller
from shared.settings import Settings


@dataclass
class MailServer:
    """The aiosmtpd sink, which a test may stop and start again on the same port."""

    host: str
    port: int
    store: MailStore = field(default_factory=MailStore)
    controller: Controller | None = None

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self.controller is None:
            self.controller = start_controller(self.store, host=self.host, port=self.port)

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class Infra:
    """Where Kafka, MongoDB and SMTP listen for this test session."""

    kafka_bootstrap_servers: str
    mongodb_url: str
    mail: MailServer
    kafka: processes.Child | None = None
    mongodb: processes.Child | None = None


@contextmanager
def embedded_infra() -> Iterator[Infra]:
    """Start what the environment does not provide; stop it at the end."""
    host = "127.0.0.1"
    work = Path(tempfile.mkdtemp(prefix="caprural-tests-"))
    started: list[processes.Child] = []
    kafka_child = mongo_child = None
    try:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            port = processes.free_port()
            kafka_child = processes.tansu(host=host, port=port, log=work / "kafka.log").start()
            started.append(kafka_child)
            processes.wait_for_port(host, port, timeout=30, process=kafka_child.process)
            bootstrap = f"{host}:{port}"
        mongodb_url = os.environ.get("MONGODB_URL")
        if not mongodb_url:
            port = processes.free_port()
            mongo_child = processes.secantus(
                host=host, port=port, storage=work / "mongodb", log=work / "mongodb.log"
            ).start()
            started.append(mongo_child)
            processes.wait_for_port(host, port, timeout=60, process=mongo_child.process)
            mongodb_url = f"mongodb://{host}:{port}"
        mail = MailServer(host=host, port=processes.free_port())
        mail.start()
        try:
            yield Infra(bootstrap, mongodb_url, mail, kafka=kafka_child, mongodb=mongo_child)
        finally:
            mail.stop()
    finally:
        for child in reversed(started):
            child.stop()


def make_settings(infra: Infra, **overrides: Any) -> Settings:
    """Settings isolated by a random topic prefix and database prefix."""
    token = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
        "kafka_topic_prefix": f"t{token}.",
        "kafka_partitions": 3,
        "mongodb_url": infra.mongodb_url,
        "mongodb_database_prefix": f"t{token}_",
        "smtp_host": infra.mail.host,
        "smtp_port": infra.mail.port,
        "coordinator_emails": f"coordination-{token}@caprural.test",
        "link_secret": f"test-link-secret-{token}-0123456789abcdef",
        "public_base_url": "http://127.0.0.1:8080",
        "mail_from": "Cap Rural <pat@caprural.test>",
        "log_format": "text",
        # Real Kafka refuses session timeouts under 6 s; the embedded broker assigns
        # partitions to a new group after half of it, which keeps tests quick.
        "kafka_session_timeout_ms": 6000 if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else 2000,
    }
    values.update(overrides)
    return Settings(**values)
