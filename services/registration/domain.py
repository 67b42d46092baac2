"""Pure rules of registration: eligibility, addresses, places and the waitlist (no I/O)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from email_validator import EmailNotValidError, validate_email

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

# email-validator's messages, in the French the agents read (most specific first).
_EMAIL_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("must have an @-sign", "il manque le signe @"),
    ("something before the @-sign", "il manque la partie située avant le signe @"),
    ("something after the @-sign", "il manque le nom de domaine après le signe @"),
    ("too long", "elle est trop longue"),
    (
        "special-use or reserved",
        "son nom de domaine est réservé et ne peut pas recevoir de courriel",
    ),
    ("should have a period", "son nom de domaine est incomplet (il manque un point)"),
    ("top-level domain", "son nom de domaine n'a pas d'extension valide"),
    ("two periods in a row", "elle contient deux points à la suite"),
    ("period", "un point est mal placé"),
    ("hyphen", "un tiret est mal placé"),
    ("character", "elle contient des caractères non autorisés"),
)


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
class EmailAddress:
    """An address as given (for sending) and its key (for comparing whole addresses)."""

    given: str
    key: str

    @property
    def person_key(self) -> str:
        """A pseudonymous tag for this address (Kafka keys, erasure tags)."""
        return person_key(self.key)


@dataclass(frozen=True)
class Refusal:
    """Why a request cannot be accepted, with the French explanation for the email."""

    reason: str
    detail: str


def person_key(email_key: str) -> str:
    """A stable pseudonym of an address key: it never shows the address itself."""
    return "p-" + hashlib.sha256(email_key.encode()).hexdigest()[:32]


def email_key(text: str) -> str:
    """The comparison key of an address: trimmed and case-insensitive (the whole address)."""
    return unicodedata.normalize("NFC", text.strip()).lower()


def check_email(text: str) -> EmailAddress | Refusal:
    """Syntax check (email-validator, no DNS look-up); a refusal explains it in French."""
    given = text.strip()
    try:
        valid = validate_email(given, check_deliverability=False)
    except EmailNotValidError as error:
        return Refusal("invalid", email_problem(given, str(error)))
    return EmailAddress(given=given, key=email_key(valid.normalized))


def person_tag(email: str) -> str:
    """The pseudonymous tag of whatever address was given (valid or not)."""
    address = check_email(email)
    if isinstance(address, EmailAddress):
        return address.person_key
    return person_key(email_key(email))


def email_problem(address: str, message: str) -> str:
    """A French sentence for email-validator's English message."""
    why = next(
        (french for english, french in _EMAIL_PROBLEMS if english in message),
        "sa forme n'est pas reconnue",
    )
    shown = address if len(address) <= 120 else address[:117] + "..."
    return f"L'adresse électronique « {shown} » n'est pas valide : {why}."


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
