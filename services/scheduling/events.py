"""Domain values to contract events (deterministic ids: derived from their cause)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from services.scheduling.domain import (
    MAX_EXPERTS_SHOWN,
    ExpertRefusal,
    Rejection,
    ReminderKind,
    Session,
)
from services.scheduling.records import Invitation, Question, Report
from shared.contract.cycle import (
    AskedQuestion,
    QuestionDigestDue,
    QuestionDigestDueData,
    SessionQuestionForwarded,
    SessionQuestionForwardedData,
    SessionReportShared,
    SessionReportSharedData,
)
from shared.contract.cycle import Resource as SharedResource
from shared.contract.experts import (
    ExpertAccepted,
    ExpertAcceptedData,
    ExpertDeclined,
    ExpertDeclinedData,
    ExpertInvitationRejected,
    ExpertInvitationRejectedData,
    ExpertInvited,
    ExpertInvitedData,
    ExpertNoAnswer,
    ExpertNoAnswerData,
    ExpertResponseRejected,
    ExpertResponseRejectedData,
)
from shared.contract.scheduling import (
    ExpertAtSession,
    SessionCancelled,
    SessionCancelledData,
    SessionRejected,
    SessionRejectedData,
    SessionReminderDue,
    SessionReminderDueData,
    SessionRescheduled,
    SessionRescheduledData,
    SessionScheduled,
    SessionScheduledData,
)

SOURCE = "urn:caprural:scheduling"
RefusedT = TypeVar("RefusedT", ExpertInvitationRejected, ExpertResponseRejected)
RefusalDataT = TypeVar("RefusalDataT", ExpertInvitationRejectedData, ExpertResponseRejectedData)

RequestType = Literal[
    "session_schedule_requested",
    "session_reschedule_requested",
    "session_cancel_requested",
    "programme_published",
]


def _fields(session: Session) -> dict[str, Any]:
    """What every event about a session carries of it (SessionData), its experts included."""
    return {
        "session_id": session.session_id,
        "topic_id": session.topic_id,
        "title": session.title,
        "question": session.question,
        "starts_at": session.slot.starts_at,
        "ends_at": session.slot.ends_at,
        "join_url": session.join_url,
        "sequence": session.sequence,
        "experts": [
            ExpertAtSession(
                first_name=e.first_name,
                last_name=e.last_name,
                organisation=e.organisation,
                expertise=e.expertise,
            )
            for e in session.experts[:MAX_EXPERTS_SHOWN]
        ],
    }


def scheduled(session: Session, *, cause_id: str, now: datetime) -> SessionScheduled:
    """session_scheduled."""
    return SessionScheduled.create(
        SessionScheduledData(**_fields(session)),
        source=SOURCE,
        subject=session.session_id,
        cause_id=cause_id,
        discriminator=session.session_id,
        time=now,
    )


def rescheduled(
    session: Session,
    *,
    previous_starts_at: datetime,
    cause_id: str,
    now: datetime,
    change: Literal["slot", "experts"] = "slot",
) -> SessionRescheduled:
    """session_rescheduled (the session carries its new sequence): moved, or its experts
    changed (`change="experts"`, the same slot)."""
    return SessionRescheduled.create(
        SessionRescheduledData(
            **_fields(session), previous_starts_at=previous_starts_at, change=change
        ),
        source=SOURCE,
        subject=session.session_id,
        cause_id=cause_id,
        discriminator=session.session_id,
        time=now,
    )


def cancelled(session: Session, *, cause_id: str, now: datetime) -> SessionCancelled:
    """session_cancelled."""
    return SessionCancelled.create(
        SessionCancelledData(**_fields(session), reason=session.cancel_reason or "Annulée."),
        source=SOURCE,
        subject=session.session_id,
        cause_id=cause_id,
        discriminator=session.session_id,
        time=now,
    )


def rejected(
    rejection: Rejection,
    *,
    request_type: RequestType,
    cause_id: str,
    now: datetime,
    session_id: str | None = None,
    topic_id: str | None = None,
    cause_subject: str | None = None,
) -> SessionRejected:
    """session_rejected, keyed by the session (or topic) it is about, else as its cause."""
    data = SessionRejectedData(
        request_type=request_type,
        session_id=session_id,
        topic_id=topic_id,
        reason=rejection.reason,
        detail=rejection.detail,
    )
    return SessionRejected.create(
        data,
        source=SOURCE,
        subject=session_id or topic_id or cause_subject,
        cause_id=cause_id,
        discriminator=topic_id or "",
        time=now,
    )


def reminder_due(session: Session, *, kind: ReminderKind, due_at: datetime) -> SessionReminderDue:
    """session_reminder_due: its id depends on the session, kind and sequence only, so
    that a reminder re-published after a crash keeps its id (and its bytes)."""
    return SessionReminderDue.create(
        SessionReminderDueData(**_fields(session), remind=kind),
        source=SOURCE,
        subject=session.session_id,
        cause_id=session.session_id,
        discriminator=f"{kind}/{session.sequence}",
        time=due_at,
    )


def digest_due(
    session: Session, questions: Sequence[Question], *, sent_at: datetime
) -> QuestionDigestDue:
    """question_digest_due: one per session, its id derived from the session id and
    "digest" only, so that a digest re-published after a crash keeps its id; `sent_at`
    (its time) is stored when the digest is taken, so it keeps its bytes too."""
    return QuestionDigestDue.create(
        QuestionDigestDueData(**_fields(session), questions=[_asked(q) for q in questions]),
        source=SOURCE,
        subject=session.session_id,
        cause_id=session.session_id,
        discriminator="digest",
        time=sent_at,
    )


def question_forwarded(
    session: Session, question: Question, *, cause_id: str, now: datetime
) -> SessionQuestionForwarded:
    """session_question_forwarded: a question that arrived after the digest."""
    return SessionQuestionForwarded.create(
        SessionQuestionForwardedData(**_fields(session), asked=_asked(question)),
        source=SOURCE,
        subject=session.session_id,
        cause_id=cause_id,
        discriminator=session.session_id,
        time=now,
    )


def report_shared(
    session: Session, report: Report, *, cause_id: str, now: datetime
) -> SessionReportShared:
    """session_report_shared: the session's compte rendu, version 1 then an update."""
    data = SessionReportSharedData(
        **_fields(session),
        report_version=report.version,
        summary=report.summary,
        resources=[SharedResource(title=r.title, url=r.url) for r in report.resources],
        next_steps=list(report.next_steps),
        expertise_needs=list(report.expertise_needs),
    )
    return SessionReportShared.create(
        data,
        source=SOURCE,
        subject=session.session_id,
        cause_id=cause_id,
        discriminator=session.session_id,
        time=now,
    )


def _asked(question: Question) -> AskedQuestion:
    return AskedQuestion(
        asked_by=question.asked_by, question=question.text, asked_at=question.asked_at
    )


# --- experts -----------------------------------------------------------------------


def _expert(invitation: Invitation) -> dict[str, Any]:
    return {
        "session_id": invitation.session_id,
        "email": invitation.email,
        "first_name": invitation.first_name,
        "last_name": invitation.last_name,
        "organisation": invitation.organisation,
        "expertise": invitation.expertise,
    }


def expert_invited(invitation: Invitation, *, cause_id: str, now: datetime) -> ExpertInvited:
    """expert_invited: keyed by the session, like every event about its experts."""
    return ExpertInvited.create(
        ExpertInvitedData(**_expert(invitation), message=invitation.message),
        source=SOURCE,
        subject=invitation.session_id,
        cause_id=cause_id,
        discriminator=invitation.session_id,
        time=now,
    )


def expert_accepted(invitation: Invitation, *, cause_id: str, now: datetime) -> ExpertAccepted:
    """expert_accepted, with their note."""
    return ExpertAccepted.create(
        ExpertAcceptedData(**_expert(invitation), note=invitation.note),
        source=SOURCE,
        subject=invitation.session_id,
        cause_id=cause_id,
        discriminator=invitation.session_id,
        time=now,
    )


def expert_declined(
    invitation: Invitation, *, changed_mind: bool, cause_id: str, now: datetime
) -> ExpertDeclined:
    """expert_declined, with their note; `changed_mind` when they had accepted."""
    return ExpertDeclined.create(
        ExpertDeclinedData(**_expert(invitation), note=invitation.note, changed_mind=changed_mind),
        source=SOURCE,
        subject=invitation.session_id,
        cause_id=cause_id,
        discriminator=invitation.session_id,
        time=now,
    )


def expert_no_answer(invitation: Invitation, *, due_at: datetime) -> ExpertNoAnswer:
    """expert_no_answer: its id depends on the session, the expert (pseudonym) and the
    kind only, so that it keeps its id whatever re-runs it (crash, re-plan)."""
    return ExpertNoAnswer.create(
        ExpertNoAnswerData(**_expert(invitation)),
        source=SOURCE,
        subject=invitation.session_id,
        cause_id=invitation.session_id,
        discriminator=invitation.person,
        time=due_at,
    )


def invitation_rejected(
    refusal: ExpertRefusal, *, session_id: str, email: str, cause_id: str, now: datetime
) -> ExpertInvitationRejected:
    """expert_invitation_rejected, for the coordinators (never `not_invited`)."""
    data = _refusal_data(ExpertInvitationRejectedData, refusal, session_id, email)
    return _refused(ExpertInvitationRejected, data, session_id, cause_id=cause_id, now=now)


def response_rejected(
    refusal: ExpertRefusal, *, session_id: str, email: str, cause_id: str, now: datetime
) -> ExpertResponseRejected:
    """expert_response_rejected, for whoever answered."""
    data = _refusal_data(ExpertResponseRejectedData, refusal, session_id, email)
    return _refused(ExpertResponseRejected, data, session_id, cause_id=cause_id, now=now)


def _refusal_data(
    model: type[RefusalDataT], refusal: ExpertRefusal, session_id: str, email: str
) -> RefusalDataT:
    return model(session_id=session_id, email=email, reason=refusal.reason, detail=refusal.detail)


def _refused(
    event: type[RefusedT], data: Any, session_id: str, *, cause_id: str, now: datetime
) -> RefusedT:
    """An expert's invitation or answer refused: one per cause and session."""
    return event.create(
        data,
        source=SOURCE,
        subject=session_id,
        cause_id=cause_id,
        discriminator=session_id,
        time=now,
    )
