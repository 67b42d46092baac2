"""`caprural dev`: the whole system on the embedded stack, in one command."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from shared.contract import EVENTS
from shared.devstack import processes
from shared.kafka import ensure_topics
from shared.settings import DEFAULT_HEALTH_PORTS, SERVICES, Settings


@dataclass(frozen=True)
class StackOptions:
    """Where the embedded servers listen and keep their data."""

    host: str = "127.0.0.1"
    kafka_port: int = 9092
    mongodb_port: int = 27017
    smtp_port: int = 1025
    var: Path = Path("var")
    mail_folder: Path | None = None
    health_port_base: int = DEFAULT_HEALTH_PORTS["registration"]
    gateway_port: int = DEFAULT_HEALTH_PORTS["gateway"]

    def health_port(self, service: str) -> int:
        """The gateway's HTTP port; the others': the base, then one per service in order."""
        if service == "gateway":
            return self.gateway_port
        return self.health_port_base + [str(name) for name in SERVICES].index(service)

    @property
    def link_secret_file(self) -> Path:
        """The secret signing the links of the emails, made once and kept with the data."""
        return self.var / "link_secret"

    @property
    def mail(self) -> Path:
        """The folder of received emails (.eml)."""
        return self.mail_folder or self.var / "mail"

    def environment(self) -> dict[str, str]:
        """The variables every service gets: the same names as in Compose."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": f"{self.host}:{self.kafka_port}",
            "MONGODB_URL": f"mongodb://{self.host}:{self.mongodb_port}",
            "SMTP_HOST": self.host,
            "SMTP_PORT": str(self.smtp_port),
            # Tansu does not implement InitProducerId: idempotence stays off here.
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "PUBLIC_BASE_URL": f"http://{self.host}:{self.gateway_port}",
            "LINK_SECRET_FILE": str(self.link_secret_file),
        }


def wait_ready(port: int, *, timeout: float, child: processes.Child) -> None:
    """Poll a service's /ready endpoint until it answers 200 (bounded)."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/ready"
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(
                f"{child.name} exited; see its log {child.log}{_last_error(child.log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{child.name} not ready after {timeout:.0f}s; see {child.log}")


def _last_error(log: Path | None) -> str:
    """The last ERROR line of a service's JSON log, to say why it stopped."""
    if log is None:
        return ""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in {"ERROR", "CRITICAL"}:
            return f"\n  {entry.get('message', '')}"
    return ""


def busy_ports(options: StackOptions) -> list[str]:
    """The ports the stack needs that something else already listens on."""
    wanted = [
        ("Kafka", options.kafka_port),
        ("MongoDB", options.mongodb_port),
        ("SMTP", options.smtp_port),
        *[(name, options.health_port(name)) for name in SERVICES],
    ]
    return [f"{port} ({name})" for name, port in wanted if processes.port_taken(port)]


def run_stack(options: StackOptions) -> int:
    """Start everything, print where it listens, stop everything on Ctrl-C or SIGTERM."""
    busy = busy_ports(options)
    if busy:
        print(f"caprural dev: ports already in use: {', '.join(busy)}; choose others (--help)")
        return 1
    logs = options.var / "log"
    logs.mkdir(parents=True, exist_ok=True)
    if not options.link_secret_file.exists():
        options.link_secret_file.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        options.link_secret_file.chmod(0o600)
    env = {**options.environment(), **_passthrough()}
    infra = [
        processes.tansu(host=options.host, port=options.kafka_port, log=logs / "kafka.log"),
        processes.secantus(
            host=options.host,
            port=options.mongodb_port,
            storage=options.var / "mongodb",
            log=logs / "mongodb.log",
        ),
        processes.mail_sink(
            host=options.host, port=options.smtp_port, folder=options.mail, log=logs / "smtp.log"
        ),
    ]
    services = [
        processes.service(
            name,
            env={**env, "HEALTH_PORT": str(options.health_port(name))},
            log=logs / f"{name}.log",
        )
        for name in SERVICES
    ]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    started: list[processes.Child] = []
    try:
        for child, port in zip(
            infra, (options.kafka_port, options.mongodb_port, options.smtp_port), strict=True
        ):
            started.append(child.start())
            processes.wait_for_port(options.host, port, timeout=30, process=child.process)
        settings = Settings(
            kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
            kafka_topic_prefix=os.environ.get("KAFKA_TOPIC_PREFIX", ""),
        )
        asyncio.run(ensure_topics(settings, EVENTS))
        for child in services:
            started.append(child.start())
        for child in services:
            wait_ready(options.health_port(child.name), timeout=90, child=child)
        _print_banner(options, logs)
        while not stop.wait(1.0):
            for child in started:
                if not child.alive():
                    print(
                        f"{child.name} exited ({child.process and child.process.returncode}); "
                        f"see {child.log}. Stopping."
                    )
                    stop.set()
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(f"caprural dev: {error}")
        return 1
    finally:
        print("Stopping...")
        for child in reversed(started):
            child.stop()
        print("Stopped.")


def _passthrough() -> dict[str, str]:
    names = (
        "KAFKA_TOPIC_PREFIX",
        "MAIL_FROM",
        "COORDINATOR_EMAILS",
        "SESSION_CAPACITY",
        "WEBCONFERENCE_BASE_URL",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "MONGODB_DATABASE_PREFIX",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    return {name: os.environ[name] for name in names if name in os.environ}


def _print_banner(options: StackOptions, logs: Path) -> None:
    rows = [
        ("Kafka (Tansu)", f"{options.host}:{options.kafka_port}"),
        (
            "MongoDB (SecantusDB)",
            f"mongodb://{options.host}:{options.mongodb_port}  data: {options.var / 'mongodb'}",
        ),
        ("SMTP (aiosmtpd)", f"{options.host}:{options.smtp_port}  mail: {options.mail}"),
        *[
            (
                f"service {name}",
                f"http://127.0.0.1:{options.health_port(name)}/ready  /metrics  /status",
            )
            for name in SERVICES
            if name != "gateway"
        ],
        ("public pages", f"http://{options.host}:{options.gateway_port}/seances"),
        ("logs", str(logs)),
    ]
    print("\nCap Rural PAT platform is up:")
    for name, where in rows:
        print(f"  {name:<22} {where}")
    print("Publish an event: caprural publish registration_requested \\")
    print("  @examples/registration_requested.json")
    print("See it all: caprural status; the year's report: caprural report --out var/report")
    print("Ctrl-C stops everything.\n", flush=True)
