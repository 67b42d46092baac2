"""Notifications for the experts of a session, on both units of work."""

from __future__ import annotations

from typing import Any

from services.notifications import experts, handlers
from tests.harness.data import event
from tests.notifications.builders import enrolment
from tests.notifications.test_handlers import COORDINATION, DEPS, join, planned, upcoming

CLAIRE = "claire@cabinet-exemple.fr"


def expert(**extra: Any) -> dict[str, Any]:
    return {
        "session_id": "s1",
        "email": CLAIRE,
        "first_name": "Claire",
        "last_name": "Lambert",
        "organisation": "Cabinet Exemple",
        "expertise": "Commande publique",
        **extra,
    }


async def given_an_invited_expert(backend) -> None:
    await join(backend, "member@cc-exemple.fr")
    await backend.run(handlers.invite_to_session, event("session_scheduled", upcoming("s1")), DEPS)
    guest = enrolment("s1", "guest@commune.fr")
    await backend.run(handlers.confirm_signup, event("participant_enrolled", guest), DEPS)
    invited = event("expert_invited", expert(message="Merci de venir."))
    await backend.run(experts.invite_expert, invited, DEPS)


async def test_an_invited_expert_gets_the_invitation_and_once_accepting_the_session_s_emails(
    backend,
):
    await given_an_invited_expert(backend)
    await backend.run(experts.confirm_expert, event("expert_accepted", expert()), DEPS)
    moved = {
        **upcoming("s1", sequence=1),
        "previous_starts_at": upcoming("s1")["starts_at"],
        "change": "experts",
        "experts": [
            {k: expert()[k] for k in ("first_name", "last_name", "organisation", "expertise")}
        ],
    }
    await backend.run(handlers.announce_new_slot, event("session_rescheduled", moved), DEPS)

    assert await planned(backend, CLAIRE) == [
        ("expert_confirmation", "pending"),
        ("expert_invitation", "pending"),
        ("session_update", "pending"),
    ]
    assert await planned(backend, COORDINATION) == [("expert_acceptance", "pending")]
    assert ("session_update", "pending") in await planned(backend, "member@cc-exemple.fr")
    assert ("session_update", "pending") in await planned(backend, "guest@commune.fr")


async def test_a_declined_or_silent_invitation_is_told_to_the_coordinators(backend):
    await given_an_invited_expert(backend)
    await backend.run(experts.warn_no_answer, event("expert_no_answer", expert()), DEPS)
    declined = event("expert_declined", expert(note="En déplacement.", changed_mind=False))
    await backend.run(experts.note_decline, declined, DEPS)

    assert await planned(backend, COORDINATION) == [
        ("expert_decline", "pending"),
        ("expert_no_answer", "pending"),
    ]
    assert await planned(backend, CLAIRE) == [("expert_invitation", "pending")]


async def test_an_invited_expert_is_told_of_a_cancellation(backend):
    await given_an_invited_expert(backend)
    cancelled = {**upcoming("s1", sequence=1), "reason": "Intervenante absente."}
    await backend.run(handlers.announce_cancellation, event("session_cancelled", cancelled), DEPS)

    assert ("session_cancellation", "pending") in await planned(backend, CLAIRE)


async def test_an_answer_from_someone_not_invited_is_explained_to_them(backend):
    refused = {
        "session_id": "s1",
        "email": "someone@asso.org",
        "reason": "not_invited",
        "detail": "Pas d'invitation à cette adresse.",
    }
    await backend.run(
        experts.explain_response_rejection, event("expert_response_rejected", refused), DEPS
    )

    assert await planned(backend, "someone@asso.org") == [("expert_response_rejection", "pending")]
