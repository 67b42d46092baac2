"""Notifications handlers: keep the recipients projection, plan the emails an event warrants.

`verb_object(event, uow, deps)`: each reads and updates the projection and plans
deliveries through the unit of work, in the transaction that records the event id, so
that a redelivered event plans nothing twice. The sender (sender.py), woken once the
batch is committed, sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from services.notifications.domain import (
    ANNOUNCED_TO_THE_INTERESTED,
    KEEPS_AFTER_LEAVING,
    Recipient,
    signup_kind,
)
from services.notifications.records import (
    Dispatch,
    Interest,
    Participation,
    ProgrammeVersion,
    SessionVersion,
)
from services.notifications.unit import Unit
from shared.clock import Clock
from shared.contract import CloudEvent
from shared.contract.interest import (
    ConfirmationRequested,
    InterestRecorded,
    InterestRejected,
    InterestRemoved,
    PersonErased,
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
    SessionData,
    SessionReminderDue,
    SessionRescheduled,
    SessionScheduled,
)
from shared.links import Audience

SESSION_FIELDS = frozenset(SessionData.model_fields)


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides storage, built once by the composition root."""

    clock: Clock
    coordinators: tuple[str, ...]
    capacity: int
    wake: asyncio.Event
    """Set once a batch is committed: the sender looks for new deliveries at once."""


# --- registration ---------------------------------------------------------------------


async def welcome_member(event: MemberRegistered, uow: Unit, deps: Deps) -> None:
    """Add the member to the projection and welcome them (unless they already left);
    send them what members already had: the upcoming sessions, this year's programme."""
    data = event.data
    member = Recipient(data.email, data.first_name, data.last_name)
    if not await uow.recipients.add_member(data.member_id, member):
        return  # known already, or a tombstone: left or erased first
    now = deps.clock()
    await uow.deliveries.plan(personal(event, "welcome", member), now=now)
    upcoming = await uow.recipients.upcoming_sessions(now)  # with the programmes: one read
    for programme in await uow.recipients.current_programmes(now.year):
        await uow.deliveries.plan(late_announcement(programme, member), now=now)
    for session in upcoming:
        await uow.deliveries.plan(late_invitation(session, member), now=now)


async def explain_rejection(event: RegistrationRejected, uow: Unit, deps: Deps) -> None:
    """Tell the person why the registration was refused, and how to join sessions (a
    person not eligible is on the interest list: the email can unsubscribe them)."""
    data = event.data
    audience: Audience | None = "interested" if data.reason == "not_eligible" else None
    person = Recipient(data.email, data.first_name, audience=audience)
    await uow.deliveries.plan(personal(event, "rejection", person), now=deps.clock())


async def confirm_leave(event: MemberLeft, uow: Unit, deps: Deps) -> None:
    """Stop every email to a member who left; confirm their leaving (once)."""
    data = event.data
    person = Recipient(data.email, data.first_name)
    known = await uow.recipients.member(data.member_id)
    await uow.recipients.mark_left(data.member_id, person)
    await uow.recipients.withdraw_person(person.key, as_of=event.time)
    await uow.deliveries.cancel_pending(person.person, kinds=sorted(KEEPS_AFTER_LEAVING), keep=True)
    erase_after = data.erase or bool(known and known.erased)
    confirmation = personal(event, "leave_confirmation", person, erase_after_send=erase_after)
    await uow.deliveries.plan(confirmation, now=deps.clock())


async def erase_member(event: MemberErased, uow: Unit, deps: Deps) -> None:
    """Erase the person's address and names from the projection, deliveries and contents,
    and their contributions (by pseudonym, never by name) from the programmes kept here."""
    known = await uow.recipients.mark_erased(event.data.member_id)
    if known is None or known.recipient is None:
        return
    person = known.recipient.person
    await uow.recipients.forget_participations(known.recipient.key)
    await uow.deliveries.erase_person(person)
    await uow.recipients.forget_author(person)
    await uow.deliveries.forget_author(person)


async def erase_person(event: PersonErased, uow: Unit, deps: Deps) -> None:
    """Erase anyone, member or not, by pseudonym: their participations, their place on
    the interest list, their deliveries and the contents naming them, their words."""
    person = event.data.person
    await uow.recipients.forget_person(person)
    # Nothing more goes to them but a member's leave confirmation (their last email).
    await uow.deliveries.cancel_pending(person, kinds=sorted(KEEPS_AFTER_LEAVING), keep=True)
    await uow.deliveries.erase_person(person)
    await uow.recipients.forget_author(person)
    await uow.deliveries.forget_author(person)


async def confirm_signup(event: ParticipantEnrolled, uow: Unit, deps: Deps) -> None:
    """Record the participant; confirm the place (with the ICS) or the waitlist position."""
    data = event.data
    person = Recipient(data.email, data.first_name, data.last_name)
    participation = Participation(data.participant_id, data.session_id, data.status, person)
    if not await uow.recipients.save_participation(participation, as_of=event.time):
        return  # a later change (a withdrawal) is already known
    kind = signup_kind(status=data.status, promoted=data.promoted)
    planned = personal(event, kind, person, session_id=data.session_id)
    await uow.deliveries.plan(planned, now=deps.clock())


async def forget_participation(event: ParticipantWithdrawn, uow: Unit, deps: Deps) -> None:
    """A participant is no longer invited (but still told if the session is cancelled)."""
    data = event.data
    if data.reason == "session_cancelled":  # still told of the cancellation: the address
        person = Recipient(data.email)
        change = Participation(
            data.participant_id, data.session_id, "session_cancelled", person, data.reason
        )
    else:
        # The record only says "no longer invited": processed after the person's
        # erasure (another topic), it must not bring their address back.
        change = Participation(data.participant_id, data.session_id, "withdrawn", None, data.reason)
    await uow.recipients.save_participation(change, as_of=event.time)


async def explain_signup_rejection(event: SessionSignupRejected, uow: Unit, deps: Deps) -> None:
    """Tell the person why the sign-up was refused."""
    data = event.data
    person = Recipient(data.email, data.first_name)
    known = await uow.recipients.session(data.session_id)
    planned = personal(event, "signup_rejection", person, session=known.data if known else None)
    await uow.deliveries.plan(planned, now=deps.clock())


# --- the interest list ----------------------------------------------------------------


async def note_interest(event: InterestRecorded, uow: Unit, deps: Deps) -> None:
    """Keep the person on the interest list; confirm a declaration (the rejection email of
    someone refused membership already says so), and announce the upcoming sessions
    that concern them, unless they are a member."""
    data = event.data
    person = Recipient(data.email, data.first_name, data.last_name, audience="interested")
    interest = Interest(person, tuple(data.topic_ids))
    await uow.recipients.save_interest(interest)
    now = deps.clock()
    if data.origin == "declared":
        await uow.deliveries.plan(personal(event, "interest_confirmation", person), now=now)
    members = {member.key for member in await uow.recipients.active_members()}
    if person.key in members:
        return
    for session in await uow.recipients.upcoming_sessions(now):
        topic = session.data.get("topic_id")
        if session.event_type == "session_scheduled" and interest.wants(topic):
            places = max(0, deps.capacity - await uow.recipients.enrolled(session.session_id))
            await uow.deliveries.plan(late_announcement_of(session, person, places), now=now)


async def forget_interest(event: InterestRemoved, uow: Unit, deps: Deps) -> None:
    """Take the person off the list; what was still to be announced to them is dropped."""
    person = Recipient(event.data.email)
    await uow.recipients.remove_interest(person.person)
    await uow.deliveries.cancel_pending(
        person.person, kinds=sorted(ANNOUNCED_TO_THE_INTERESTED), keep=False
    )


async def explain_interest_rejection(event: InterestRejected, uow: Unit, deps: Deps) -> None:
    """Tell the person why they could not be put on the interest list."""
    person = Recipient(event.data.email, event.data.first_name)
    await uow.deliveries.plan(personal(event, "interest_rejection", person), now=deps.clock())


async def send_confirmation_link(event: ConfirmationRequested, uow: Unit, deps: Deps) -> None:
    """A form of the public pages: mail the link that confirms it (double opt-in)."""
    data = event.data
    person = Recipient(data.email, data.first_name, data.last_name)
    known = await uow.recipients.session(data.session_id) if data.session_id else None
    planned = personal(
        event,
        "confirmation_link",
        person,
        session_id=data.session_id,
        session=known.data if known else None,
    )
    await uow.deliveries.plan(planned, now=deps.clock())


# --- programme ------------------------------------------------------------------------


async def acknowledge_topic(event: TopicAccepted, uow: Unit, deps: Deps) -> None:
    """Thank the proposer; tell the coordinators."""
    proposer = event.data.proposed_by
    person = Recipient(proposer.email, proposer.name)
    now = deps.clock()
    await uow.deliveries.plan(personal(event, "topic_acknowledgement", person), now=now)
    coordinators = [Recipient(address) for address in deps.coordinators]
    if coordinators:
        notice = dispatch(event, "topic_notice", coordinators, personal_keys=(person.person,))
        await uow.deliveries.plan(notice, now=now)


async def announce_programme(event: ProgrammePublished, uow: Unit, deps: Deps) -> None:
    """Send the published programme to every member (unless a later version is known)."""
    data = event.data
    known = await uow.recipients.programme(data.year)
    if known and known.version > data.version:
        return  # superseded: the members had, or will have, the later version
    version = ProgrammeVersion(
        year=data.year,
        version=data.version,
        data=data.model_dump(mode="json"),
        event_id=event.id,
        event_type=event.type,
        event_time=event.time,
    )
    await uow.recipients.save_programme(version)
    members = await uow.recipients.active_members()
    await uow.deliveries.plan(dispatch(event, "programme_announcement", members), now=deps.clock())


async def explain_ballot_rejection(event: BallotRejected, uow: Unit, deps: Deps) -> None:
    """Tell the voter why the ballot was refused."""
    person = Recipient(event.data.email)
    await uow.deliveries.plan(personal(event, "ballot_rejection", person), now=deps.clock())


# --- scheduling -----------------------------------------------------------------------

SessionEvent = SessionScheduled | SessionRescheduled | SessionCancelled
SESSION_EMAILS: dict[str, tuple[EmailKind, tuple[str, ...]]] = {
    # The kind of email, and which participants get it besides the members (and the
    # session's experts: those who accepted; an invited one is told of a cancellation).
    # A session's invitation goes to the members only (`invite_to_session` relies on it:
    # they are who the interest list's announcement leaves out). A sign-up is accepted
    # for a session the registration service knows, and its confirmation carries the
    # ICS; whether this service reads the sign-up or the announcement first (two topics)
    # must not decide whether a guest gets one email or two.
    "session_scheduled": ("session_invitation", ()),
    "session_rescheduled": ("session_update", ("enrolled",)),
    "session_cancelled": ("session_cancellation", ("enrolled", "waitlisted", "session_cancelled")),
}


async def invite_to_session(event: SessionScheduled, uow: Unit, deps: Deps) -> None:
    """Invite the members (ICS, METHOD:REQUEST); announce the session to the people on
    the interest list whose topics it matches and who are not members (no ICS: they
    are not enrolled, the announcement has a one-click sign-up link)."""
    invited = await session_changed(event, uow, deps)
    if invited is not None:  # the members, read once for both
        await announce_to_the_interested(event, uow, deps, members=invited)


async def announce_new_slot(event: SessionRescheduled, uow: Unit, deps: Deps) -> None:
    """Send the new slot to members and enrolled participants (ICS, next SEQUENCE)."""
    await session_changed(event, uow, deps)


async def announce_cancellation(event: SessionCancelled, uow: Unit, deps: Deps) -> None:
    """Tell members and every participant, waitlist included (ICS, METHOD:CANCEL)."""
    await session_changed(event, uow, deps)


async def session_changed(event: SessionEvent, uow: Unit, deps: Deps) -> list[Recipient] | None:
    """A session version: update the projection, fan the email out unless superseded;
    the recipients when it was fanned out."""
    data = event.data
    cancelled = isinstance(event, SessionCancelled)
    known = await uow.recipients.session(data.session_id)
    newer = known is None or data.sequence > known.sequence
    if newer or cancelled:
        version = SessionVersion(
            session_id=data.session_id,
            sequence=max(data.sequence, known.sequence if known else 0),
            starts_at=data.starts_at,
            data=data.model_dump(mode="json"),
            event_id=event.id,
            event_type=event.type,
            event_time=event.time,
            cancelled=cancelled,
        )
        await uow.recipients.save_session(version)
    if not cancelled and (not newer or (known and known.cancelled)):
        return None  # superseded by a later version, or the session is cancelled
    kind, statuses = SESSION_EMAILS[event.type]
    recipients = await _session_recipients(uow, data.session_id, statuses)
    planned = dispatch(event, kind, recipients, session_id=data.session_id)
    await uow.deliveries.plan(planned, now=deps.clock())
    return recipients


async def announce_to_the_interested(
    event: SessionScheduled, uow: Unit, deps: Deps, *, members: Sequence[Recipient]
) -> None:
    """One announcement per interested person who is not a member (`members`: they are
    invited)."""
    data = event.data
    invited = {member.key for member in members}
    concerned = [
        person
        for person in await uow.recipients.interested_in(data.topic_id)
        if person.key not in invited
    ]
    if concerned:
        places = max(0, deps.capacity - await uow.recipients.enrolled(data.session_id))
        planned = dispatch(event, "session_announcement", concerned, session_id=data.session_id)
        await uow.deliveries.plan(replace(planned, places=places), now=deps.clock())


async def remind_session(event: SessionReminderDue, uow: Unit, deps: Deps) -> None:
    """Remind members and participants (never for a cancelled session)."""
    data = event.data
    known = await uow.recipients.session(data.session_id)
    if known and known.cancelled:
        return
    recipients = await _session_recipients(uow, data.session_id, ("enrolled",))
    planned = dispatch(event, "reminder", recipients, session_id=data.session_id)
    await uow.deliveries.plan(planned, now=deps.clock())


async def _session_recipients(
    uow: Unit, session_id: str, statuses: Sequence[str]
) -> list[Recipient]:
    members = await uow.recipients.active_members()
    if not statuses:
        return members
    experts = ("invited", "accepted") if "session_cancelled" in statuses else ("accepted",)
    participants = await uow.recipients.participants(session_id, statuses)
    return members + participants + await uow.recipients.experts(session_id, experts)


# --- what to send ---------------------------------------------------------------------


def dispatch(
    event: CloudEvent[Any], kind: EmailKind, recipients: Sequence[Recipient], **extra: Any
) -> Dispatch:
    """One kind of email for `event`, to `recipients`."""
    return Dispatch(
        kind=kind,
        cause_id=event.id,
        cause_type=event.type,
        cause_time=event.time,
        data=event.data.model_dump(mode="json"),
        recipients=tuple(recipients),
        **extra,
    )


def personal(
    event: CloudEvent[Any], kind: EmailKind, recipient: Recipient, **extra: Any
) -> Dispatch:
    """An email to one person, made from data about them (erasable by their address)."""
    return dispatch(event, kind, [recipient], personal_keys=(recipient.person,), **extra)


def late_announcement(programme: ProgrammeVersion, member: Recipient) -> Dispatch:
    """A member who joins after the year's programme was published receives it as well
    (same cause as the fan-out's, so one announcement whichever is processed first)."""
    return Dispatch(
        kind="programme_announcement",
        cause_id=programme.event_id,
        cause_type=programme.event_type,
        cause_time=programme.event_time,
        data=programme.data,
        recipients=(member,),
        late=True,
    )


def late_announcement_of(session: SessionVersion, person: Recipient, places: int) -> Dispatch:
    """Someone who joins the interest list after a session was announced is told of it
    too (same cause as the fan-out's: one announcement either way)."""
    fields = {name: value for name, value in session.data.items() if name in SESSION_FIELDS}
    return Dispatch(
        kind="session_announcement",
        cause_id=session.event_id,
        cause_type=session.event_type,
        cause_time=session.event_time,
        data=fields,
        recipients=(person,),
        session_id=session.session_id,
        places=places,
        late=True,
    )


def late_invitation(session: SessionVersion, member: Recipient) -> Dispatch:
    """A member who joins after a session was announced is invited to it as well.

    The cause is the event that announced the session's current version, so that the
    delivery key is the one the fan-out would have used: one invitation either way.
    """
    fields = {name: value for name, value in session.data.items() if name in SESSION_FIELDS}
    return Dispatch(
        kind="session_invitation",
        cause_id=session.event_id,
        cause_type=session.event_type,
        cause_time=session.event_time,
        data=fields,
        recipients=(member,),
        session_id=session.session_id,
        late=True,
    )
