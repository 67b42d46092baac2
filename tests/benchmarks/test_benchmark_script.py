"""The benchmark script runs end to end at a tiny size (figures are not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_the_benchmark_writes_every_figure_at_a_tiny_size(tmp_path, infra):
    out = tmp_path / "bench.json"
    # On the session's broker and database (as on real Kafka and MongoDB): starting an
    # embedded pair for each scenario is what a benchmark run does, not what this checks.
    servers = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "MONGODB_URL": infra.mongodb_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "tiny", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, **servers},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["size"] == "tiny"
    for section, keys in {
        "registration": ["events_per_second", "raw_events_per_second", "ratio", "peak_rss_mb"],
        "fanout": ["emails_per_second", "raw_emails_per_second", "ratio", "peak_rss_mb"],
        "report_fanout": ["emails_per_second", "raw_emails_per_second", "commands_per_email"],
        "latency": ["p50_ms", "p95_ms", "p99_ms"],
    }.items():
        for key in keys:
            assert figures[section][key] > 0, f"{section}.{key}"
    assert "(a) registrations/s" in result.stdout
