"""Notifications handlers of the session cycle: questions, attendance, ratings, the
compte rendu. Who gets what:

| event | email | to |
|---|---|---|
| session_question_rejected | question_rejection | the asker |
| question_digest_due | question_digest | the coordinators (and the session's experts) |
| session_question_forwarded | question_forward | the same |
| attendance_rejected | attendance_rejection | the coordinators |
| attendance_accepted | thanks (a rating link), once the session ended | each attendee, once |
| feedback_rejected | feedback_rejection | the person |
| session_report_shared | session_report (an update from v2) | members, enrolled participants |
| session_report_shared with expertise_needs | expertise_needs | the coordinators |
"""

from __future__ import annotations

from dataclasses import replace

from services.notifications.domain import Recipient
from services.notifications.handlers import Deps, dispatch, personal
from services.notifications.unit import Unit
from shared.contract import derived_id
from shared.contract.cycle import (
    AttendanceAccepted,
    AttendanceRejected,
    FeedbackRejected,
    QuestionDigestDue,
    SessionQuestionForwarded,
    SessionQuestionRejected,
    SessionReportShared,
)
from shared.contract.notifications import EmailKind


async def explain_question_rejection(event: SessionQuestionRejected, uow: Unit, deps: Deps) -> None:
    """Tell the asker why their question was refused."""
    data = event.data
    person = Recipient(data.email, data.first_name)
    known = await uow.recipients.session(data.session_id)
    planned = personal(event, "question_rejection", person, session=known.data if known else None)
    await uow.deliveries.plan(planned, now=deps.clock())


async def send_question_digest(event: QuestionDigestDue, uow: Unit, deps: Deps) -> None:
    """The session's questions, in one email, to those who prepare it."""
    await _to_those_who_prepare(event, "question_digest", uow, deps)


async def forward_question(event: SessionQuestionForwarded, uow: Unit, deps: Deps) -> None:
    """A question that came after the digest, on its own."""
    await _to_those_who_prepare(event, "question_forward", uow, deps)


async def _to_those_who_prepare(
    event: QuestionDigestDue | SessionQuestionForwarded, kind: EmailKind, uow: Unit, deps: Deps
) -> None:
    recipients = [Recipient(address) for address in deps.coordinators]
    recipients += await uow.recipients.experts(event.data.session_id)
    if recipients:
        planned = dispatch(event, kind, recipients, session_id=event.data.session_id)
        await uow.deliveries.plan(planned, now=deps.clock())


async def explain_attendance_rejection(event: AttendanceRejected, uow: Unit, deps: Deps) -> None:
    """Tell the coordinators why an attendance list was refused."""
    coordinators = [Recipient(address) for address in deps.coordinators]
    if coordinators:
        planned = dispatch(event, "attendance_rejection", coordinators)
        await uow.deliveries.plan(planned, now=deps.clock())


async def thank_attendees(event: AttendanceAccepted, uow: Unit, deps: Deps) -> None:
    """Each attendee is thanked once the session has ended, with a one-click link to rate
    it: once per session, whatever the corrections of the list (one cause per session)."""
    data = event.data
    known = await uow.recipients.session(data.session_id)
    if known is None or known.cancelled:
        return
    attendees = [Recipient(a.email, a.first_name) for a in data.attendees]
    cause = derived_id(data.session_id, "thanks")
    await uow.deliveries.cancel_pending_to_others(
        cause, "thanks", keep=[person.person for person in attendees]
    )
    if not attendees:
        return
    thanks = replace(
        dispatch(event, "thanks", attendees, session_id=data.session_id),
        cause_id=cause,
        data=known.data,
        personal_keys=tuple(person.person for person in attendees),
        late=True,
    )
    await uow.deliveries.plan(thanks, now=max(deps.clock(), data.ends_at))


async def explain_feedback_rejection(event: FeedbackRejected, uow: Unit, deps: Deps) -> None:
    """Tell the person why their rating was refused."""
    data = event.data
    person = Recipient(data.email)
    known = await uow.recipients.session(data.session_id)
    planned = personal(event, "feedback_rejection", person, session=known.data if known else None)
    await uow.deliveries.plan(planned, now=deps.clock())


async def share_report(event: SessionReportShared, uow: Unit, deps: Deps) -> None:
    """The compte rendu to the members and the session's enrolled participants (never
    the waitlist, never those who left or were erased); its expertise needs to the
    coordinators."""
    data = event.data
    members = await uow.recipients.active_members()
    enrolled = await uow.recipients.participants(data.session_id, ["enrolled"])
    planned = dispatch(event, "session_report", members + enrolled, session_id=data.session_id)
    now = deps.clock()
    await uow.deliveries.plan(planned, now=now)
    coordinators = [Recipient(address) for address in deps.coordinators]
    if data.expertise_needs and coordinators:
        needs = dispatch(event, "expertise_needs", coordinators, session_id=data.session_id)
        await uow.deliveries.plan(needs, now=now)
