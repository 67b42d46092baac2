"""Running a service in-process (FastStream lifespan) or as `python -m services.<name>`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from faststream.asgi import AsgiFastStream

from shared.devstack import processes
from shared.settings import Settings


@asynccontextmanager
async def running(
    create_app: Callable[[Settings], AsgiFastStream], settings: Settings
) -> AsyncIterator[AsgiFastStream]:
    """Run a service's app in this event loop (broker, lifespan, background tasks)."""
    app = create_app(settings)
    async with app.start_lifespan_context():
        # FastStream reports the lifespan started before its broker starts consuming.
        deadline = time.monotonic() + 30
        while not all(broker.running for broker in app.brokers):
            if time.monotonic() > deadline:
                raise TimeoutError("the service's broker did not start")
            await asyncio.sleep(0.02)
        yield app


def environment(settings: Settings) -> dict[str, str]:
    """The environment variables equivalent to `settings` (for subprocesses)."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None or name in {"coordinators"}:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


class ServiceProcess:
    """A service as Compose runs it, in a child process (for crash and signal tests)."""

    def __init__(self, name: str, settings: Settings, *, log: Path) -> None:
        self.name = name
        self.port = processes.free_port()
        env = {**environment(settings), "HEALTH_PORT": str(self.port), "LOG_FORMAT": "json"}
        self.child = processes.Child(
            name, [sys.executable, "-m", f"services.{name}"], env=env, log=log
        )

    def start(self, *, ready_timeout: float = 60.0) -> ServiceProcess:
        """Start and wait for /ready."""
        self.child.start()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if not self.child.alive():
                raise RuntimeError(f"{self.name} exited: {self.log_text()[-3000:]}")
            if self.ready():
                return self
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready: {self.log_text()[-3000:]}")

    def ready(self) -> bool:
        """True when /ready answers 200."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=2) as r:
                return bool(r.status == 200 and json.loads(r.read())["kafka"])
        except OSError:
            return False

    def log_text(self) -> str:
        """What the service logged so far."""
        assert self.child.log is not None
        return self.child.log.read_text(errors="replace") if self.child.log.exists() else ""

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful shutdown); return the exit code."""
        return self.child.stop(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL (crash)."""
        self.child.kill()
