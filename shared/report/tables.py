"""The report's content: the services' figures joined into one typed report, and its
tables (French captions and headers), which the HTML page and the CSV files both show.

Pure: no I/O. A session is the scheduling service's (title, question, slot, status,
questions, experts) completed with the registration service's counts (places,
attendance, ratings), joined on the session id, which goes no further than this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.french import MONTHS, paris
from shared.report.figures import Approach, Month, Places, Programme, Session, Territory
from shared.report.sources import Sources

Cell = str | int | float | date | None
"""A table cell: text, a count, a figure with decimals, a date, or nothing."""

SessionStatus = Literal["tenue", "à venir", "annulée"]

EMAIL_KINDS: dict[str, str] = {
    "welcome": "Bienvenue dans le groupe",
    "rejection": "Adhésion au groupe refusée",
    "topic_acknowledgement": "Sujet proposé : accusé de réception",
    "topic_notice": "Sujet proposé : avis à la coordination",
    "programme_announcement": "Annonce du programme",
    "session_invitation": "Invitation à une séance",
    "session_update": "Séance modifiée",
    "session_cancellation": "Séance annulée",
    "reminder": "Rappel de séance",
    "signup_confirmation": "Inscription à une séance confirmée",
    "signup_waitlist": "Inscription en liste d'attente",
    "signup_promotion": "Place obtenue depuis la liste d'attente",
    "signup_rejection": "Inscription à une séance impossible",
    "ballot_rejection": "Vote refusé",
    "leave_confirmation": "Départ du groupe confirmé",
    "interest_confirmation": "Information sur les séances : confirmation",
    "interest_rejection": "Information sur les séances : demande refusée",
    "session_announcement": "Annonce d'une séance (liste d'information)",
    "confirmation_link": "Lien de confirmation",
    "question_rejection": "Question refusée",
    "question_digest": "Questions d'une séance (synthèse)",
    "question_forward": "Question transmise",
    "attendance_rejection": "Liste de présence refusée",
    "thanks": "Remerciement après la séance",
    "feedback_rejection": "Avis refusé",
    "session_report": "Compte rendu de séance",
    "expertise_needs": "Besoins d'expertise",
    "expert_invitation": "Invitation d'un expert",
    "expert_confirmation": "Confirmation à l'expert",
    "expert_acceptance": "Expert ayant accepté (coordination)",
    "expert_decline": "Expert ayant décliné (coordination)",
    "expert_no_answer": "Expert sans réponse (coordination)",
    "expert_invitation_rejection": "Invitation d'expert refusée",
    "expert_response_rejection": "Réponse d'expert refusée",
}
"""What each kind of email is, for a reader (shared.contract.notifications.EmailKind)."""


@dataclass(frozen=True)
class Table:
    """One table of the report: a CSV file, and a table of the HTML page."""

    name: str
    """The CSV file's name, without the year and extension (`seances`)."""
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    nothing: str
    """What the page says instead of an empty table."""


@dataclass(frozen=True)
class SessionRow:
    """A session of the year, with every count the report shows."""

    starts_at: datetime
    ends_at: datetime
    title: str
    question: str
    status: SessionStatus
    enrolled: int
    waitlisted: int
    attended: int
    ratings: int
    average_rating: float | None
    questions: int
    experts_confirmed: int
    experts_invited: int
    report_shared: bool


@dataclass(frozen=True)
class EmailRow:
    """The emails of one kind."""

    kind: str
    """Its French name."""
    sent: int
    failed: int


@dataclass(frozen=True)
class ActivityReport:
    """Everything the report says about one year."""

    year: int
    generated_at: datetime
    months: tuple[Month, ...]
    members_during_year: int
    members_at_end_of_year: int
    territories: tuple[Territory, ...]
    approaches: tuple[Approach, ...]
    sessions: tuple[SessionRow, ...]
    programme: Programme | None
    emails: tuple[EmailRow, ...]

    @property
    def empty(self) -> bool:
        """Nothing happened in the year: no member, no session, no programme, no email."""
        moved = any(m.joined or m.left for m in self.months)
        return not (
            moved or self.members_during_year or self.sessions or self.programme or self.emails
        )

    @property
    def held(self) -> tuple[SessionRow, ...]:
        """The sessions that took place (or are to), cancelled ones aside."""
        return tuple(s for s in self.sessions if s.status != "annulée")

    @property
    def turnout(self) -> float | None:
        """Ballots per active member, in percent (one decimal), if a programme was published."""
        if self.programme is None or not self.programme.active_members:
            return None
        return round(100 * self.programme.ballots / self.programme.active_members, 1)

    @property
    def average_rating(self) -> float | None:
        """The mean of every rating of the year (each session's mean, weighted by count)."""
        rated = [
            (s.average_rating, s.ratings) for s in self.sessions if s.average_rating is not None
        ]
        count = sum(n for _, n in rated)
        return round(sum(mean * n for mean, n in rated) / count, 1) if rated else None


def build(sources: Sources, *, now: datetime) -> ActivityReport:
    """The report of the sources' year, as known at `now` (a session not over is to come)."""
    places = {p.session_id: p for p in sources.registration.sessions}
    sessions = []
    for session in sources.scheduling.sessions:
        counted = places.get(session.session_id) or _nobody(session.session_id)
        sessions.append(
            SessionRow(
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                title=session.title,
                question=session.question,
                status=_status(session, now),
                enrolled=counted.enrolled,
                waitlisted=counted.waitlisted,
                attended=counted.attended,
                ratings=counted.ratings,
                average_rating=counted.average_rating,
                questions=session.questions,
                experts_confirmed=session.experts_confirmed,
                experts_invited=session.experts_invited,
                report_shared=session.report_shared,
            )
        )
    registration = sources.registration
    return ActivityReport(
        year=registration.year,
        generated_at=now,
        months=tuple(registration.months),
        members_during_year=registration.members_during_year,
        members_at_end_of_year=registration.members_at_end_of_year,
        territories=tuple(registration.territories),
        approaches=tuple(registration.approaches),
        sessions=tuple(sessions),
        programme=sources.programme.programme,
        emails=tuple(
            EmailRow(EMAIL_KINDS.get(e.kind, e.kind), e.sent, e.failed)
            for e in sorted(sources.notifications.emails, key=lambda e: (-e.sent, e.kind))
        ),
    )


def _status(session: Session, now: datetime) -> SessionStatus:
    if session.status == "cancelled":
        return "annulée"
    return "tenue" if session.ends_at <= now else "à venir"


def _nobody(session_id: str) -> Places:
    """The counts of a session the registration service does not know."""
    return Places(
        session_id=session_id, enrolled=0, waitlisted=0, attended=0, ratings=0, average_rating=None
    )


def tables(report: ActivityReport) -> tuple[Table, ...]:
    """Every table of the report, in the page's order."""
    return (
        members_table(report),
        territories_table(report),
        approaches_table(report),
        sessions_table(report),
        ranking_table(report),
        turnout_table(report),
        emails_table(report),
    )


def members_table(report: ActivityReport) -> Table:
    """Members who joined and left, month by month."""
    return Table(
        name="membres-par-mois",
        caption=f"Arrivées et départs de membres par mois, {report.year}",
        columns=("Mois", "Arrivées", "Départs"),
        rows=tuple((MONTHS[m.month - 1], m.joined, m.left) for m in report.months),
        nothing="",
    )


def territories_table(report: ActivityReport) -> Table:
    """The territories of the year's members."""
    return Table(
        name="territoires",
        caption=f"Territoires représentés (membres au cours de {report.year})",
        columns=("Territoire", "Membres"),
        rows=tuple((t.territory, t.members) for t in report.territories),
        nothing=f"Aucun membre au cours de {report.year}.",
    )


def approaches_table(report: ActivityReport) -> Table:
    """PAT and SAT among the year's members."""
    return Table(
        name="demarches",
        caption=f"Démarches conduites (membres au cours de {report.year})",
        columns=("Démarche", "Membres"),
        rows=tuple((a.approach, a.members) for a in report.approaches),
        nothing=f"Aucun membre au cours de {report.year}.",
    )


def sessions_table(report: ActivityReport) -> Table:
    """Each session of the year and its counts."""
    return Table(
        name="seances",
        caption=f"Les séances de {report.year}",
        columns=(
            "Date",
            "Titre",
            "Question",
            "Statut",
            "Inscrits",
            "Liste d'attente",
            "Présents",
            "Note moyenne (sur 5)",
            "Nombre de notes",
            "Questions reçues",
            "Experts confirmés",
            "Experts invités",
            "Compte rendu partagé",
        ),
        rows=tuple(
            (
                paris(s.starts_at).date(),
                s.title,
                s.question,
                s.status,
                s.enrolled,
                s.waitlisted,
                s.attended,
                s.average_rating,
                s.ratings,
                s.questions,
                s.experts_confirmed,
                s.experts_invited,
                "oui" if s.report_shared else "non",
            )
            for s in report.sessions
        ),
        nothing=f"Aucune séance en {report.year}.",
    )


def ranking_table(report: ActivityReport) -> Table:
    """The programme's topics, best first."""
    ranking = report.programme.ranking if report.programme else []
    return Table(
        name="programme",
        caption=f"Le programme {report.year} : classement des sujets par les membres",
        columns=("Rang", "Sujet", "Points"),
        rows=tuple((r.rank, r.title or "(sujet retiré)", r.score) for r in ranking),
        nothing=f"Aucun programme publié pour {report.year}.",
    )


def turnout_table(report: ActivityReport) -> Table:
    """The vote's turnout."""
    programme = report.programme
    rows: tuple[tuple[Cell, ...], ...] = (
        ((programme.version, programme.ballots, programme.active_members, report.turnout),)
        if programme
        else ()
    )
    return Table(
        name="participation-vote",
        caption=f"Participation au vote du programme {report.year}",
        columns=(
            "Version du programme",
            "Bulletins comptés",
            "Membres actifs",
            "Participation (%)",
        ),
        rows=rows,
        nothing=f"Aucun programme publié pour {report.year}.",
    )


def emails_table(report: ActivityReport) -> Table:
    """The emails of the year, by kind."""
    return Table(
        name="emails",
        caption=f"Emails envoyés et en échec par type, {report.year}",
        columns=("Type d'email", "Envoyés", "En échec"),
        rows=tuple((e.kind, e.sent, e.failed) for e in report.emails),
        nothing=f"Aucun email envoyé en {report.year}.",
    )
