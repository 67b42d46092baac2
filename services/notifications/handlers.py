"""Handlers: update the recipients projection, decide which emails an event warrants.

Each handler returns a Step (services/notifications/steps.py) that the shared batch
consumer runs in one transaction with the record of the event id.
"""

from __future__ import annotations

from typing import Any

from services.notifications.domain import (
    KEEPS_AFTER_LEAVING,
    Recipient,
    author_name,
    email_key,
    is_newer_session,
    signup_kind,
)
from services.notifications.outbox import Dispatch, SessionVersion
from services.notifications.steps import (
    Decide,
    Deps,
    Tx,
    dispatch,
    late_announcement,
    late_invitation,
    personal,
    record,
)
from shared.contract.notifications import EmailKind
from shared.contract.programme import BallotRejected, ProgrammePublished, TopicAccepted
from shared.contract.registration import (
    MemberErased,
    MemberLeft,
    MemberRegistered,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    RegistrationRejected,
    SessionSignupRejected,
)
from shared.contract.scheduling import (
    SessionCancelled,
    SessionReminderDue,
    SessionRescheduled,
    SessionScheduled,
)
from shared.inbox import Step

# --- registration ---------------------------------------------------------------------


async def welcome_member(event: MemberRegistered, deps: Deps) -> Step:
    """Add the member to the projection and welcome them (unless they already left);
    send them what members already had: the upcoming sessions, this year's programme."""
    data = event.data
    member = Recipient(data.email, data.first_name, data.last_name)

    async def decide(tx: Tx) -> list[Dispatch]:
        if not await deps.repo.add_member(data.member_id, member, session=tx):
            return []  # known already, or a tombstone: left or erased first
        now = deps.clock()
        upcoming = await deps.repo.upcoming_sessions(now=now, session=tx)
        programmes = await deps.repo.current_programmes(year=now.year, session=tx)
        return (
            [personal(event, "welcome", member)]
            + [late_announcement(known, member) for known in programmes]
            + [late_invitation(known, member) for known in upcoming]
        )

    return record(event, deps, decide)


async def explain_rejection(event: RegistrationRejected, deps: Deps) -> Step:
    """Tell the person why the registration was refused, and how to join sessions."""
    person = Recipient(event.data.email, event.data.first_name)
    return record(event, deps, _always([personal(event, "rejection", person)]))


async def confirm_leave(event: MemberLeft, deps: Deps) -> Step:
    """Stop every email to a member who left; confirm their leaving (once)."""
    data = event.data
    person = Recipient(data.email, data.first_name)

    async def decide(tx: Tx) -> list[Dispatch]:
        known = await deps.repo.member(data.member_id, session=tx)
        erased = bool(known and known.get("erased"))
        await deps.repo.mark_left(data.member_id, person, session=tx)
        await deps.repo.withdraw_person(person.key, as_of=event.time, session=tx)
        await deps.repo.cancel_pending(person.key, keep=sorted(KEEPS_AFTER_LEAVING), session=tx)
        erase_after = data.erase or erased
        return [personal(event, "leave_confirmation", person, erase_after_send=erase_after)]

    return record(event, deps, decide)


async def erase_member(event: MemberErased, deps: Deps) -> Step:
    """Erase the person's address and names from the projection, deliveries and contents,
    and their contributions from the programmes kept here."""

    async def decide(tx: Tx) -> list[Dispatch]:
        known = await deps.repo.mark_erased(event.data.member_id, session=tx)
        key = known.get("email_key") if known else None
        if key is not None:
            await deps.repo.erase_person(key, session=tx)
        if known and known.get("first_name") and known.get("last_name"):
            author = author_name(known["first_name"], known["last_name"])
            await deps.repo.forget_author(author, session=tx)
        return []

    return record(event, deps, decide)


async def confirm_signup(event: ParticipantEnrolled, deps: Deps) -> Step:
    """Record the participant; confirm the place (with the ICS) or the waitlist position."""
    data = event.data
    person = Recipient(data.email, data.first_name, data.last_name)

    async def decide(tx: Tx) -> list[Dispatch]:
        fields = {**_person(person), "session_id": data.session_id, "status": data.status}
        applied = await deps.repo.save_participant(
            data.participant_id, fields, as_of=event.time, session=tx
        )
        if not applied:
            return []  # a later change (a withdrawal) is already known
        kind = signup_kind(status=data.status, promoted=data.promoted)
        return [personal(event, kind, person, session_id=data.session_id)]

    return record(event, deps, decide)


async def forget_participation(event: ParticipantWithdrawn, deps: Deps) -> Step:
    """A participant is no longer invited (but still told if the session is cancelled)."""
    data = event.data
    status = "session_cancelled" if data.reason == "session_cancelled" else "withdrawn"

    async def decide(tx: Tx) -> list[Dispatch]:
        fields: dict[str, Any] = {"session_id": data.session_id, "status": status}
        fields["reason"] = data.reason
        if status == "session_cancelled":  # still told of the cancellation: the address
            fields.update(email=data.email, email_key=email_key(data.email))
        # Otherwise the record only says "no longer invited": processed after the
        # person's erasure (another topic), it must not bring their address back.
        await deps.repo.save_participant(data.participant_id, fields, as_of=event.time, session=tx)
        return []

    return record(event, deps, decide)


async def explain_signup_rejection(event: SessionSignupRejected, deps: Deps) -> Step:
    """Tell the person why the sign-up was refused."""
    data = event.data
    person = Recipient(data.email, data.first_name)

    async def decide(tx: Tx) -> list[Dispatch]:
        known = await deps.repo.session_doc(data.session_id, session=tx)
        snapshot = known["data"] if known else None
        return [personal(event, "signup_rejection", person, session=snapshot)]

    return record(event, deps, decide)


# --- programme ------------------------------------------------------------------------


async def acknowledge_topic(event: TopicAccepted, deps: Deps) -> Step:
    """Thank the proposer; tell the coordinators."""
    proposer = event.data.proposed_by
    person = Recipient(proposer.email, proposer.name)
    planned = [personal(event, "topic_acknowledgement", person)]
    coordinators = [Recipient(address) for address in deps.settings.coordinators]
    if coordinators:
        keys = (person.key,)
        planned.append(dispatch(event, "topic_notice", coordinators, personal_keys=keys))
    return record(event, deps, _always(planned))


async def announce_programme(event: ProgrammePublished, deps: Deps) -> Step:
    """Send the published programme to every member (unless a later version is known)."""
    data = event.data

    async def decide(tx: Tx) -> list[Dispatch]:
        known = await deps.repo.programme_doc(data.year, session=tx)
        if known and known["version"] > data.version:
            return []  # superseded: the members had, or will have, the later version
        fields = {
            "_id": data.year,
            "version": data.version,
            "data": data.model_dump(mode="json"),
            "event_id": event.id,
            "event_type": event.type,
            "event_time": event.time,
        }
        await deps.repo.save_programme(fields, session=tx)
        members = await deps.repo.active_members(session=tx)
        return [dispatch(event, "programme_announcement", members)]

    return record(event, deps, decide)


async def explain_ballot_rejection(event: BallotRejected, deps: Deps) -> Step:
    """Tell the voter why the ballot was refused."""
    person = Recipient(event.data.email)
    return record(event, deps, _always([personal(event, "ballot_rejection", person)]))


# --- scheduling -----------------------------------------------------------------------

SessionEvent = SessionScheduled | SessionRescheduled | SessionCancelled


async def invite_to_session(event: SessionScheduled, deps: Deps) -> Step:
    """Invite the members (ICS, METHOD:REQUEST).

    Participants are not invited: a sign-up is only accepted for a session the
    registration service knows, and its confirmation carries the session's ICS. Whether
    this service reads the sign-up or the announcement first (two topics) must not
    decide whether a guest gets one email or two."""
    return session_changed(event, deps)


async def announce_new_slot(event: SessionRescheduled, deps: Deps) -> Step:
    """Send the new slot to members and enrolled participants (ICS, next SEQUENCE)."""
    return session_changed(event, deps)


async def announce_cancellation(event: SessionCancelled, deps: Deps) -> Step:
    """Tell members and every participant, waitlist included (ICS, METHOD:CANCEL)."""
    return session_changed(event, deps)


def session_changed(event: SessionEvent, deps: Deps) -> Step:
    """A session version: update the projection, fan the email out unless superseded."""
    data = event.data
    cancelled = isinstance(event, SessionCancelled)
    kinds: dict[str, EmailKind] = {
        "session_scheduled": "session_invitation",
        "session_rescheduled": "session_update",
        "session_cancelled": "session_cancellation",
    }
    statuses = {
        "session_scheduled": [],
        "session_rescheduled": ["enrolled"],
        "session_cancelled": ["enrolled", "waitlisted", "session_cancelled"],
    }[event.type]

    async def decide(tx: Tx) -> list[Dispatch]:
        known = await deps.repo.session_doc(data.session_id, session=tx)
        newer = is_newer_session(
            stored_sequence=known["sequence"] if known else None, incoming_sequence=data.sequence
        )
        if newer or cancelled:
            version = SessionVersion(
                session_id=data.session_id,
                sequence=max(data.sequence, known["sequence"] if known else 0),
                starts_at=data.starts_at,
                data=data.model_dump(mode="json"),
                event_id=event.id,
                event_type=event.type,
                event_time=event.time,
            )
            await deps.repo.save_session(version, cancelled=cancelled, session=tx)
        if not cancelled and (not newer or (known and known.get("cancelled"))):
            return []  # superseded by a later version, or the session is cancelled
        recipients = await _session_recipients(deps, data.session_id, statuses, tx)
        return [dispatch(event, kinds[event.type], recipients, session_id=data.session_id)]

    return record(event, deps, decide)


async def remind_session(event: SessionReminderDue, deps: Deps) -> Step:
    """Remind members and participants (never for a cancelled session)."""
    data = event.data

    async def decide(tx: Tx) -> list[Dispatch]:
        known = await deps.repo.session_doc(data.session_id, session=tx)
        if known and known.get("cancelled"):
            return []
        recipients = await _session_recipients(deps, data.session_id, ["enrolled"], tx)
        return [dispatch(event, "reminder", recipients, session_id=data.session_id)]

    return record(event, deps, decide)


async def _session_recipients(
    deps: Deps, session_id: str, statuses: list[str], tx: Tx
) -> list[Recipient]:
    members = await deps.repo.active_members(session=tx)
    if not statuses:
        return members
    participants = await deps.repo.participants(session_id, statuses=statuses, session=tx)
    return members + participants


def _always(planned: list[Dispatch]) -> Decide:
    async def decide(tx: Tx) -> list[Dispatch]:
        return planned

    return decide


def _person(recipient: Recipient) -> dict[str, Any]:
    return {
        "email": recipient.email,
        "email_key": recipient.key,
        "first_name": recipient.first_name,
        "last_name": recipient.last_name,
    }
