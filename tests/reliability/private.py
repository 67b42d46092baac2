"""Private servers for fault injection: a Tansu broker, a SecantusDB server and an SMTP
sink of a module's own, so that stopping them never disturbs the session-wide servers
(and so that outage scenarios also run when the suite targets an external Kafka/MongoDB).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.devstack import processes
from tests.harness.infra import Infra, MailServer

HOST = "127.0.0.1"


@dataclass
class PrivateServers:
    """Kafka, MongoDB and SMTP on free ports; each can be stopped and started again."""

    work: Path
    mongodb_args: tuple[str, ...] = ()
    kafka_port: int = field(default_factory=processes.free_port)
    mongodb_port: int = field(default_factory=processes.free_port)
    kafka: processes.Child | None = None
    mongodb: processes.Child | None = None
    mail: MailServer = field(default_factory=lambda: MailServer(HOST, processes.free_port()))

    @property
    def infra(self) -> Infra:
        """The servers as the harness describes them (for `make_settings`)."""
        return Infra(
            f"{HOST}:{self.kafka_port}",
            f"mongodb://{HOST}:{self.mongodb_port}",
            self.mail,
            kafka=self.kafka,
            mongodb=self.mongodb,
        )

    def start(self) -> PrivateServers:
        """Start all three (from the calling thread: the children die with it)."""
        self.start_kafka()
        self.start_mongodb()
        self.mail.start()
        return self

    def start_kafka(self) -> None:
        """Start Tansu on its port (in memory: it comes back empty)."""
        self.kafka = processes.tansu(
            host=HOST, port=self.kafka_port, log=self.work / "kafka.log"
        ).start()
        processes.wait_for_port(HOST, self.kafka_port, timeout=30, process=self.kafka.process)

    def stop_kafka(self) -> None:
        """Stop Tansu (SIGTERM)."""
        assert self.kafka is not None
        self.kafka.stop()

    def start_mongodb(self) -> None:
        """Start SecantusDB on its port and storage (what was committed is still there)."""
        child = processes.secantus(
            host=HOST,
            port=self.mongodb_port,
            storage=self.work / "mongodb",
            log=self.work / "mongodb.log",
        )
        child.args = [*child.args, *self.mongodb_args]
        self.mongodb = child.start()
        processes.wait_for_port(HOST, self.mongodb_port, timeout=60, process=child.process)

    def stop_mongodb(self) -> None:
        """Stop SecantusDB (SIGTERM)."""
        assert self.mongodb is not None
        self.mongodb.stop()

    def stop(self) -> None:
        """Stop everything that runs."""
        self.mail.stop()
        for child in (self.mongodb, self.kafka):
            if child is not None:
                child.stop()


async def outage(seconds: float) -> float:
    """Keep a fault in place for exactly `seconds` (the scenario's fault duration, not a
    wait for a condition); return the time it lasted."""
    started = time.monotonic()
    await asyncio.sleep(seconds)
    return round(time.monotonic() - started, 1)
