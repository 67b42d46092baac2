"""Scheduling handlers: `verb_object(event, uow, deps) -> events to publish`.

Each one checks its request with the pure rules (domain.py, programme_plan.py), reads
and writes through the unit of work's repositories, and returns the events it emits;
the inbox runs it once per event id, in a transaction (shared/inbox.py). Every change
to a session re-plans its timer (reminders, the digest of questions until it is sent,
and the notices of its invited experts' silence) in the same transaction.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.scheduling import domain, events
from services.scheduling.cadence import Slot
from services.scheduling.domain import (
    REMINDER_KINDS,
    TIMER_KINDS,
    ExpertRefusal,
    Rejection,
    Session,
    SessionExpert,
)
from services.scheduling.programme_plan import ProgrammePlan, Topic, launch_of, plan_programme
from services.scheduling.records import Invitation, Question, Report, Resource
from services.scheduling.timer import SessionTimer
from services.scheduling.unit import Unit
from shared.clock import Clock
from shared.contract import CloudEvent, derived_id
from shared.contract.cycle import (
    ExpertInvitationRequested,
    ExpertResponseSubmitted,
    SessionQuestionAccepted,
    SessionReportPublished,
)
from shared.contract.interest import PersonErased
from shared.contract.programme import ProgrammePublished
from shared.contract.scheduling import (
    SessionCancelRequested,
    SessionRescheduleRequested,
    SessionScheduleRequested,
)
from shared.errors import PoisonMessage
from shared.identity import EmailAddress, InvalidAddress, check_address, person_key

logger = logging.getLogger(__name__)

Emitted = list[CloudEvent[Any]]


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides storage, and the session timer (the service's
    background task), built once by the composition root."""

    clock: Clock
    webconference_base_url: str
    digest_ahead: timedelta
    """QUESTION_DIGEST_HOURS: how long before its start a session's digest is due."""
    timer: SessionTimer

    def new_join_url(self) -> str:
        """A webconference room with an unguessable name."""
        return f"{self.webconference_base_url.rstrip('/')}/pat-{secrets.token_urlsafe(18)}"


# --- requests --------------------------------------------------------------------------


async def schedule_session(event: SessionScheduleRequested, uow: Unit, deps: Deps) -> Emitted:
    """Schedule a session (two hours at most, ahead, off holidays, no overlap) or reject it."""
    request = event.data
    now = deps.clock()
    candidate = Session(
        session_id=derived_id(event.id, "session"),
        topic_id=request.topic_id,
        title=request.title,
        question=request.question,
        slot=Slot.of(request.starts_at, request.ends_at),
        join_url=request.join_url or deps.new_join_url(),
    )
    await uow.sessions.lock_calendar()
    others = await uow.sessions.overlapping(candidate.slot)
    outcome = domain.schedule(candidate, now=now, others=others)
    if isinstance(outcome, Rejection):
        return [_rejected(outcome, event, now=now)]
    await _store(outcome, uow=uow, deps=deps, now=now)
    return [events.scheduled(outcome, cause_id=event.id, now=now)]


async def reschedule_session(event: SessionRescheduleRequested, uow: Unit, deps: Deps) -> Emitted:
    """Move a future session to a slot that obeys the rules (sequence + 1), or reject it."""
    request = event.data
    now = deps.clock()
    slot = Slot.of(request.starts_at, request.ends_at)
    await uow.sessions.lock_calendar()
    existing = await uow.sessions.find(request.session_id)
    others = await uow.sessions.overlapping(slot)
    outcome = domain.reschedule(existing, slot, now=now, others=others)
    if isinstance(outcome, Rejection):
        return [_rejected(outcome, event, now=now, session_id=request.session_id)]
    if existing is None or outcome == existing:
        return []  # the same slot: nothing changes, nothing to tell
    await _store(outcome, uow=uow, deps=deps, now=now)
    previous = existing.slot.starts_at
    return [events.rescheduled(outcome, previous_starts_at=previous, cause_id=event.id, now=now)]


async def cancel_session(event: SessionCancelRequested, uow: Unit, deps: Deps) -> Emitted:
    """Cancel a future session and its reminders (sequence + 1), or reject the request."""
    request = event.data
    now = deps.clock()
    existing = await uow.sessions.find(request.session_id)
    outcome = domain.cancel(existing, now=now, reason=request.reason)
    if isinstance(outcome, Rejection):
        return [_rejected(outcome, event, now=now, session_id=request.session_id)]
    await _store(outcome, uow=uow, deps=deps, now=now)
    return [events.cancelled(outcome, cause_id=event.id, now=now)]


# --- the programme ---------------------------------------------------------------------


async def apply_programme(event: ProgrammePublished, uow: Unit, deps: Deps) -> Emitted:
    """Place the programme's topics on the bimonthly cadence; a newer version updates them."""
    programme = event.data
    now = deps.clock()
    await uow.sessions.lock_calendar()
    if programme.version <= await uow.programmes.applied_version(programme.year):
        logger.info("programme %s v%d already superseded", programme.year, programme.version)
        return []
    sessions = await uow.sessions.live_in_year(programme.year)
    current = [s for s in sessions if s.programme_year == programme.year]
    others = [s for s in sessions if s.programme_year != programme.year]
    plan = plan_programme(
        topics=[Topic(t.topic_id, t.title, t.question) for t in programme.topics],
        launch=launch_of(programme.year, others),
        current=current,
        others=others,
        now=now,
        cancel_reason=f"Retirée du programme {programme.year} (version {programme.version}).",
    )
    emitted = await _carry_out(plan, current=current, cause=event, uow=uow, deps=deps, now=now)
    await uow.programmes.applied(
        programme.year, version=programme.version, programme_id=programme.programme_id
    )
    return emitted


async def _carry_out(
    plan: ProgrammePlan,
    *,
    current: list[Session],
    cause: ProgrammePublished,
    uow: Unit,
    deps: Deps,
    now: datetime,
) -> Emitted:
    """Store a programme's plan; its events, cancellations first (they free slots)."""
    year = cause.data.year
    emitted: Emitted = []
    for session in plan.cancelled:
        await _store(session, uow=uow, deps=deps, now=now)
        emitted.append(events.cancelled(session, cause_id=cause.id, now=now))
    previous = {s.session_id: s.slot.starts_at for s in current}
    for session in plan.rescheduled:
        await _store(session, uow=uow, deps=deps, now=now)
        was = previous[session.session_id]
        emitted.append(
            events.rescheduled(session, previous_starts_at=was, cause_id=cause.id, now=now)
        )
    for placement in plan.scheduled:
        session = Session(
            session_id=derived_id(cause.id, "session", placement.topic.topic_id),
            topic_id=placement.topic.topic_id,
            title=placement.topic.title,
            question=placement.topic.question,
            slot=placement.slot,
            join_url=deps.new_join_url(),
            programme_year=year,
        )
        await _store(session, uow=uow, deps=deps, now=now)
        emitted.append(events.scheduled(session, cause_id=cause.id, now=now))
    for topic in plan.unplaced:
        detail = f"Plus de créneau libre en {year} pour « {topic.title[:80]} »."
        emitted.append(
            events.rejected(
                Rejection("no_slot", detail),
                request_type="programme_published",
                cause_id=cause.id,
                now=now,
                topic_id=topic.topic_id,
            )
        )
    return emitted


# --- the session cycle: questions before, the compte rendu after ------------------------


async def keep_question(event: SessionQuestionAccepted, uow: Unit, deps: Deps) -> Emitted:
    """Keep a question for the session's digest; once the digest is sent, forward it on
    its own. A question for a session unknown here or cancelled is kept, harmlessly."""
    asked = event.data
    digest = await uow.digests.count_question(asked.session_id)
    question = Question(
        question_id=event.id,
        session_id=asked.session_id,
        number=digest.asked,
        person=person_key(asked.email),
        asked_by=asked.asked_by,
        text=asked.question,
        asked_at=event.time,
    )
    await uow.questions.add(question)
    if not digest.sent:
        return []
    session = await uow.sessions.find(asked.session_id)
    if session is None or not session.live:
        logger.info("question for session %s kept, not forwarded", asked.session_id)
        return []
    uow.names(asked.email)  # the forwarded question is theirs: erasure empties the record
    _name_experts(uow, session)
    return [events.question_forwarded(session, question, cause_id=event.id, now=deps.clock())]


async def share_report(event: SessionReportPublished, uow: Unit, deps: Deps) -> Emitted:
    """Keep the session's latest compte rendu (version 1, then + 1) and share it. A report
    for an unknown, cancelled or future session is poison (dead-lettered)."""
    published = event.data
    now = deps.clock()
    session = await uow.sessions.find(published.session_id)
    refusal = domain.report_refusal(session, published.session_id, now=now)
    if refusal is not None:
        raise PoisonMessage(refusal)
    assert session is not None
    previous = await uow.reports.latest(session.session_id)
    report = Report(
        session_id=session.session_id,
        version=previous.version + 1 if previous else 1,
        summary=published.summary,
        resources=tuple(Resource(r.title, r.url) for r in published.resources),
        next_steps=tuple(published.next_steps),
        expertise_needs=tuple(published.expertise_needs),
        report_id=event.id,
        published_at=event.time,
    )
    await uow.reports.save(report)
    _name_experts(uow, session)
    return [events.report_shared(session, report, cause_id=event.id, now=now)]


async def erase_person(event: PersonErased, uow: Unit, deps: Deps) -> Emitted:
    """Erasure: the questions the person asked go (their text may be personal too), and
    the records of the questions forwarded for them are emptied. Their invitations go
    too: a session they had accepted to contribute to no longer names them (a live one
    that has not started is updated: sequence + 1, session_rescheduled with
    change="experts"; a past or cancelled one quietly)."""
    person = event.data.person
    now = deps.clock()
    erased = await uow.questions.erase_person(person)
    invitations = await uow.invitations.of_person(person)
    await uow.invitations.erase_person(person)
    await uow.timers.forget_expert(person)
    emitted: Emitted = []
    for invitation in invitations:
        session = await uow.sessions.find(invitation.session_id)
        if session is None or all(e.person != person for e in session.experts):
            continue
        experts = domain.without(session, person)
        if session.live and not session.started(now):
            changed = domain.with_experts(session, experts)
            await _store(changed, uow=uow, deps=deps, now=now)
            emitted.append(_experts_changed(changed, cause_id=event.id, now=now))
        else:
            await uow.sessions.save(replace(session, experts=experts))
    await uow.processed.forget([person])
    logger.info(
        "erasure: %d question(s), %d invitation(s) deleted, %d session(s) updated",
        erased,
        len(invitations),
        len(emitted),
    )
    return emitted


# --- experts -----------------------------------------------------------------------------


async def invite_expert(event: ExpertInvitationRequested, uow: Unit, deps: Deps) -> Emitted:
    """Invite an expert to a live session that has not started (a valid address), once
    per session and address: a second request changes nothing, unless they had declined
    (then it is a new invitation). Their silence is told 7 days before the session."""
    request = event.data
    now = deps.clock()
    checked = await _checked(request.session_id, request.email, uow=uow, now=now)
    if isinstance(checked, ExpertRefusal):
        rejected = events.invitation_rejected(
            checked, session_id=request.session_id, email=request.email, cause_id=event.id, now=now
        )
        return [rejected]
    session, address = checked
    existing = await uow.invitations.find(session.session_id, address.person)
    if existing is not None and existing.status != "declined":
        logger.info("expert already %s for session %s", existing.status, session.session_id)
        return []
    invitation = Invitation(
        session_id=session.session_id,
        email=address.given,
        key=address.key,
        person=address.person,
        first_name=request.first_name,
        last_name=request.last_name,
        organisation=request.organisation,
        expertise=request.expertise,
        message=request.message,
        status="invited",
        invited_at=now,
    )
    await uow.invitations.save(invitation)
    due = domain.no_answer_due(session, now=now)
    await uow.timers.plan_no_answer(session, invitation.person, due)
    return [events.expert_invited(invitation, cause_id=event.id, now=now)]


async def record_expert_answer(event: ExpertResponseSubmitted, uow: Unit, deps: Deps) -> Emitted:
    """An invited expert accepts or declines (or changes their mind); the same answer
    again changes nothing. When the session's accepted experts change, the session
    changes with them (sequence + 1, session_rescheduled with change="experts")."""
    answer = event.data
    now = deps.clock()
    found = await _invitation_answered(answer.session_id, answer.email, uow=uow, now=now)
    if isinstance(found, ExpertRefusal):
        rejected = events.response_rejected(
            found, session_id=answer.session_id, email=answer.email, cause_id=event.id, now=now
        )
        return [rejected]
    session, invitation = found
    if invitation.status == answer.response:
        logger.info("expert answered %s again for session %s", answer.response, answer.session_id)
        return []
    answered = replace(invitation, status=answer.response, note=answer.note, answered_at=now)
    await uow.invitations.save(answered)
    await uow.timers.plan_no_answer(session, answered.person, None)  # answered: no notice
    emitted: Emitted
    if answered.status == "accepted":
        experts = domain.accepted(session, _at_session(answered))
        emitted = [events.expert_accepted(answered, cause_id=event.id, now=now)]
    else:
        experts = domain.without(session, answered.person)
        changed_mind = invitation.status == "accepted"
        emitted = [
            events.expert_declined(answered, changed_mind=changed_mind, cause_id=event.id, now=now)
        ]
    if experts != session.experts:
        if len(experts) > domain.MAX_EXPERTS_SHOWN:
            logger.warning(
                "session %s: %d experts, its events name the first %d",
                session.session_id,
                len(experts),
                domain.MAX_EXPERTS_SHOWN,
            )
        changed = domain.with_experts(session, experts)
        await _store(changed, uow=uow, deps=deps, now=now)
        emitted.append(_experts_changed(changed, cause_id=event.id, now=now))
    return emitted


async def _checked(
    session_id: str, email: str, *, uow: Unit, now: datetime
) -> ExpertRefusal | tuple[Session, EmailAddress]:
    """The session, live and not started, and the address, valid; else why not."""
    session = await uow.sessions.find(session_id)
    refused = domain.expert_refusal(session, now=now)
    if refused is not None:
        return refused
    assert session is not None
    address = check_address(email)
    if isinstance(address, InvalidAddress):
        return ExpertRefusal("invalid", address.detail)
    return session, address


async def _invitation_answered(
    session_id: str, email: str, *, uow: Unit, now: datetime
) -> ExpertRefusal | tuple[Session, Invitation]:
    """The session and the invitation an answer is about; else why it cannot be taken."""
    checked = await _checked(session_id, email, uow=uow, now=now)
    if isinstance(checked, ExpertRefusal):
        return checked
    session, address = checked
    invitation = await uow.invitations.find(session.session_id, address.person)
    if invitation is None:
        return domain.not_invited(email)
    return session, invitation


def _at_session(invitation: Invitation) -> SessionExpert:
    """An accepted expert as the session names them."""
    return SessionExpert(
        person=invitation.person,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
        organisation=invitation.organisation,
        expertise=invitation.expertise,
    )


def _experts_changed(session: Session, *, cause_id: str, now: datetime) -> CloudEvent[Any]:
    """session_rescheduled for a change of experts: the same slot, the new sequence."""
    return events.rescheduled(
        session,
        previous_starts_at=session.slot.starts_at,
        cause_id=cause_id,
        now=now,
        change="experts",
    )


# --- helpers ---------------------------------------------------------------------------


async def _store(session: Session, *, uow: Unit, deps: Deps, now: datetime) -> None:
    """Save the session and re-plan its timer: its reminders (none once cancelled), its
    digest unless already sent (a sent digest is never planned again), and the notice of
    each invited expert's silence not told yet. The event's outputs name its experts (so
    that their erasure finds the record)."""
    await uow.sessions.save(session)
    digest = await uow.digests.find(session.session_id)
    sent = digest is not None and digest.sent
    due = domain.timers_ahead(session, now=now, digest_ahead=deps.digest_ahead, digest_sent=sent)
    await uow.timers.plan(session, due, kinds=REMINDER_KINDS if sent else TIMER_KINDS)
    for invitation in await uow.invitations.of_session(session.session_id):
        silent = invitation.status == "invited" and invitation.no_answer_at is None
        no_answer = domain.no_answer_due(session, now=now) if silent else None
        await uow.timers.plan_no_answer(session, invitation.person, no_answer)
    _name_experts(uow, session)


def _name_experts(uow: Unit, session: Session) -> None:
    """The event's outputs carry the session's experts (names, no address): its record
    is found by their pseudonyms, so that their erasure empties it."""
    uow.people.update(expert.person for expert in session.experts)


def _rejected(
    rejection: Rejection,
    cause: SessionScheduleRequested | SessionRescheduleRequested | SessionCancelRequested,
    *,
    now: datetime,
    session_id: str | None = None,
) -> CloudEvent[Any]:
    return events.rejected(
        rejection,
        request_type=cause.type,
        cause_id=cause.id,
        now=now,
        session_id=session_id,
        cause_subject=cause.subject,
    )
