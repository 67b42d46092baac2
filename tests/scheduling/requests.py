"""The scheduling service's requests and the session cycle's events, handled without
Kafka (on a test backend)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.scheduling import handlers
from services.scheduling.handlers import Deps
from shared.identity import person_key
from tests.harness.data import event
from tests.harness.units import Backend
from tests.scheduling.builders import paris
from tests.scheduling.flows import programme, schedule_request

KEY = "coordination"
"""The coordinators' tool keys its schedule requests by itself."""


async def schedule(
    backend: Backend,
    deps: Deps,
    start: datetime,
    end: datetime,
    title: str = "Gouvernance",
    **extra: Any,
) -> Any:
    """session_schedule_requested: the one event emitted (scheduled or rejected)."""
    request = event(
        "session_schedule_requested", {**schedule_request(start, end, title), **extra}, subject=KEY
    )
    [outcome] = await backend.run(handlers.schedule_session, request, deps)
    return outcome


async def schedule_day(
    backend: Backend, deps: Deps, month: int, day: int, title: str, *, year: int = 2020
) -> Any:
    """A 10:00-12:00 session requested on a day."""
    start, end = paris(year, month, day, 10), paris(year, month, day, 12)
    return await schedule(backend, deps, start, end, title)


async def reschedule(
    backend: Backend, deps: Deps, session_id: str, start: datetime, end: datetime
) -> list[Any]:
    """session_reschedule_requested: the events emitted."""
    data = {"session_id": session_id, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
    request = event("session_reschedule_requested", data, subject=session_id)
    return await backend.run(handlers.reschedule_session, request, deps)


async def cancel(
    backend: Backend, deps: Deps, session_id: str, reason: str = "Intervenante indisponible"
) -> list[Any]:
    """session_cancel_requested: the events emitted."""
    data = {"session_id": session_id, "reason": reason}
    request = event("session_cancel_requested", data, subject=session_id)
    return await backend.run(handlers.cancel_session, request, deps)


async def publish_programme(
    backend: Backend, deps: Deps, version: int, topic_ids: list[str], *, year: int = 2020
) -> list[Any]:
    """programme_published: the events emitted."""
    published = event("programme_published", programme(version, topic_ids, year=year))
    return await backend.run(handlers.apply_programme, published, deps)


def by_topic(emitted: list[Any], event_type: str) -> dict[str, Any]:
    """The data of the events of a type, by topic id."""
    return {e.data.topic_id: e.data for e in emitted if e.type == event_type}


# --- the session cycle ------------------------------------------------------------------

ASKER = "camille.martin@cc-exemple.fr"


def question(
    session_id: str,
    text: str = "Comment associer les cantines ?",
    *,
    email: str = ASKER,
    asked_by: str = "Camille Martin",
    at: datetime | None = None,
) -> Any:
    """session_question_accepted, as the registration service publishes it."""
    data = {"session_id": session_id, "email": email, "asked_by": asked_by, "question": text}
    return event("session_question_accepted", data, subject=session_id, at=at)


async def ask(backend: Backend, deps: Deps, accepted: Any) -> list[Any]:
    """Handle a session_question_accepted: the events emitted (a forwarded question)."""
    return await backend.run(handlers.keep_question, accepted, deps)


def report(session_id: str, summary: str = "Trois leviers ressortent.", **extra: Any) -> Any:
    """session_report_published, from the coordinators' tool."""
    data = {
        "session_id": session_id,
        "summary": summary,
        "resources": [{"title": "Guide", "url": "https://ressources.example.org/guide"}],
        "next_steps": ["Partager le guide"],
        "expertise_needs": ["Juriste marchés publics"],
        **extra,
    }
    return event("session_report_published", data, subject=session_id)


async def share(backend: Backend, deps: Deps, published: Any) -> list[Any]:
    """Handle a session_report_published: the events emitted."""
    return await backend.run(handlers.share_report, published, deps)


async def erase(backend: Backend, deps: Deps, email: str) -> list[Any]:
    """person_erased for the owner of `email` (by pseudonym): the events emitted."""
    erased = event("person_erased", {"person": person_key(email)}, subject=person_key(email))
    return await backend.run(handlers.erase_person, erased, deps)


# --- experts ------------------------------------------------------------------------------

EXPERT = "Claire.Dubois@inrae-exemple.fr"
"""An expert's address as a coordinator types it (capitals and all)."""


def invitation(session_id: str, email: str = EXPERT, **extra: Any) -> Any:
    """expert_invitation_requested, from the coordinators' tool."""
    data = {
        "session_id": session_id,
        "email": email,
        "first_name": "Claire",
        "last_name": "Dubois",
        "organisation": "INRAE",
        "expertise": "Restauration collective",
        "message": "Votre regard sur les marchés publics nous aiderait.",
        **extra,
    }
    return event("expert_invitation_requested", data, subject=session_id)


async def invite(
    backend: Backend, deps: Deps, session_id: str, email: str = EXPERT, **extra: Any
) -> list[Any]:
    """Handle an expert_invitation_requested: the events emitted."""
    return await backend.run(handlers.invite_expert, invitation(session_id, email, **extra), deps)


def response(session_id: str, answer: str, email: str = EXPERT, note: str | None = None) -> Any:
    """expert_response_submitted, as the gateway publishes it (a one-click link)."""
    data = {"session_id": session_id, "email": email, "response": answer, "note": note}
    return event("expert_response_submitted", data, subject=session_id)


async def answer(
    backend: Backend,
    deps: Deps,
    session_id: str,
    reply: str,
    email: str = EXPERT,
    note: str | None = None,
) -> list[Any]:
    """Handle an expert_response_submitted: the events emitted."""
    submitted = response(session_id, reply, email, note)
    return await backend.run(handlers.record_expert_answer, submitted, deps)
