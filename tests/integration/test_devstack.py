"""`caprural dev`: the whole system up in one command, and down on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from shared.devstack.processes import free_port_block

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
    # One block below the ephemeral range: the services' ports follow the base, and no
    # other test's free_port() or outgoing connection can take one of them meanwhile.
    base = free_port_block(8)
    ports = [base, base + 1, base + 2]
    health, gateway = base + 3, base + 7
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


def test_caprural_dev_names_a_busy_port_and_starts_nothing(tmp_path):
    base = free_port_block(8)
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", base + 4))  # programme's: the second after the base
        taken.listen()
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "shared.cli.main",
                "dev",
                *("--kafka-port", str(base), "--mongodb-port", str(base + 1)),
                *("--smtp-port", str(base + 2), "--var", str(tmp_path / "var")),
                *("--health-port-base", str(base + 3), "--gateway-port", str(base + 7)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert f"ports already in use: {base + 4} (programme)" in finished.stdout
    assert not (tmp_path / "var" / "log").exists(), "nothing started"
