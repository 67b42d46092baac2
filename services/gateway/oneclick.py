"""The one-click links of the emails: `GET /l/{token}` shows, `POST /l/{token}` acts.

A GET never changes anything (mail scanners and link previews open links): it shows
the action with one button. The POST publishes the request with the link's event id,
records the link as used and says it is done; a second visit says it was already done.
RFC 8058: a POST of `List-Unsubscribe=One-Click` on an unsubscribe link acts without a
page (mailbox providers send it from their own "unsubscribe" button).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from itsdangerous import BadData
from starlette.responses import PlainTextResponse, Response

from services.gateway import forms
from services.gateway.actions import (
    SIGNUPS,
    done_text,
    missing_names,
    offer,
    request_for,
    usable,
    used_action,
)
from services.gateway.domain import is_open
from services.gateway.pages import PageError, message, render
from services.gateway.records import SessionRecord, UsedLink
from services.gateway.requests import publish, read_form, site_of, values
from services.gateway.site import Site
from services.gateway.unit import Unit
from shared import french
from shared.links import BadLink, Link

router = APIRouter()

ONE_CLICK_DONE = "Désinscription enregistrée.\n"
MAX_TOKEN = 4096


@router.get("/l/{token}")
async def show_link(request: Request, token: str) -> Response:
    """What the link would do, with one button (nothing is done)."""
    site = site_of(request)
    link = _follow(site, token)
    uow = site.open_unit()
    used = await uow.links.find(link.event_id)
    if used is not None:
        return _already_done(site, used)
    session = await _session(uow, link)
    if link.action in SIGNUPS and session is not None and not is_open(session, site.clock()):
        return _closed(site, session, status=200)
    return _link_page(site, token, link, session)


@router.post("/l/{token}")
async def follow_link(request: Request, token: str) -> Response:
    """Do the link's action, once: publish its request with the link's event id."""
    site = site_of(request)
    link = _follow(site, token)
    uow = site.open_unit()
    now = site.clock()
    form = await read_form(request)
    one_click = (
        link.action == "unsubscribe" and forms.first(form, "List-Unsubscribe") == "One-Click"
    )
    used = await uow.links.find(link.event_id)
    if used is not None:
        return PlainTextResponse(ONE_CLICK_DONE) if one_click else _already_done(site, used)
    session = await _session(uow, link)
    if link.action in SIGNUPS and session is not None and not is_open(session, now):
        return _closed(site, session, status=409)
    outcome = request_for(link, form, at=now)
    if isinstance(outcome, dict):
        shown = values(form, "first_name", "last_name", "question", "rating", "comment", "note")
        return _link_page(site, token, link, session, status=400, form=shown, errors=outcome)
    # Publish first: a crash before the record is kept only means the same event (same
    # id) is published again on the next click, which every consumer ignores.
    await publish(site, outcome)
    await uow.links.add(UsedLink(link.event_id, used_action(link), now))
    if one_click:
        return PlainTextResponse(ONE_CLICK_DONE)
    return message(200, "C'est fait", offer(link).done, root=site.root, success=True)


def _follow(site: Site, token: str) -> Link:
    """The link a token stands for; a French 4xx page when it cannot be followed."""
    try:
        read = site.links.read(token) if len(token) <= MAX_TOKEN else BadLink("tampered")
    except (BadData, ValueError, TypeError, UnicodeError):
        read = BadLink("tampered")
    if isinstance(read, BadLink) and read.reason == "expired":
        raise PageError(
            410,
            "Lien expiré",
            f"Ce lien n'est plus valable : les liens de nos courriels expirent après "
            f"{site.link_ttl_days} jours.",
            "Pour une séance, inscrivez-vous depuis la liste des séances ; pour toute autre "
            "demande, répondez simplement au courriel reçu.",
        )
    if isinstance(read, BadLink) and read.reason == "tampered":
        raise PageError(
            400,
            "Lien invalide",
            "Ce lien est incomplet ou a été modifié. Copiez-le en entier depuis le courriel "
            "reçu, ou cliquez directement dessus.",
        )
    if isinstance(read, BadLink) or not usable(read):
        raise PageError(
            404,
            "Lien inconnu",
            "Ce lien ne correspond à aucune action possible. Répondez simplement au courriel "
            "reçu si vous avez besoin d'aide.",
        )
    return read


async def _session(uow: Unit, link: Link) -> SessionRecord | None:
    if not link.session_id or len(link.session_id) > 100:
        return None
    return await uow.sessions.find(link.session_id)


def _link_page(
    site: Site,
    token: str,
    link: Link,
    session: SessionRecord | None,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: forms.Errors | None = None,
) -> Response:
    shown = offer(link)
    return render(
        "link.html",
        root=site.root,
        status=status,
        title=shown.title,
        offer=shown,
        token=token,
        email=link.email,
        session=session,
        when=french.slot(session.starts_at, session.ends_at) if session else "",
        missing=missing_names(link),
        values=form or {},
        errors=errors or {},
    )


def _already_done(site: Site, used: UsedLink) -> Response:
    return message(
        200,
        "C'est déjà fait",
        done_text(used.action),
        f"Ce lien a déjà servi, le {french.moment(used.used_at)} : il n'y a rien de plus à faire.",
        root=site.root,
        success=True,
    )


def _closed(site: Site, session: SessionRecord, *, status: int) -> Response:
    return render(
        "closed.html",
        root=site.root,
        status=status,
        title="Inscriptions closes",
        session=session,
        when=french.slot(session.starts_at, session.ends_at),
    )
