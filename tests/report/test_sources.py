"""Fetching the figures: where the services are, and what a missing or wrong one says."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.cli.main import build_parser
from shared.devstack.processes import free_port
from shared.report.sources import REPORTED, Unreachable, fetch
from tests.report.builders import YEAR, busy_year


class Answers(BaseHTTPRequestHandler):
    """Answers `GET /report` as the test says (status, body by service port)."""

    status = 200
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def answering() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def urls_to(server: ThreadingHTTPServer, **others: str) -> dict[str, str]:
    host, port = server.server_address[:2]
    return {name: others.get(name, f"http://{host!s}:{port}") for name in REPORTED}


def test_a_service_not_listening_is_named_with_its_address():
    closed = f"http://127.0.0.1:{free_port()}"
    urls = dict.fromkeys(REPORTED, closed)

    with pytest.raises(Unreachable) as raised:
        fetch(urls, YEAR, timeout=2)

    assert raised.value.service == "registration"
    assert raised.value.url == f"{closed}/report?year={YEAR}"
    assert "no answer" in raised.value.reason


def test_a_view_refusing_the_request_is_reported_with_its_reason(answering):
    Answers.status, Answers.body = 400, json.dumps({"error": "year: expected a year"}).encode()

    with pytest.raises(Unreachable, match=r"HTTP 400: year: expected a year"):
        fetch(urls_to(answering), YEAR, timeout=2)


def test_an_answer_that_is_not_the_figures_is_refused(answering):
    Answers.status, Answers.body = 200, b'{"year": 2025, "months": []}'

    with pytest.raises(Unreachable, match=r"registration .*unexpected answer: months"):
        fetch(urls_to(answering), YEAR, timeout=2)


def test_figures_of_another_year_are_refused(answering):
    figures = busy_year().registration.model_dump(mode="json")
    Answers.status, Answers.body = 200, json.dumps({**figures, "year": YEAR - 1}).encode()

    with pytest.raises(Unreachable, match=f"answered for {YEAR - 1}, not {YEAR}"):
        fetch(urls_to(answering), YEAR, timeout=2)


def test_the_command_exits_1_naming_the_service_it_cannot_reach(tmp_path, capsys):
    closed = f"http://127.0.0.1:{free_port()}"
    command = ["report", "--year", "2025", "--out", str(tmp_path / "out"), "--timeout", "2"]
    command += [f"--url={name}={closed}" for name in REPORTED]
    args = build_parser().parse_args(command)

    assert args.func(args) == 1

    error = capsys.readouterr().err
    assert f"cannot reach the registration service at {closed}/report?year=2025" in error
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_a_year_or_a_service_it_cannot_use(tmp_path, capsys):
    parser = build_parser()

    bad_year = parser.parse_args(["report", "--year", "1900", "--out", str(tmp_path)])
    gateway = ["report", "--out", str(tmp_path), "--url", "gateway=http://127.0.0.1:8080"]
    no_report = parser.parse_args(gateway)  # the gateway keeps nothing to count
    bad_url = parser.parse_args(["report", "--out", str(tmp_path), "--url", "programme=smtp://x"])

    assert bad_year.func(bad_year) == 2
    assert no_report.func(no_report) == 2
    assert bad_url.func(bad_url) == 2
    error = capsys.readouterr().err
    assert "--year must be from 2000 to 2100" in error
    assert (
        "'gateway=http://127.0.0.1:8080': expected SERVICE=URL, SERVICE one of registration"
        in error
    )
    assert "'programme=smtp://x': the URL must be http:// or https://" in error
