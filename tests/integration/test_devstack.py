"""`caprural dev`: the whole system up in one command, and down on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from shared.devstack.processes import free_port

pytestmark = pytest.mark.integration


def descendants(pid: int) -> set[int]:
    """Every process whose ancestry includes `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except OSError:
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    living.add(pid)
        except OSError:
            continue
    return living


def test_caprural_dev_starts_everything_and_ctrl_c_stops_everything(tmp_path):
    ports = [free_port() for _ in range(3)]
    health, gateway = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL"}
    }
    stack = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli.main",
            "dev",
            "--kafka-port",
            str(ports[0]),
            "--mongodb-port",
            str(ports[1]),
            "--smtp-port",
            str(ports[2]),
            "--var",
            str(tmp_path / "var"),
            "--health-port-base",
            str(health),
            "--gateway-port",
            str(gateway),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 150
        assert stack.stdout is not None
        while time.monotonic() < deadline:
            line = stack.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(output)
        assert "Cap Rural PAT platform is up" in text, text
        assert f"127.0.0.1:{ports[0]}" in text
        assert f"http://127.0.0.1:{gateway}/seances" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{gateway}/seances", timeout=10) as page:
            assert "Les prochaines séances" in page.read().decode()
        assert (tmp_path / "var" / "link_secret").stat().st_mode & 0o077 == 0
        children = descendants(stack.pid)
        assert len(alive(children)) >= 8, "broker, database, mail sink, five services"
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=90)
    finally:
        if stack.poll() is None:
            stack.kill()
    assert stack.returncode == 0
    deadline = time.monotonic() + 10
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(children), f"left behind: {alive(children)}"
