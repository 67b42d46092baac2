"""In-memory figures for the report's fast tests: what the four services would answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.report.figures import (
    NotificationsFigures,
    ProgrammeFigures,
    RegistrationFigures,
    SchedulingFigures,
)
from shared.report.sources import Sources

YEAR = 2025
NOW = datetime(2026, 1, 15, 9, tzinfo=UTC)


def months(joined: dict[int, int] | None = None, left: dict[int, int] | None = None) -> list[Any]:
    """Twelve months of joined and left counts (zeros unless given)."""
    joined, left = joined or {}, left or {}
    return [{"month": m, "joined": joined.get(m, 0), "left": left.get(m, 0)} for m in range(1, 13)]


def session(session_id: str, starts_at: str, title: str, **counts: Any) -> dict[str, Any]:
    """A session as the scheduling service answers it (two hours from `starts_at`)."""
    start = datetime.fromisoformat(starts_at)
    return {
        "session_id": session_id,
        "title": title,
        "question": f"Question de la séance « {title} » ?",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "status": "scheduled",
        "questions": 0,
        "experts_invited": 0,
        "experts_confirmed": 0,
        "report_shared": False,
        **counts,
    }


def places(session_id: str, **counts: Any) -> dict[str, Any]:
    """A session as the registration service answers it."""
    figures = {"enrolled": 0, "waitlisted": 0, "attended": 0, "ratings": 0, "average_rating": None}
    return {"session_id": session_id, **figures, **counts}


def sources(
    *,
    registration: dict[str, Any] | None = None,
    programme: dict[str, Any] | None = None,
    scheduling: dict[str, Any] | None = None,
    notifications: dict[str, Any] | None = None,
) -> Sources:
    """The four answers for YEAR; what is not given is an empty year."""
    empty_registration = {
        "months": months(),
        "members_during_year": 0,
        "members_at_end_of_year": 0,
        "territories": [],
        "approaches": [],
        "sessions": [],
    }
    return Sources(
        registration=RegistrationFigures.model_validate(
            {"year": YEAR, **empty_registration, **(registration or {})}
        ),
        programme=ProgrammeFigures.model_validate(
            {"year": YEAR, "programme": None, **(programme or {})}
        ),
        scheduling=SchedulingFigures.model_validate(
            {"year": YEAR, "sessions": [], **(scheduling or {})}
        ),
        notifications=NotificationsFigures.model_validate(
            {"year": YEAR, "emails": [], **(notifications or {})}
        ),
    )


def busy_year() -> Sources:
    """A year with a bit of everything."""
    return sources(
        registration={
            "months": months({1: 2, 3: 1, 4: 1}, {6: 1}),
            "members_during_year": 4,
            "members_at_end_of_year": 3,
            "territories": [
                {"territory": "Pays Voironnais", "members": 2},
                {"territory": "Grenoble-Alpes Métropole", "members": 1},
                {"territory": "Vercors <Sud> & $Trièves$", "members": 1},
            ],
            "approaches": [{"approach": "PAT", "members": 3}, {"approach": "SAT", "members": 1}],
            "sessions": [
                places("s1", enrolled=2, waitlisted=1, attended=2, ratings=2, average_rating=4.5),
                places("s2", enrolled=2, attended=2, ratings=1, average_rating=3.0),
                places("s3", enrolled=1, attended=1),
            ],
        },
        scheduling={
            "sessions": [
                session(
                    "s1",
                    "2025-03-18T10:00:00+01:00",
                    "Gouvernance",
                    questions=2,
                    experts_invited=2,
                    experts_confirmed=1,
                    report_shared=True,
                ),
                session("s2", "2025-05-20T10:00:00+02:00", "Foncier agricole", questions=1),
                session("s3", "2025-07-15T10:00:00+02:00", "Restauration collective"),
                session(
                    "s4", "2025-09-16T10:00:00+02:00", "Précarité alimentaire", status="cancelled"
                ),
            ]
        },
        programme={
            "programme": {
                "version": 2,
                "ballots": 2,
                "active_members": 3,
                "ranking": [
                    {"rank": 1, "title": "Gouvernance", "score": 5},
                    {"rank": 2, "title": "Foncier agricole", "score": 2},
                    {"rank": 3, "title": None, "score": 2},
                ],
            }
        },
        notifications={
            "emails": [
                {"kind": "welcome", "sent": 4, "failed": 0},
                {"kind": "session_invitation", "sent": 9, "failed": 1},
                {"kind": "a_future_kind", "sent": 1, "failed": 0},
            ]
        },
    )
