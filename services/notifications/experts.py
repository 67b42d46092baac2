"""Notifications handlers for the experts of a session.

| event | email | to |
|---|---|---|
| expert_invited | expert_invitation (accept / decline links) | the expert |
| expert_accepted | expert_confirmation (ICS); expert_acceptance | the expert; coordinators |
| expert_declined | expert_decline (the note; a change of mind said) | the coordinators |
| expert_no_answer | expert_no_answer | the coordinators |
| expert_invitation_rejected | expert_invitation_rejection | the coordinators |
| expert_response_rejected | expert_response_rejection | who answered |

The members and participants learn of an accepted expert from the session's update
(scheduling bumps its SEQUENCE); confirmed experts get the session's updates, reminders,
cancellation and question digest like everyone, and an invited expert the cancellation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.notifications.domain import Recipient
from services.notifications.handlers import Deps, dispatch, personal
from services.notifications.unit import Unit
from shared.contract.experts import (
    ExpertAccepted,
    ExpertDeclined,
    ExpertInvitationRejected,
    ExpertInvited,
    ExpertNoAnswer,
    ExpertResponseRejected,
)
from shared.contract.notifications import EmailKind


def _expert(event: ExpertInvited | ExpertAccepted | ExpertDeclined) -> Recipient:
    data = event.data
    return Recipient(data.email, data.first_name, data.last_name, audience="expert")


async def invite_expert(event: ExpertInvited, uow: Unit, deps: Deps) -> None:
    """The invitation: the session, its question, how many signed up, the coordinator's
    message, and one-click accept / decline links."""
    data = event.data
    expert = _expert(event)
    await uow.recipients.save_expert(data.session_id, expert, "invited")
    known = await uow.recipients.session(data.session_id)
    if known is None:
        return
    planned = personal(
        event, "expert_invitation", expert, session_id=data.session_id, session=known.data
    )
    enrolled = await uow.recipients.enrolled(data.session_id)
    await uow.deliveries.plan(replace(planned, places=enrolled), now=deps.clock())


async def confirm_expert(event: ExpertAccepted, uow: Unit, deps: Deps) -> None:
    """The expert gets the session's calendar invitation; the coordinators are told."""
    data = event.data
    expert = _expert(event)
    await uow.recipients.save_expert(data.session_id, expert, "accepted")
    known = await uow.recipients.session(data.session_id)
    now = deps.clock()
    if known is not None and not known.cancelled:
        confirmation = personal(
            event, "expert_confirmation", expert, session_id=data.session_id, session=known.data
        )
        await uow.deliveries.plan(confirmation, now=now)
    await _tell_the_coordinators(
        event, "expert_acceptance", uow, deps, known.data if known else None
    )


async def note_decline(event: ExpertDeclined, uow: Unit, deps: Deps) -> None:
    """The coordinators are told, with the expert's note (and whether they had accepted)."""
    data = event.data
    await uow.recipients.save_expert(data.session_id, _expert(event), "declined")
    known = await uow.recipients.session(data.session_id)
    await _tell_the_coordinators(event, "expert_decline", uow, deps, known.data if known else None)


async def warn_no_answer(event: ExpertNoAnswer, uow: Unit, deps: Deps) -> None:
    """An invited expert is silent 7 days before the session: the coordinators are told."""
    known = await uow.recipients.session(event.data.session_id)
    await _tell_the_coordinators(
        event, "expert_no_answer", uow, deps, known.data if known else None
    )


async def explain_invitation_rejection(
    event: ExpertInvitationRejected, uow: Unit, deps: Deps
) -> None:
    """Tell the coordinators why an invitation could not be sent."""
    known = await uow.recipients.session(event.data.session_id)
    await _tell_the_coordinators(
        event, "expert_invitation_rejection", uow, deps, known.data if known else None
    )


async def explain_response_rejection(event: ExpertResponseRejected, uow: Unit, deps: Deps) -> None:
    """Tell whoever answered why their answer could not be taken."""
    data = event.data
    known = await uow.recipients.session(data.session_id)
    planned = personal(
        event,
        "expert_response_rejection",
        Recipient(data.email),
        session=known.data if known else None,
    )
    await uow.deliveries.plan(planned, now=deps.clock())


async def _tell_the_coordinators(
    event: ExpertAccepted | ExpertDeclined | ExpertNoAnswer | ExpertInvitationRejected,
    kind: EmailKind,
    uow: Unit,
    deps: Deps,
    session: dict[str, Any] | None,
) -> None:
    coordinators = [Recipient(address) for address in deps.coordinators]
    if coordinators:
        planned = dispatch(event, kind, coordinators, session=session)
        await uow.deliveries.plan(planned, now=deps.clock())
