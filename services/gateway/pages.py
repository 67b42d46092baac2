"""The pages' HTML: Jinja2 templates (autoescaped), French texts, one look (the emails')."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from services.gateway.records import SessionRecord
from shared import french

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Card:
    """A session as the pages show it."""

    session: SessionRecord
    places_left: int

    @property
    def when(self) -> str:
        """'mardi 17 mars 2020, 10h-12h' (Paris time)."""
        return french.slot(self.session.starts_at, self.session.ends_at)

    @property
    def places(self) -> str:
        """Places left, or the waitlist."""
        return places(self.places_left)


class PageError(Exception):
    """A request the pages answer with a French message page (4xx)."""

    def __init__(
        self,
        status: int,
        title: str,
        *paragraphs: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.paragraphs = paragraphs
        self.headers = dict(headers or {})


def render(template: str, *, root: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from its template (every value escaped)."""
    html = _env.get_template(template).render(root=root, **context)
    return HTMLResponse(html, status_code=status)


def message(
    status: int,
    title: str,
    *paragraphs: str,
    root: str,
    success: bool = False,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page that only says something."""
    response = render(
        "message.html",
        root=root,
        status=status,
        title=title,
        paragraphs=paragraphs,
        success=success,
    )
    response.headers.update(headers or {})
    return response


FALLBACK = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Erreur</title>'
    "</head><body><h1>Une erreur est survenue</h1><p>Le service rencontre un problème. "
    "Réessayez dans quelques minutes.</p></body></html>"
).encode()
"""The page of last resort, when even rendering failed."""

NOT_FOUND = (
    "Page introuvable",
    "L'adresse demandée n'existe pas. Vérifiez-la, ou partez de la liste des séances.",
)
STATUS_PAGES: dict[int, tuple[str, ...]] = {
    400: (
        "Demande invalide",
        "La demande envoyée n'a pas pu être comprise. Revenez à la page précédente et réessayez.",
    ),
    404: NOT_FOUND,
    405: (
        "Action impossible",
        "Cette page ne permet pas cette action. Utilisez les liens et les boutons des pages.",
    ),
    413: (
        "Formulaire trop volumineux",
        "Le formulaire envoyé est bien plus long que ce qu'il peut contenir. Raccourcissez "
        "vos textes et réessayez.",
    ),
    500: (
        "Une erreur est survenue",
        "Le service rencontre un problème. Réessayez dans quelques minutes.",
    ),
    503: (
        "Service indisponible",
        "Le service redémarre ou est momentanément indisponible. Réessayez dans quelques minutes.",
    ),
}


def status_page(
    status: int, *, root: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """The French page of an HTTP status (unknown ones read as a bad request)."""
    title, *paragraphs = STATUS_PAGES.get(status, STATUS_PAGES[400])
    return message(status, title, *paragraphs, root=root, headers=headers)


def places(left: int) -> str:
    """'3 places restantes', '1 place restante', or the waitlist."""
    if left <= 0:
        return "Complet : inscription sur liste d'attente"
    return f"{left} place{'s' if left > 1 else ''} restante{'s' if left > 1 else ''}"
