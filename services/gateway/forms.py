"""The pages' forms: read a bounded body, then check each field as the contract will.

Every check gives a French message for the person; a form with any error publishes
nothing. The bounds are the contract's (shared/contract/fields.py): names 100
characters, organisation 200, address 254, question 2,000, comment or note 5,000; a
one-line field refuses control characters (CR/LF above all) and `<`/`>`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser

from shared.identity import EmailAddress, InvalidAddress, check_address

MAX_BODY = 64 * 1024
"""The largest form body read (the largest valid form is far smaller)."""
MAX_FIELDS = 60

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Form = Mapping[str, Sequence[str]]
Errors = dict[str, str]
"""Field name -> what is wrong with it, in French."""


class BodyTooLarge(Exception):
    """The request body is larger than any form of the pages."""


class UnreadableForm(Exception):
    """The body is not a form (broken multipart, too many fields, a file)."""


async def parse_form(headers: Headers, stream: AsyncIterator[bytes]) -> dict[str, list[str]]:
    """The fields of a form body (urlencoded or multipart), read up to MAX_BODY bytes."""
    body = bytearray()
    async for chunk in stream:
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyTooLarge
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        pairs = await _multipart(headers, bytes(body))
    else:
        try:
            text = bytes(body).decode("utf-8", errors="replace")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError as error:
            raise UnreadableForm from error
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


async def _multipart(headers: Headers, body: bytes) -> list[tuple[str, str]]:
    async def once() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(headers, once(), max_files=0, max_fields=MAX_FIELDS)  # type: ignore[arg-type]
    try:
        form = await parser.parse()
    except Exception as error:  # any parse failure is bad input: a 400
        raise UnreadableForm from error
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def first(form: Form, name: str) -> str:
    """The field's first value ('' when absent)."""
    values = form.get(name) or ()
    return values[0] if values else ""


@dataclass(frozen=True)
class Person:
    """Who filled a form in: a valid address and bounded, one-line names."""

    email: EmailAddress
    first_name: str
    last_name: str
    organisation: str | None


def check_person(form: Form, errors: Errors) -> Person | None:
    """The person the form names, or None with `errors` filled in."""
    first_name = line(form, "first_name", "votre prénom", 100, errors)
    last_name = line(form, "last_name", "votre nom", 100, errors)
    organisation = line(form, "organisation", "votre organisation", 200, errors, required=False)
    email = address(form, errors)
    if errors or email is None:
        return None
    return Person(email, first_name, last_name, organisation or None)


def address(form: Form, errors: Errors, name: str = "email") -> EmailAddress | None:
    """The address of the form, checked with the platform's one rule."""
    text = first(form, name).strip()
    if not text:
        errors[name] = "Indiquez votre adresse électronique."
        return None
    if len(text) > 254 or _CONTROL.search(text):
        errors[name] = "Cette adresse électronique n'est pas valide."
        return None
    checked = check_address(text)
    if isinstance(checked, InvalidAddress):
        errors[name] = checked.detail
        return None
    return checked


def line(
    form: Form, name: str, label: str, max_length: int, errors: Errors, *, required: bool = True
) -> str:
    """A one-line text field: trimmed, bounded, no control character, no markup."""
    text = first(form, name).strip()
    capital = label[0].upper() + label[1:]
    if not text:
        if required:
            errors[name] = f"Indiquez {label}."
    elif len(text) > max_length:
        errors[name] = f"{capital} ne doit pas dépasser {max_length} caractères."
    elif _CONTROL.search(text):
        errors[name] = f"{capital} doit tenir sur une ligne, sans caractère de contrôle."
    elif "<" in text or ">" in text:
        errors[name] = f"{capital} ne peut pas contenir les signes < et >."
    return text


def text_block(
    form: Form, name: str, label: str, max_length: int, errors: Errors, *, required: bool
) -> str:
    """A text over several lines (line breaks as one character each), bounded."""
    text = first(form, name).replace("\r\n", "\n").replace("\r", "\n").strip()
    capital = label[0].upper() + label[1:]
    if not text:
        if required:
            errors[name] = f"Écrivez {label}."
    elif len(text) > max_length:
        errors[name] = f"{capital} ne doit pas dépasser {max_length} caractères."
    elif _CONTROL_EXCEPT_NEWLINES.search(text):
        errors[name] = f"{capital} contient des caractères de contrôle."
    return text


def rating(form: Form, errors: Errors) -> int:
    """A rating from 1 to 5."""
    text = first(form, "rating").strip()
    if text in {"1", "2", "3", "4", "5"}:
        return int(text)
    errors["rating"] = "Choisissez une note de 1 à 5."
    return 0


def consent(form: Form, errors: Errors) -> bool:
    """The consent box, which must be ticked."""
    if first(form, "consent") != "oui":
        errors["consent"] = "Cochez la case pour accepter de recevoir nos courriels."
        return False
    return True


def topics(form: Form, known: Collection[str], errors: Errors) -> list[str]:
    """The topics chosen among `known` (none: every session)."""
    chosen = list(dict.fromkeys(form.get("topic_ids") or ()))
    if any(topic not in known for topic in chosen) or len(chosen) > 50:
        errors["topic_ids"] = "Choisissez parmi les thèmes proposés."
        return []
    return chosen
