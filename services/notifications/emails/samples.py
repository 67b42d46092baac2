"""Sample data for every kind of email: the preview, and the tests' builders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.notifications.domain import Recipient
from services.notifications.emails.letters import Cause
from services.notifications.records import Content, Delivery
from shared.contract.cycle import (
    AskedQuestion,
    AttendanceRejectedData,
    FeedbackRejectedData,
    QuestionDigestDueData,
    Resource,
    SessionQuestionForwardedData,
    SessionQuestionRejectedData,
    SessionReportSharedData,
)
from shared.contract.experts import (
    ExpertAcceptedData,
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
from shared.contract.programme import (
    BallotRejectedData,
    Person,
    ProgrammePublishedData,
    ProgrammeTopic,
    TopicAcceptedData,
)
from shared.contract.registration import (
    MemberLeftData,
    MemberRegisteredData,
    ParticipantEnrolledData,
    RegistrationRejectedData,
    SessionSignupRejectedData,
)
from shared.contract.scheduling import (
    SessionCancelledData,
    SessionData,
    SessionReminderDueData,
    SessionRescheduledData,
    SessionScheduledData,
)
from shared.links import Audience, Links

ORGANIZER = "Cap Rural <pat@caprural.org>"
WHEN = datetime(2020, 1, 10, 9, 30, tzinfo=UTC)
CAMILLE = Recipient("camille.martin@cc-exemple.fr", "Camille", "Martin")


def session(**overrides: Any) -> dict[str, Any]:
    """The launch webconference, Tuesday 21 January 2020, 10:00-12:00 in Paris."""
    values: dict[str, Any] = {
        "session_id": "2020-01-lancement",
        "title": "Webconférence de lancement",
        "question": "Quelles questions voulons-nous traiter ensemble en 2020 ?",
        "starts_at": datetime(2020, 1, 21, 9, 0, tzinfo=UTC),
        "ends_at": datetime(2020, 1, 21, 11, 0, tzinfo=UTC),
        "join_url": "https://visio.caprural.org/pat/2020-01-lancement",
        "sequence": 0,
    }
    values.update(overrides)
    return values


def _member() -> MemberRegisteredData:
    return MemberRegisteredData(
        member_id="m-123",
        email=CAMILLE.email,
        first_name="Camille",
        last_name="Martin",
        role="charge_de_mission",
        organisation="Communauté de communes Exemple",
        territory="Pays d'Exemple",
        approach="PAT",
        registered_at=WHEN,
    )


def _topic() -> TopicAcceptedData:
    return TopicAcceptedData(
        topic_id="t-gouvernance",
        title="Gouvernance des démarches alimentaires",
        question="Quelles instances de gouvernance, et comment les animer ?",
        proposed_by=Person(email=CAMILLE.email, name="Camille Martin"),
        origin="member",
    )


def _enrolment(status: str, *, promoted: bool = False) -> ParticipantEnrolledData:
    return ParticipantEnrolledData(
        session_id="2020-01-lancement",
        participant_id="p-42",
        email=CAMILLE.email,
        first_name="Camille",
        last_name="Martin",
        status=status,
        waitlist_position=3 if status == "waitlisted" else None,
        promoted=promoted,
    )


MESSAGE = (
    "Les membres se demandent comment introduire des critères de proximité dans leurs marchés."
)


def _claire() -> dict[str, Any]:
    return {
        "session_id": "2020-01-lancement",
        "email": "claire.lambert@cabinet-exemple.fr",
        "first_name": "Claire",
        "last_name": "Lambert",
        "organisation": "Cabinet Exemple",
        "expertise": "Commande publique",
    }


def _asked(number: int = 1) -> AskedQuestion:
    return AskedQuestion(
        asked_by="Camille Martin" if number == 1 else "Dominique Durand",
        question="Comment associer les élus au comité de pilotage ?\n"
        "Nous avons essayé un comité élargi, qui s'est essoufflé.",
        asked_at=WHEN,
    )


def _report() -> SessionReportSharedData:
    return SessionReportSharedData(
        **session(),
        report_version=1,
        summary="Douze agents ont échangé sur la gouvernance.\n\nTrois formes reviennent :\n"
        "- un comité de pilotage politique ;\n- un comité technique ;\n"
        "- une instance élargie.",
        resources=[Resource(title="Guide RnPAT", url="https://rnpat.fr/ressources")],
        next_steps=["Partager les chartes de gouvernance."],
        expertise_needs=["Un juriste sur les coopérations entre collectivités."],
    )


def sample_data() -> dict[EmailKind, BaseModel]:
    """One cause's data for every kind of email."""
    launch = session()
    moved = session(
        starts_at=datetime(2020, 1, 28, 13, 0, tzinfo=UTC),
        ends_at=datetime(2020, 1, 28, 15, 0, tzinfo=UTC),
        sequence=1,
    )
    return {
        "welcome": _member(),
        "rejection": RegistrationRejectedData(
            email="dominique@exemple.org",
            first_name="Dominique",
            reason="not_eligible",
            detail="Le groupe est réservé aux chargés de mission et chefs de projet PAT/SAT.",
        ),
        "topic_acknowledgement": _topic(),
        "topic_notice": _topic(),
        "programme_announcement": ProgrammePublishedData(
            programme_id="prog-2020-1",
            year=2020,
            version=1,
            ballots=17,
            topics=[
                ProgrammeTopic(
                    topic_id=f"t{rank}", title=title, question=question, rank=rank, score=40 - rank
                )
                for rank, (title, question) in enumerate(
                    [
                        ("Gouvernance", "Quelles instances, et comment les animer ?"),
                        ("Moyens et ressources", "Comment financer l'animation et les actions ?"),
                        ("Coopérations", "Comment associer les acteurs socio-économiques ?"),
                    ],
                    start=1,
                )
            ],
        ),
        "session_invitation": SessionScheduledData(**launch),
        "session_update": SessionRescheduledData(**moved, previous_starts_at=launch["starts_at"]),
        "session_cancellation": SessionCancelledData(
            **session(sequence=2), reason="L'intervenante ne peut pas être présente."
        ),
        "reminder": SessionReminderDueData(**launch, remind="J-1"),
        "signup_confirmation": _enrolment("enrolled"),
        "signup_waitlist": _enrolment("waitlisted"),
        "signup_promotion": _enrolment("enrolled", promoted=True),
        "signup_rejection": SessionSignupRejectedData(
            session_id="2020-01-lancement",
            email=CAMILLE.email,
            first_name="Camille",
            reason="past_session",
            detail="Cette séance a déjà eu lieu.",
        ),
        "ballot_rejection": BallotRejectedData(
            email=CAMILLE.email,
            reason="not_member",
            detail="Seuls les membres du groupe peuvent voter.",
        ),
        "leave_confirmation": MemberLeftData(
            member_id="m-123", email=CAMILLE.email, first_name="Camille", erase=True
        ),
        "interest_confirmation": InterestRecordedData(
            email=CAMILLE.email,
            first_name="Camille",
            topic_ids=["t-gouvernance"],
            origin="declared",
        ),
        "interest_rejection": InterestRejectedData(
            email=CAMILLE.email,
            first_name="Camille",
            reason="invalid",
            detail="Votre consentement est nécessaire pour être prévenu·e des séances.",
        ),
        "session_announcement": SessionScheduledData(**launch),
        "question_rejection": SessionQuestionRejectedData(
            session_id="2020-01-lancement",
            email=CAMILLE.email,
            first_name="Camille",
            reason="not_a_participant",
            detail="Les questions d'une séance sont ouvertes à ses membres et participant·es.",
        ),
        "question_digest": QuestionDigestDueData(**launch, questions=[_asked(), _asked(2)]),
        "question_forward": SessionQuestionForwardedData(**launch, asked=_asked()),
        "attendance_rejection": AttendanceRejectedData(
            session_id="2020-01-lancement",
            reason="not_started",
            detail="Cette séance n'a pas encore commencé.",
        ),
        "thanks": SessionData(**launch),
        "feedback_rejection": FeedbackRejectedData(
            session_id="2020-01-lancement",
            email=CAMILLE.email,
            reason="not_an_attendee",
            detail="Seules les personnes présentes à la séance peuvent la noter.",
        ),
        "session_report": _report(),
        "expertise_needs": _report(),
        "expert_invitation": ExpertInvitedData(**_claire(), message=MESSAGE),
        "expert_confirmation": ExpertAcceptedData(**_claire()),
        "expert_acceptance": ExpertAcceptedData(**_claire(), note="Avec plaisir."),
        "expert_decline": ExpertDeclinedData(
            **_claire(), note="Je serai en déplacement.", changed_mind=True
        ),
        "expert_no_answer": ExpertNoAnswerData(**_claire()),
        "expert_invitation_rejection": ExpertInvitationRejectedData(
            session_id="2020-01-lancement",
            email="claire.lambert@cabinet-exemple.fr",
            reason="past_session",
            detail="Cette séance a eu lieu : on ne peut plus y inviter d'expert.",
        ),
        "expert_response_rejection": ExpertResponseRejectedData(
            session_id="2020-01-lancement",
            email=CAMILLE.email,
            reason="not_invited",
            detail="Nous n'avons pas trouvé d'invitation à cette adresse pour cette séance.",
        ),
        "confirmation_link": ConfirmationRequestedData(
            purpose="signup",
            email=CAMILLE.email,
            first_name="Camille",
            last_name="Martin",
            session_id="2020-01-lancement",
        ),
    }


def sample_cause(kind: EmailKind, *, organizer: str = ORGANIZER) -> Cause:
    """A cause of `kind` with sample data (and the session for sign-up kinds)."""
    return Cause(
        kind=kind,
        data=sample_data()[kind],
        time=WHEN + timedelta(minutes=1),
        organizer=organizer,
        session=SessionData(**session()),
        places=12,
    )


AUDIENCES: dict[EmailKind, Audience] = {
    "programme_announcement": "member",
    "session_invitation": "member",
    "session_update": "member",
    "session_cancellation": "member",
    "reminder": "member",
    "session_announcement": "interested",
    "interest_confirmation": "interested",
    "rejection": "interested",
    "session_report": "member",
    "expert_invitation": "expert",
    "expert_confirmation": "expert",
}
"""Whom each kind is sent to in the previews (the list its unsubscribe link leaves)."""

PREVIEW_SECRET = "preview-only-secret-0123456789abcdef"  # noqa: S105 (signs sample links only)
SAMPLE_LINKS = Links(secret=PREVIEW_SECRET, base_url="https://pat.caprural.org", ttl_days=60)


def sample_delivery(kind: EmailKind) -> tuple[Delivery, Content]:
    """A delivery of `kind` to Camille, with its content (what the sender composes)."""
    cause = sample_cause(kind)
    recipient = replace(CAMILLE, audience=AUDIENCES.get(kind))
    content = Content(
        content_id=f"content-{kind}",
        kind=kind,
        cause_id=f"cause-{kind}",
        cause_type="sample",
        cause_time=cause.time,
        data=cause.data.model_dump(mode="json"),
        session=session(),
        places=cause.places,
    )
    delivery = Delivery(
        delivery_id=f"preview-{kind}",
        cause_id=content.cause_id,
        cause_type="sample",
        kind=kind,
        content_id=content.content_id,
        recipient=recipient,
        recipient_key=recipient.person,
        status="pending",
        session_id="2020-01-lancement",
    )
    return delivery, content
