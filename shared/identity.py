"""Who a person is, for every service: an address, its comparison key, its pseudonym.

One rule everywhere (registration, programme, scheduling, notifications, the gateway):

- an address is checked with email-validator (syntax only, no DNS look-up); special-use
  and reserved domains (`.invalid`, `.local`, `.localhost`, `.onion`, `.arpa`...) are
  refused because no mail can ever reach them, except `.test` (RFC 6761), which the
  embedded stack, the test suites and the preview samples use and which a real person
  never has: mail to it stays in the operator's own SMTP sink;
- two addresses are the same person when their keys are equal: the whole address,
  trimmed, in Unicode NFC, case-insensitive;
- a person's pseudonym (`person_key`) is a digest of that key: it tags stored records
  and Kafka keys for erasure without ever showing the address.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

PERSON_PREFIX = "p-"

# email-validator's messages, in the French the agents read (most specific first).
_PROBLEMS: tuple[tuple[str, str], ...] = (
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


def email_key(address: str) -> str:
    """The comparison key of an address: trimmed, NFC, case-insensitive (the whole address)."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def person_key(address: str) -> str:
    """The pseudonym of whoever owns `address` (any casing or spacing gives the same)."""
    return PERSON_PREFIX + hashlib.sha256(email_key(address).encode()).hexdigest()[:32]


def display_name(first_name: str | None, last_name: str | None = None) -> str:
    """ "First Last" (what is known of it), bounded like every name of the contract."""
    return " ".join(part for part in (first_name, last_name) if part)[:100].strip()


@dataclass(frozen=True)
class EmailAddress:
    """A valid address: as given (for sending) and its key (for comparing)."""

    given: str
    key: str

    @property
    def person(self) -> str:
        """The pseudonym of this address."""
        return person_key(self.key)


@dataclass(frozen=True)
class InvalidAddress:
    """Why an address cannot be used, in French (shown to the person)."""

    detail: str


def check_address(text: str) -> EmailAddress | InvalidAddress:
    """The address if it can receive mail (the platform's one rule), else why not."""
    given = text.strip()
    try:
        valid = validate_email(given, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        return InvalidAddress(_in_french(given, str(error)))
    return EmailAddress(given=given, key=email_key(valid.normalized))


def _in_french(address: str, message: str) -> str:
    why = next(
        (french for english, french in _PROBLEMS if english in message),
        "sa forme n'est pas reconnue",
    )
    shown = address if len(address) <= 120 else address[:117] + "..."
    return f"L'adresse électronique « {shown} » n'est pas valide : {why}."
