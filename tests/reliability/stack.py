"""The four services as Compose runs them (`python -m services.<name>`), in child processes
that a test can kill (SIGKILL), restart and count, with their logs kept for inspection."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from shared.settings import SERVICES, Settings
from tests.harness.services import ServiceProcess
from tests.reliability.runner import LEASE_VARIABLE


@dataclass
class Stack:
    """Instances of the services on one set of settings (topics, databases, servers).

    Children are always started from the calling (event-loop) thread: Linux ties their
    parent-death signal to the thread that started them.
    """

    settings: Settings
    logs: Path
    env: Mapping[str, str] = field(default_factory=dict)
    lease_seconds: float | None = None
    """A shorter delivery lease for notifications (tests/reliability/runner.py)."""
    instances: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    restarts: int = 0
    kills: int = 0

    async def start(
        self, names: Iterable[str] = SERVICES, *, count: int = 1, timeout: float = 120.0
    ) -> Stack:
        """Start `count` instances of each named service, then wait until all are ready."""
        self.logs.mkdir(parents=True, exist_ok=True)
        started = [self._spawn(name) for name in names for _ in range(count)]
        await self._ready(started, timeout=timeout)
        return self

    def _spawn(self, name: str, index: int | None = None) -> ServiceProcess:
        slot = self.instances.setdefault(name, [])
        number = len(slot) if index is None else index
        process = ServiceProcess(name, self.settings, log=self.logs / f"{name}-{number}.log")
        process.child.env = {**process.child.env, **self.env}
        if name == "notifications" and self.lease_seconds is not None:
            process.child.args = [sys.executable, "-m", "tests.reliability.runner"]
            process.child.env = {**process.child.env, LEASE_VARIABLE: str(self.lease_seconds)}
        process.child.start()
        if index is None:
            slot.append(process)
        else:
            slot[index] = process
        return process

    async def _ready(self, processes: list[ServiceProcess], *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(processes)
        while waiting:
            for process in list(waiting):
                if not process.child.alive():
                    raise RuntimeError(f"{process.name} exited: {process.log_text()[-3000:]}")
                if await asyncio.to_thread(process.ready):
                    waiting.remove(process)
            if time.monotonic() > deadline:
                names = ", ".join(p.name for p in waiting)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            if waiting:
                await asyncio.sleep(0.2)

    def kill(self, name: str, index: int = 0) -> None:
        """SIGKILL one instance (a crash: no graceful shutdown, nothing flushed)."""
        self.instances[name][index].kill()
        self.kills += 1

    async def restart(self, name: str, index: int = 0, *, timeout: float = 120.0) -> None:
        """Start a new process in place of a killed (or stopped) instance."""
        old = self.instances[name][index]
        if old.child.alive():
            old.kill()
        process = self._spawn(name, index)
        self.restarts += 1
        await self._ready([process], timeout=timeout)

    def alive(self) -> dict[str, list[bool]]:
        """Which instances are still running."""
        return {name: [p.child.alive() for p in slot] for name, slot in self.instances.items()}

    def all_alive(self) -> bool:
        """True when no instance has died."""
        return all(all(states) for states in self.alive().values())

    def log_texts(self) -> dict[Path, str]:
        """Every log file written by this stack's instances (restarted ones included)."""
        return {path: path.read_text(errors="replace") for path in sorted(self.logs.glob("*.log"))}

    async def stop(self) -> None:
        """SIGTERM every instance at once, then wait for each (SIGKILL after a grace
        period) off the event loop, which may be serving them (a TLS front, a sink)."""
        running = [p for slot in self.instances.values() for p in slot if p.child.alive()]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.child.pid, signal.SIGTERM)
        await asyncio.gather(*(asyncio.to_thread(p.terminate, 20) for p in running))


T = TypeVar("T")


@asynccontextmanager
async def in_background(scenario: Coroutine[Any, Any, T]) -> AsyncIterator[asyncio.Task[T]]:
    """Run a scenario that mostly waits while a module's other tests run; a test awaits
    the task for its outcome; still running at the end, it is cancelled."""
    task = asyncio.ensure_future(scenario)
    try:
        yield task
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
