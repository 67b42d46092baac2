"""Pure rules of registration: eligibility, addresses, places and the waitlist (no I/O)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.identity import EmailAddress, InvalidAddress, check_address

Role = Literal["charge_de_mission", "chef_de_projet"]
Approach = Literal["PAT", "SAT"]
PlaceStatus = Literal["enrolled", "waitlisted"]

NOT_ELIGIBLE = (
    "Le groupe d'échange de pratiques est réservé aux chargés de mission et aux chefs de "
    "projet qui conduisent une démarche alimentaire territoriale (PAT ou SAT). Vous pouvez "
    "néanmoins vous inscrire aux séances dont la question vous intéresse."
)
ALREADY_MEMBER = "Cette adresse électronique est déjà inscrite au groupe d'échange de pratiques."
CONSENT_REQUIRED = (
    "Votre consentement au traitement de vos données personnelles est nécessaire pour "
    "vous inscrire."
)
MARKUP_IN_NAME = "Le prénom et le nom ne peuvent pas contenir les caractères « < » ou « > »."
UNKNOWN_SESSION = "Cette séance n'existe pas (ou n'est pas encore programmée) : vérifiez le lien."
PAST_SESSION = "Cette séance a déjà commencé ou a eu lieu : les inscriptions sont closes."
CANCELLED_SESSION = "Cette séance a été annulée : les inscriptions sont closes."
ALREADY_ENROLLED = "Vous êtes déjà inscrit(e) à cette séance ou sur sa liste d'attente."

_ROLES: tuple[tuple[re.Pattern[str], Role], ...] = (
    # "Chargé(e) de mission", "chargée de mission PAT", "charge_de_mission", "chargé·e"...
    (re.compile(r"^charg(e|ee|es|ees)( e| es)? (de|d) missions?( .*)?$"), "charge_de_mission"),
    (re.compile(r"^chef(fe)?s?( fe| e| fes)? (de|d) projets?( .*)?$"), "chef_de_projet"),
)
_APPROACHES: dict[str, Approach] = {
    "PAT": "PAT",
    "SAT": "SAT",
    "PROJETALIMENTAIRETERRITORIAL": "PAT",
    "STRATEGIEALIMENTAIRETERRITORIALE": "SAT",
}
_MARKUP = re.compile(r"[<>]")


def _fold(text: str) -> str:
    """Lower case, without accents, every run of other characters turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def normalise_role(role: str) -> Role | None:
    """The eligible role this free value names (usual spellings, accents, feminine), if any."""
    folded = _fold(role)
    return next((name for pattern, name in _ROLES if pattern.match(folded)), None)


def normalise_approach(approach: str) -> Approach | None:
    """PAT or SAT, whatever the casing, dots or spelt-out name; None otherwise."""
    return _APPROACHES.get(_fold(approach).replace(" ", "").upper())


@dataclass(frozen=True)
class Refusal:
    """Why a request cannot be accepted, with the French explanation for the email."""

    reason: str
    detail: str


def check_email(text: str) -> EmailAddress | Refusal:
    """The platform's address rule (shared.identity); a refusal explains it in French."""
    address = check_address(text)
    if isinstance(address, InvalidAddress):
        return Refusal("invalid", address.detail)
    return address


def names_refusal(*names: str) -> Refusal | None:
    """Markup has no place in a person's name (it would only ever reach an email)."""
    if any(_MARKUP.search(name) for name in names):
        return Refusal("invalid", MARKUP_IN_NAME)
    return None


@dataclass(frozen=True)
class Applicant:
    """A registration request that passed every check but the already-member one."""

    email: EmailAddress
    role: Role
    approach: Approach


def screen_registration(
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    approach: str,
    consent: bool,
) -> Applicant | Refusal:
    """Invalid (consent, address, names) first, then eligibility."""
    if not consent:
        return Refusal("invalid", CONSENT_REQUIRED)
    address = check_email(email)
    if isinstance(address, Refusal):
        return address
    refusal = names_refusal(first_name, last_name)
    if refusal is not None:
        return refusal
    normal_role = normalise_role(role)
    normal_approach = normalise_approach(approach)
    if normal_role is None or normal_approach is None:
        return Refusal("not_eligible", NOT_ELIGIBLE)
    return Applicant(email=address, role=normal_role, approach=normal_approach)


def already_member() -> Refusal:
    """The address already belongs to an active member."""
    return Refusal("already_member", ALREADY_MEMBER)


@dataclass(frozen=True)
class SessionView:
    """What the sign-up rules need to know of a session."""

    session_id: str
    starts_at: datetime
    cancelled: bool


def upcoming(session: SessionView, now: datetime) -> bool:
    """Places of a session change only before it starts, and never once cancelled."""
    return not session.cancelled and session.starts_at > now


def signup_refusal(session: SessionView | None, *, now: datetime) -> Refusal | None:
    """A sign-up needs a known, upcoming, not cancelled session."""
    if session is None:
        return Refusal("unknown_session", UNKNOWN_SESSION)
    if session.cancelled:
        return Refusal("cancelled_session", CANCELLED_SESSION)
    if session.starts_at <= now:
        return Refusal("past_session", PAST_SESSION)
    return None


def already_enrolled() -> Refusal:
    """The person already holds a place (or a waitlist position) in the session."""
    return Refusal("already_enrolled", ALREADY_ENROLLED)


@dataclass(frozen=True)
class Place:
    """Where a new sign-up lands."""

    status: PlaceStatus
    waitlist_position: int | None = None


def place_for(*, enrolled: int, waitlisted: int, capacity: int) -> Place:
    """First come, first served: a place while any is free, else the end of the waitlist."""
    if enrolled < capacity and waitlisted == 0:
        return Place("enrolled")
    return Place("waitlisted", waitlist_position=waitlisted + 1)


def promotions(*, enrolled: int, waitlisted: int, capacity: int) -> int:
    """How many waitlisted people move up once `enrolled` places are held."""
    return max(0, min(capacity - enrolled, waitlisted))


# --- the session cycle: questions, attendance, ratings ---------------------------------

QUESTION_UNKNOWN_SESSION = "Cette séance n'existe pas (ou n'est pas encore programmée)."
QUESTION_CANCELLED = "Cette séance a été annulée : elle ne reçoit plus de questions."
QUESTION_PAST = "Cette séance a eu lieu : elle ne reçoit plus de questions."
QUESTION_NOT_PARTICIPANT = (
    "Les questions d'une séance sont ouvertes à ses membres et à ses participant·es : "
    "inscrivez-vous à la séance pour proposer la vôtre."
)
ATTENDANCE_UNKNOWN = "Cette séance n'est pas connue : la présence ne peut pas être enregistrée."
ATTENDANCE_CANCELLED = "Cette séance a été annulée : aucune présence n'est enregistrée."
ATTENDANCE_NOT_STARTED = (
    "Cette séance n'a pas encore commencé : la présence s'enregistre une fois la séance ouverte."
)
FEEDBACK_UNKNOWN = "Cette séance n'est pas connue : votre avis ne peut pas être enregistré."
FEEDBACK_NOT_ATTENDEE = (
    "Seules les personnes présentes à la séance peuvent la noter : nous n'avons pas "
    "trouvé votre adresse dans la liste de présence."
)


def question_refusal(
    session: SessionView | None, *, ends_at: datetime | None, now: datetime, may_ask: bool
) -> Refusal | None:
    """A question needs a known session, not cancelled, not over, from one of its own."""
    if session is None:
        return Refusal("unknown_session", QUESTION_UNKNOWN_SESSION)
    if session.cancelled:
        return Refusal("cancelled_session", QUESTION_CANCELLED)
    if ends_at is not None and ends_at <= now:
        return Refusal("past_session", QUESTION_PAST)
    if not may_ask:
        return Refusal("not_a_participant", QUESTION_NOT_PARTICIPANT)
    return None


def attendance_refusal(session: SessionView | None, *, now: datetime) -> Refusal | None:
    """Attendance is recorded once the session has started (and again, to correct it)."""
    if session is None:
        return Refusal("unknown_session", ATTENDANCE_UNKNOWN)
    if session.cancelled:
        return Refusal("cancelled_session", ATTENDANCE_CANCELLED)
    if session.starts_at > now:
        return Refusal("not_started", ATTENDANCE_NOT_STARTED)
    return None


def feedback_refusal(session: SessionView | None, *, attended: bool) -> Refusal | None:
    """Only those who attended rate a session."""
    if session is None:
        return Refusal("unknown_session", FEEDBACK_UNKNOWN)
    if not attended:
        return Refusal("not_an_attendee", FEEDBACK_NOT_ATTENDEE)
    return None
