"""Where the report's figures come from: each service's report view, over HTTP.

Each service stays the only reader of its database: the report asks the registration,
programme, scheduling and notifications services for `GET <url>/report?year=Y` and
validates each answer against its model (`figures.py`). Plain `urllib`: four GETs do
not need an HTTP client dependency.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from shared.report.figures import (
    Figures,
    NotificationsFigures,
    ProgrammeFigures,
    RegistrationFigures,
    SchedulingFigures,
)

REPORTED = ("registration", "programme", "scheduling", "notifications")
"""The services with a report view (the gateway keeps nothing to count); where they
answer: `shared.endpoints` (this machine's ports, or `--url SERVICE=URL`)."""
PATH = "/report"
TIMEOUT_SECONDS = 30.0

FiguresT = TypeVar("FiguresT", bound=Figures)


class Unreachable(Exception):
    """A service's report view did not answer, or not with its figures."""

    def __init__(self, service: str, url: str, reason: str) -> None:
        super().__init__(f"{service} ({url}): {reason}")
        self.service = service
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Sources:
    """Every service's figures for one year."""

    registration: RegistrationFigures
    programme: ProgrammeFigures
    scheduling: SchedulingFigures
    notifications: NotificationsFigures


def fetch(urls: Mapping[str, str], year: int, *, timeout: float = TIMEOUT_SECONDS) -> Sources:
    """Every service's figures for `year`; `Unreachable` names the first that failed."""
    return Sources(
        registration=_get("registration", urls, year, RegistrationFigures, timeout),
        programme=_get("programme", urls, year, ProgrammeFigures, timeout),
        scheduling=_get("scheduling", urls, year, SchedulingFigures, timeout),
        notifications=_get("notifications", urls, year, NotificationsFigures, timeout),
    )


def _get(
    service: str,
    urls: Mapping[str, str],
    year: int,
    model: type[FiguresT],
    timeout: float,
) -> FiguresT:
    url = f"{urls[service]}{PATH}?year={year}"
    try:
        # The scheme is checked (shared.endpoints): http or https only.
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as error:
        raise Unreachable(service, url, f"HTTP {error.code}: {_error_of(error)}") from error
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timed out
        reason = getattr(error, "reason", error)
        raise Unreachable(service, url, f"no answer ({reason})") from error
    try:
        figures = model.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise Unreachable(service, url, f"unexpected answer: {where}: {first['msg']}") from error
    if figures.year != year:
        raise Unreachable(service, url, f"answered for {figures.year}, not {year}")
    return figures


def _error_of(error: urllib.error.HTTPError) -> str:
    """The view's `{"error": ...}` (a 400, a 503 while starting), else the status text."""
    try:
        return str(json.loads(error.read())["error"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(error.reason)
