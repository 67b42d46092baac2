"""Registration handlers of the session cycle: who may ask, who attended, who may rate.

The registration service knows the people (members, each session's participants): it
checks a question's asker, matches the webconference tool's attendance list to them and
keeps the ratings of those who attended. The scheduling service gathers the questions
of a session into the digest; the notifications service sends the emails.
"""

from __future__ import annotations

from services.registration import events
from services.registration.domain import (
    QUESTION_NOT_PARTICIPANT,
    Refusal,
    attendance_refusal,
    check_email,
    feedback_refusal,
    question_refusal,
)
from services.registration.handlers import Deps, Emitted
from services.registration.records import Attendance, Rating
from services.registration.unit import Unit
from shared.contract.cycle import AttendanceRecorded, FeedbackSubmitted, SessionQuestionSubmitted
from shared.identity import EmailAddress, display_name, email_key


async def accept_question(event: SessionQuestionSubmitted, uow: Unit, deps: Deps) -> Emitted:
    """session_question_accepted (from a member or one of the session's participants), or
    session_question_rejected with the reason."""
    request = event.data
    now = deps.clock()
    address = check_email(request.email)
    session = await uow.sessions.find(request.session_id)
    asked_by: str | None = None
    if isinstance(address, EmailAddress):
        member = await uow.members.find(address.key)
        participant = await uow.participants.find(request.session_id, address.key)
        if member is not None and member.status == "active":
            asked_by = display_name(member.first_name, member.last_name)
        elif participant is not None:
            asked_by = display_name(participant.first_name, participant.last_name)
    refusal = address if isinstance(address, Refusal) else None
    refusal = refusal or question_refusal(
        session.view if session else None,
        ends_at=session.ends_at if session else None,
        now=now,
        may_ask=asked_by is not None,
    )
    if refusal is not None or asked_by is None or not isinstance(address, EmailAddress):
        refused = events.question_rejected(
            refusal or Refusal("not_a_participant", QUESTION_NOT_PARTICIPANT),
            session_id=request.session_id,
            email=request.email,
            first_name=None,
            cause=event,
            at=now,
        )
        return [refused]
    accepted = events.question_accepted(
        session_id=request.session_id,
        email=address.given,
        asked_by=asked_by,
        question=request.question,
        cause=event,
        at=now,
    )
    return [accepted]


async def record_attendance(event: AttendanceRecorded, uow: Unit, deps: Deps) -> Emitted:
    """attendance_accepted (the members and participants matched, the others counted),
    or attendance_rejected before the session starts. Recorded again replaces."""
    request = event.data
    now = deps.clock()
    session = await uow.sessions.find(request.session_id)
    refusal = attendance_refusal(session.view if session else None, now=now)
    if refusal is not None or session is None:
        assert refusal is not None
        return [
            events.attendance_rejected(refusal, session_id=request.session_id, cause=event, at=now)
        ]
    keys: dict[str, EmailAddress] = {}
    for text in request.attendees:
        address = check_email(text)
        if isinstance(address, EmailAddress):
            keys.setdefault(address.key, address)
    members = await uow.members.find_many(keys)
    participants = {p.email_key: p for p in await uow.participants.of_session(session.session_id)}
    attendees: list[Attendance] = []
    for key in keys:
        member = members.get(key)
        participant = participants.get(key)
        if member is not None and member.status == "active":
            attendees.append(
                Attendance(session.session_id, key, member.email, member.first_name, now)
            )
        elif participant is not None:
            attendees.append(
                Attendance(session.session_id, key, participant.email, participant.first_name, now)
            )
    await uow.attendances.replace(session.session_id, attendees)
    unmatched = len({email_key(text) for text in request.attendees}) - len(attendees)
    accepted = events.attendance_accepted(
        session, attendees, unmatched=max(0, unmatched), cause=event, at=now
    )
    return [accepted]


async def record_feedback(event: FeedbackSubmitted, uow: Unit, deps: Deps) -> Emitted:
    """Keep an attendee's latest rating of the session; refuse anyone else's, saying why."""
    request = event.data
    now = deps.clock()
    address = check_email(request.email)
    session = await uow.sessions.find(request.session_id)
    attended = isinstance(address, EmailAddress) and await uow.attendances.attended(
        request.session_id, address.key
    )
    refusal = address if isinstance(address, Refusal) else None
    refusal = refusal or feedback_refusal(session.view if session else None, attended=attended)
    if refusal is not None or not isinstance(address, EmailAddress):
        assert refusal is not None
        refused = events.feedback_rejected(
            refusal, session_id=request.session_id, email=request.email, cause=event, at=now
        )
        return [refused]
    rating = Rating(request.session_id, address.key, request.rating, request.comment, now)
    await uow.ratings.save(rating)
    return []
