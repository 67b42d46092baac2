"""What each email says: its subject, template and context, from the event that caused it.

A `Letter` is what every recipient of one fan-out shares (rendered once); the
greeting is added per recipient when the templates are rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from services.notifications.domain import header_safe
from services.notifications.emails.ics import Method, SessionCalendar, session_calendar
from shared.contract.cycle import (
    AskedQuestion,
    AttendanceRejectedData,
    FeedbackRejectedData,
    QuestionDigestDueData,
    SessionQuestionForwardedData,
    SessionQuestionRejectedData,
    SessionReportSharedData,
)
from shared.contract.experts import (
    ExpertAcceptedData,
    ExpertData,
    ExpertDeclinedData,
    ExpertInvitationRejectedData,
    ExpertInvitedData,
    ExpertNoAnswerData,
    ExpertResponseRejectedData,
)
from shared.contract.interest import (
    ConfirmationRequestedData,
    InterestRecordedData,
    InterestRejectedData,
)
from shared.contract.notifications import EmailKind
from shared.contract.programme import BallotRejectedData, ProgrammePublishedData, TopicAcceptedData
from shared.contract.registration import (
    MemberLeftData,
    MemberRegisteredData,
    ParticipantEnrolledData,
    RegistrationRejectedData,
    SessionSignupRejectedData,
)
from shared.contract.scheduling import (
    ExpertAtSession,
    SessionCancelledData,
    SessionData,
    SessionReminderDueData,
    SessionRescheduledData,
    SessionScheduledData,
)
from shared.french import long_date, slot

ModelT = TypeVar("ModelT", bound=BaseModel)
ExpertModelT = TypeVar("ExpertModelT", bound=ExpertData)

GROUP = "groupe d'échange PAT/SAT"
ROLES = {"charge_de_mission": "chargé·e de mission", "chef_de_projet": "chef·fe de projet"}
ORIGINS = {"interview": "entretiens préalables", "member": "membre", "coordinator": "coordination"}


class LetterError(ValueError):
    """The stored content cannot make this kind of email (a bug, or a missing session)."""


@dataclass(frozen=True)
class Letter:
    """One kind of email for one cause, before the recipient's greeting."""

    kind: EmailKind
    subject: str
    context: Mapping[str, Any] = field(default_factory=dict)
    calendar: SessionCalendar | None = None

    @property
    def template(self) -> str:
        """Templates are named after the kind: `<kind>.html` and `<kind>.txt`."""
        return self.kind


@dataclass(frozen=True)
class Cause:
    """What a letter is made from: the cause event's data and time, the session if any."""

    kind: EmailKind
    data: BaseModel
    time: datetime
    organizer: str
    session: SessionData | None = None
    places: int | None = None


def _subject(text: str) -> str:
    return header_safe(text, limit=180)


def _session_view(session: SessionData) -> dict[str, Any]:
    return {
        "title": session.title,
        "question": session.question,
        "when": slot(session.starts_at, session.ends_at),
        "join_url": session.join_url,
        "experts": [_expert_line(expert) for expert in session.experts],
    }


def _expert_line(expert: ExpertAtSession) -> str:
    """ "Claire Lambert (Cabinet Exemple) : commande publique"."""
    return f"{expert.first_name} {expert.last_name} ({expert.organisation}) : {expert.expertise}"


def _calendar(cause: Cause, session: SessionData, method: Method) -> SessionCalendar:
    description = f"{session.question}\n\nRejoindre la webconférence : {session.join_url}"
    if session.experts:
        experts = "\n".join(f"- {_expert_line(expert)}" for expert in session.experts)
        description += f"\n\nAvec la contribution de :\n{experts}"
    return session_calendar(
        session, method=method, organizer=cause.organizer, stamp=cause.time, description=description
    )


def _need_session(cause: Cause) -> SessionData:
    if cause.session is None:
        raise LetterError(f"{cause.kind} needs the session, which is not known yet")
    return cause.session


def welcome(cause: Cause) -> Letter:
    member = _as(cause, MemberRegisteredData)
    context = {
        "member": member,
        "role": ROLES.get(member.role, member.role),
        "registered_on": long_date(member.registered_at),
    }
    return Letter("welcome", _subject(f"Bienvenue dans le {GROUP}"), context)


def rejection(cause: Cause) -> Letter:
    refusal = _as(cause, RegistrationRejectedData)
    subjects = {
        "not_eligible": f"Votre demande d'inscription au {GROUP}",
        "already_member": f"Vous êtes déjà membre du {GROUP}",
        "invalid": "Votre demande d'inscription est incomplète",
    }
    return Letter("rejection", _subject(subjects[refusal.reason]), {"refusal": refusal})


def topic_acknowledgement(cause: Cause) -> Letter:
    topic = _as(cause, TopicAcceptedData)
    return Letter(
        "topic_acknowledgement",
        _subject(f"Merci pour votre proposition : {topic.title}"),
        {"topic": topic},
    )


def topic_notice(cause: Cause) -> Letter:
    topic = _as(cause, TopicAcceptedData)
    prefix = "Proposition rattachée" if topic.duplicate_of else "Nouveau sujet proposé"
    return Letter(
        "topic_notice",
        _subject(f"{prefix} : {topic.title}"),
        {"topic": topic, "origin": ORIGINS[topic.origin]},
    )


def programme_announcement(cause: Cause) -> Letter:
    programme = _as(cause, ProgrammePublishedData)
    verb = "est publié" if programme.version == 1 else "est mis à jour"
    return Letter(
        "programme_announcement",
        _subject(f"Le programme {programme.year} du {GROUP} {verb}"),
        {"programme": programme},
    )


def session_invitation(cause: Cause) -> Letter:
    session = _as(cause, SessionScheduledData)
    view = _session_view(session)
    return Letter(
        "session_invitation",
        _subject(f"Invitation : {session.title} – {view['when']}"),
        {"session": view},
        _calendar(cause, session, "REQUEST"),
    )


def session_update(cause: Cause) -> Letter:
    session = _as(cause, SessionRescheduledData)
    view = _session_view(session)
    previous = long_date(session.previous_starts_at)
    what = "Intervention d'expert" if session.change == "experts" else "Nouvel horaire"
    return Letter(
        "session_update",
        _subject(f"{what} : {session.title} – {view['when']}"),
        {"session": view, "previous": previous, "change": session.change},
        _calendar(cause, session, "REQUEST"),
    )


def session_cancellation(cause: Cause) -> Letter:
    session = _as(cause, SessionCancelledData)
    view = _session_view(session)
    return Letter(
        "session_cancellation",
        _subject(f"Séance annulée : {session.title} – {view['when']}"),
        {"session": view, "reason": session.reason},
        _calendar(cause, session, "CANCEL"),
    )


def reminder(cause: Cause) -> Letter:
    session = _as(cause, SessionReminderDueData)
    view = _session_view(session)
    soon = "demain" if session.remind == "J-1" else "dans 7 jours"
    return Letter(
        "reminder",
        _subject(f"Rappel : {session.title} {soon} – {view['when']}"),
        {"session": view, "soon": soon},
    )


def interest_confirmation(cause: Cause) -> Letter:
    interest = _as(cause, InterestRecordedData)
    return Letter(
        "interest_confirmation",
        _subject(f"Vous serez prévenu·e des séances du {GROUP}"),
        {"every_session": not interest.topic_ids, "topics": len(interest.topic_ids)},
    )


def interest_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, InterestRejectedData)
    return Letter(
        "interest_rejection",
        _subject("Votre demande n'a pas pu être enregistrée"),
        {"refusal": refusal},
    )


def session_announcement(cause: Cause) -> Letter:
    session = _as(cause, SessionScheduledData)
    view = _session_view(session)
    return Letter(
        "session_announcement",
        _subject(f"Séance ouverte : {session.title} – {view['when']}"),
        {"session": view, "places": cause.places},
    )


def confirmation_link(cause: Cause) -> Letter:
    request = _as(cause, ConfirmationRequestedData)
    if request.purpose == "signup":
        session = _need_session(cause)
        view = _session_view(session)
        subject = f"Confirmez votre inscription : {session.title} – {view['when']}"
        return Letter("confirmation_link", _subject(subject), {"session": view, "signup": True})
    subject = f"Confirmez votre demande : être prévenu·e des séances du {GROUP}"
    return Letter("confirmation_link", _subject(subject), {"session": None, "signup": False})


def _about(cause: Cause) -> dict[str, Any] | None:
    """The session an email is about, as known (its title and date name it)."""
    return _session_view(cause.session) if cause.session else None


def question_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, SessionQuestionRejectedData)
    view = _about(cause)
    named = f" : {view['title']} – {view['when']}" if view else ""
    return Letter(
        "question_rejection",
        _subject(f"Votre question n'a pas pu être transmise{named}"),
        {"refusal": refusal, "session": view},
    )


def question_digest(cause: Cause) -> Letter:
    digest = _as(cause, QuestionDigestDueData)
    view = _session_view(digest)
    count = len(digest.questions)
    what = "aucune question" if count == 0 else f"{count} question" + ("s" if count > 1 else "")
    return Letter(
        "question_digest",
        _subject(f"Questions de la séance ({what}) : {digest.title} – {view['when']}"),
        {"session": view, "questions": [_asked(q) for q in digest.questions]},
    )


def question_forward(cause: Cause) -> Letter:
    forwarded = _as(cause, SessionQuestionForwardedData)
    view = _session_view(forwarded)
    return Letter(
        "question_forward",
        _subject(f"Nouvelle question : {forwarded.title} – {view['when']}"),
        {"session": view, "question": _asked(forwarded.asked)},
    )


def _asked(question: AskedQuestion) -> dict[str, Any]:
    return {
        "asked_by": question.asked_by,
        "question": question.question,
        "asked_on": long_date(question.asked_at),
    }


def attendance_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, AttendanceRejectedData)
    view = _about(cause)
    named = f" : {view['title']} – {view['when']}" if view else f" ({refusal.session_id})"
    return Letter(
        "attendance_rejection",
        _subject(f"Liste de présence refusée{named}"),
        {"refusal": refusal, "session": view},
    )


def thanks(cause: Cause) -> Letter:
    session = _as(cause, SessionData)
    view = _session_view(session)
    return Letter(
        "thanks",
        _subject(f"Merci de votre participation : {session.title} – {view['when']}"),
        {"session": view},
    )


def feedback_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, FeedbackRejectedData)
    view = _about(cause)
    named = f" : {view['title']} – {view['when']}" if view else ""
    return Letter(
        "feedback_rejection",
        _subject(f"Votre avis n'a pas pu être enregistré{named}"),
        {"refusal": refusal, "session": view},
    )


def session_report(cause: Cause) -> Letter:
    report = _as(cause, SessionReportSharedData)
    view = _session_view(report)
    what = "Compte rendu" if report.report_version == 1 else "Compte rendu mis à jour"
    return Letter(
        "session_report",
        _subject(f"{what} : {report.title} – {view['when']}"),
        {"session": view, "report": report, "update": report.report_version > 1},
    )


def expertise_needs(cause: Cause) -> Letter:
    report = _as(cause, SessionReportSharedData)
    view = _session_view(report)
    return Letter(
        "expertise_needs",
        _subject(f"Besoins d'expertise exprimés : {report.title} – {view['when']}"),
        {"session": view, "needs": report.expertise_needs},
    )


def _expert_view(expert: ExpertData) -> dict[str, Any]:
    return {
        "name": f"{expert.first_name} {expert.last_name}",
        "organisation": expert.organisation,
        "expertise": expert.expertise,
    }


def expert_invitation(cause: Cause) -> Letter:
    invitation = _as(cause, ExpertInvitedData)
    session = _need_session(cause)
    view = _session_view(session)
    context = {
        "session": view,
        "expert": _expert_view(invitation),
        "message": invitation.message,
        "signed_up": cause.places,
    }
    subject = f"Invitation à intervenir : {session.title} – {view['when']}"
    return Letter("expert_invitation", _subject(subject), context)


def expert_confirmation(cause: Cause) -> Letter:
    accepted = _as(cause, ExpertAcceptedData)
    session = _need_session(cause)
    view = _session_view(session)
    return Letter(
        "expert_confirmation",
        _subject(f"Merci d'intervenir : {session.title} – {view['when']}"),
        {"session": view, "expert": _expert_view(accepted)},
        _calendar(cause, session, "REQUEST"),
    )


def _expert_notice(cause: Cause, model: type[ExpertModelT], verb: str) -> Letter:
    answer = _as(cause, model)
    view = _about(cause)
    named = f" : {view['title']} – {view['when']}" if view else ""
    context = {
        "session": view,
        "expert": _expert_view(answer),
        "note": getattr(answer, "note", None),
        "changed_mind": getattr(answer, "changed_mind", False),
    }
    name = f"{answer.first_name} {answer.last_name}"
    return Letter(cause.kind, _subject(f"{name} {verb}{named}"), context)


def expert_acceptance(cause: Cause) -> Letter:
    return _expert_notice(cause, ExpertAcceptedData, "intervient")


def expert_decline(cause: Cause) -> Letter:
    declined = _as(cause, ExpertDeclinedData)
    verb = "change d'avis et n'intervient pas" if declined.changed_mind else "décline l'invitation"
    return _expert_notice(cause, ExpertDeclinedData, verb)


def expert_no_answer(cause: Cause) -> Letter:
    return _expert_notice(cause, ExpertNoAnswerData, "n'a pas répondu")


def expert_invitation_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, ExpertInvitationRejectedData)
    view = _about(cause)
    named = f" : {view['title']} – {view['when']}" if view else ""
    return Letter(
        "expert_invitation_rejection",
        _subject(f"Invitation d'expert non envoyée{named}"),
        {"refusal": refusal, "session": view},
    )


def expert_response_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, ExpertResponseRejectedData)
    view = _about(cause)
    named = f" : {view['title']} – {view['when']}" if view else ""
    return Letter(
        "expert_response_rejection",
        _subject(f"Votre réponse n'a pas pu être prise en compte{named}"),
        {"refusal": refusal, "session": view},
    )


def _signup(cause: Cause, subject: str, *, with_calendar: bool) -> Letter:
    enrolment = _as(cause, ParticipantEnrolledData)
    session = _need_session(cause)
    view = _session_view(session)
    calendar = _calendar(cause, session, "REQUEST") if with_calendar else None
    context = {"session": view, "enrolment": enrolment}
    return Letter(
        cause.kind, _subject(f"{subject} : {session.title} – {view['when']}"), context, calendar
    )


def signup_confirmation(cause: Cause) -> Letter:
    return _signup(cause, "Inscription confirmée", with_calendar=True)


def signup_waitlist(cause: Cause) -> Letter:
    return _signup(cause, "Liste d'attente", with_calendar=False)


def signup_promotion(cause: Cause) -> Letter:
    return _signup(cause, "Une place s'est libérée", with_calendar=True)


def signup_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, SessionSignupRejectedData)
    view = _session_view(cause.session) if cause.session else None
    title = f" : {cause.session.title}" if cause.session else ""
    return Letter(
        "signup_rejection",
        _subject(f"Inscription impossible{title}"),
        {"refusal": refusal, "session": view},
    )


def ballot_rejection(cause: Cause) -> Letter:
    refusal = _as(cause, BallotRejectedData)
    return Letter(
        "ballot_rejection",
        _subject("Votre vote n'a pas pu être pris en compte"),
        {"refusal": refusal},
    )


def leave_confirmation(cause: Cause) -> Letter:
    departure = _as(cause, MemberLeftData)
    return Letter(
        "leave_confirmation",
        _subject(f"Vous avez quitté le {GROUP}"),
        {"erase": departure.erase},
    )


LETTERS: dict[EmailKind, tuple[type[BaseModel], Callable[[Cause], Letter]]] = {
    "welcome": (MemberRegisteredData, welcome),
    "rejection": (RegistrationRejectedData, rejection),
    "topic_acknowledgement": (TopicAcceptedData, topic_acknowledgement),
    "topic_notice": (TopicAcceptedData, topic_notice),
    "programme_announcement": (ProgrammePublishedData, programme_announcement),
    "session_invitation": (SessionScheduledData, session_invitation),
    "session_update": (SessionRescheduledData, session_update),
    "session_cancellation": (SessionCancelledData, session_cancellation),
    "reminder": (SessionReminderDueData, reminder),
    "signup_confirmation": (ParticipantEnrolledData, signup_confirmation),
    "signup_waitlist": (ParticipantEnrolledData, signup_waitlist),
    "signup_promotion": (ParticipantEnrolledData, signup_promotion),
    "signup_rejection": (SessionSignupRejectedData, signup_rejection),
    "ballot_rejection": (BallotRejectedData, ballot_rejection),
    "leave_confirmation": (MemberLeftData, leave_confirmation),
    "interest_confirmation": (InterestRecordedData, interest_confirmation),
    "interest_rejection": (InterestRejectedData, interest_rejection),
    "session_announcement": (SessionScheduledData, session_announcement),
    "confirmation_link": (ConfirmationRequestedData, confirmation_link),
    "question_rejection": (SessionQuestionRejectedData, question_rejection),
    "question_digest": (QuestionDigestDueData, question_digest),
    "question_forward": (SessionQuestionForwardedData, question_forward),
    "attendance_rejection": (AttendanceRejectedData, attendance_rejection),
    "thanks": (SessionData, thanks),
    "feedback_rejection": (FeedbackRejectedData, feedback_rejection),
    "session_report": (SessionReportSharedData, session_report),
    "expertise_needs": (SessionReportSharedData, expertise_needs),
    "expert_invitation": (ExpertInvitedData, expert_invitation),
    "expert_confirmation": (ExpertAcceptedData, expert_confirmation),
    "expert_acceptance": (ExpertAcceptedData, expert_acceptance),
    "expert_decline": (ExpertDeclinedData, expert_decline),
    "expert_no_answer": (ExpertNoAnswerData, expert_no_answer),
    "expert_invitation_rejection": (ExpertInvitationRejectedData, expert_invitation_rejection),
    "expert_response_rejection": (ExpertResponseRejectedData, expert_response_rejection),
}
"""Every kind of email: the data model it is made from, and how."""


def letter_for(cause: Cause) -> Letter:
    """The letter of a cause."""
    return LETTERS[cause.kind][1](cause)


def parse_cause(
    kind: EmailKind,
    data: Mapping[str, Any],
    *,
    time: datetime,
    organizer: str,
    session: Mapping[str, Any] | None = None,
    places: int | None = None,
) -> Cause:
    """A cause from stored JSON (what a content document keeps)."""
    model = LETTERS[kind][0]
    return Cause(
        kind=kind,
        data=model.model_validate(data),
        time=time,
        organizer=organizer,
        session=SessionData.model_validate(session) if session is not None else None,
        places=places,
    )


def _as(cause: Cause, model: type[ModelT]) -> ModelT:
    if not isinstance(cause.data, model):
        raise LetterError(f"{cause.kind} is made from {model.__name__}, not {type(cause.data)}")
    return cause.data
