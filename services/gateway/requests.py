"""What every route does first: find the site, read a form, keep a form's values."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from services.gateway import forms
from services.gateway.pages import STATUS_PAGES, PageError
from services.gateway.site import Site
from shared.contract import CloudEvent
from shared.kafka import Emission

logger = logging.getLogger("caprural.gateway")

ECHO_LIMIT = 5000
"""The longest value a form page shows back (bounded: it is the person's own input)."""


def site_of(request: Request) -> Site:
    """The site the app was built with (503 until the composition root has built it)."""
    site = getattr(request.app.state, "site", None)
    if not isinstance(site, Site):
        raise PageError(503, *STATUS_PAGES[503])
    return site


def root_of(request: Request) -> str:
    """The pages' path prefix, even before the site exists (error pages)."""
    site = getattr(request.app.state, "site", None)
    return site.root if isinstance(site, Site) else ""


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted form, bounded; 413 or 400 pages when it is not one."""
    try:
        return await forms.parse_form(request.headers, request.stream())
    except forms.BodyTooLarge:
        raise PageError(413, *STATUS_PAGES[413]) from None
    except (forms.UnreadableForm, ClientDisconnect):
        raise PageError(400, *STATUS_PAGES[400]) from None


def values(form: forms.Form, *names: str) -> dict[str, str]:
    """The values typed in, to show the form again (escaped by the templates)."""
    return {name: forms.first(form, name)[:ECHO_LIMIT] for name in names}


async def publish(site: Site, event: CloudEvent[Any]) -> None:
    """Publish one request; Kafka unavailable is a 503 page (try again), nothing recorded."""
    try:
        await site.publisher.publish([Emission.of(event)])
    except Exception as error:  # noqa: BLE001 (any failure to publish: the person retries)
        logger.warning("could not publish %s: %s", event.type, type(error).__name__)
        raise PageError(
            503,
            "Service momentanément indisponible",
            "Votre demande n'a pas pu être transmise. Réessayez dans quelques minutes : "
            "rien n'a été enregistré.",
            headers={"Retry-After": "60"},
        ) from None
