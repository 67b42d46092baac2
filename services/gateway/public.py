"""The public pages: the upcoming sessions, a session's sign-up form, the interest form.

A form publishes nothing but `confirmation_requested`: the notifications service mails
a one-click link to the address given, and only that link makes the request (double
opt-in: nobody can sign someone else up). Confirmations are limited per address and
hour (CONFIRMATIONS_PER_HOUR).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from services.gateway import forms
from services.gateway.actions import SOURCE
from services.gateway.domain import hour_of, is_open, places_left
from services.gateway.pages import Card, PageError, render
from services.gateway.records import SessionRecord
from services.gateway.requests import publish, read_form, site_of, values
from services.gateway.site import Site
from services.gateway.unit import Unit
from shared.contract.interest import ConfirmationRequested, ConfirmationRequestedData
from shared.identity import person_key

router = APIRouter()

LISTED = 100
"""At most this many upcoming sessions on the list (there are six a year)."""
PERSON_FIELDS = ("first_name", "last_name", "email", "organisation")
CHECK_INBOX = "Vérifiez votre messagerie"
UNKNOWN_SESSION = PageError(
    404,
    "Séance introuvable",
    "Cette séance n'existe pas ou n'est pas encore annoncée. Retrouvez les prochaines "
    "séances dans la liste.",
)


@router.get("/")
async def home(request: Request) -> Response:
    """The list of sessions is the home page."""
    return RedirectResponse(f"{site_of(request).root}/seances", status_code=303)


@router.get("/seances")
async def upcoming_sessions(request: Request) -> Response:
    """The sessions to come, earliest first, with their places left."""
    site = site_of(request)
    cards = await _upcoming(site, site.open_unit(), site.clock())
    return render("sessions.html", root=site.root, title="Les prochaines séances", cards=cards)


@router.get("/seances/{session_id}")
async def session_page(request: Request, session_id: str) -> Response:
    """A session, and its sign-up form while sign-ups are open."""
    site = site_of(request)
    card = await _card(site, site.open_unit(), session_id)
    return _session_form(site, card, open_=is_open(card.session, site.clock()))


@router.post("/seances/{session_id}/inscription")
async def ask_signup(request: Request, session_id: str) -> Response:
    """Sign-up form: mail a confirmation link (full: the waitlist, said so)."""
    site = site_of(request)
    uow = site.open_unit()
    now = site.clock()
    card = await _card(site, uow, session_id)
    if not is_open(card.session, now):
        return _session_form(site, card, open_=False, status=409)
    form = await read_form(request)
    errors: forms.Errors = {}
    person = forms.check_person(form, errors)
    if person is None:
        return _session_form(
            site, card, open_=True, status=400, form=values(form, *PERSON_FIELDS), errors=errors
        )
    data = _confirmation("signup", person, errors, session_id=session_id, topic_ids=[])
    if data is None:
        return _session_form(
            site, card, open_=True, status=400, form=values(form, *PERSON_FIELDS), errors=errors
        )
    await _request_confirmation(site, uow, data, now=now)
    return render(
        "check_inbox.html",
        root=site.root,
        title=CHECK_INBOX,
        email=person.email.given,
        session=card.session,
        when=card.when,
        waitlist=card.places_left == 0,
        ttl_days=site.link_ttl_days,
    )


@router.get("/interet")
async def interest_page(request: Request) -> Response:
    """The interest form: be told of the sessions (some topics, or all)."""
    site = site_of(request)
    topics = await _topics(site, site.open_unit(), site.clock())
    return _interest_form(site, topics)


@router.post("/interet")
async def ask_interest(request: Request) -> Response:
    """Interest form: mail a confirmation link."""
    site = site_of(request)
    uow = site.open_unit()
    now = site.clock()
    topics = await _topics(site, uow, now)
    form = await read_form(request)
    errors: forms.Errors = {}
    person = forms.check_person(form, errors)
    chosen = forms.topics(form, dict(topics), errors)
    forms.consent(form, errors)
    data = (
        _confirmation("interest", person, errors, session_id=None, topic_ids=chosen)
        if person is not None and not errors
        else None
    )
    if data is None:
        shown = values(form, *PERSON_FIELDS, "consent")
        return _interest_form(
            site, topics, status=400, form=shown, errors=errors, chosen=form.get("topic_ids", [])
        )
    await _request_confirmation(site, uow, data, now=now)
    return render(
        "check_inbox.html",
        root=site.root,
        title=CHECK_INBOX,
        email=data.email,
        session=None,
        when="",
        waitlist=False,
        ttl_days=site.link_ttl_days,
    )


# --- helpers -------------------------------------------------------------------------


async def _upcoming(site: Site, uow: Unit, now: datetime) -> list[Card]:
    found = await uow.sessions.starting_from(now, limit=LISTED)
    sessions = [s for s in found if is_open(s, now)]
    enrolled = await uow.places.enrolled(s.session_id for s in sessions)
    return [_card_of(site, s, enrolled.get(s.session_id, 0)) for s in sessions]


async def _card(site: Site, uow: Unit, session_id: str) -> Card:
    session = await uow.sessions.find(session_id) if len(session_id) <= 100 else None
    if session is None:
        raise UNKNOWN_SESSION
    enrolled = await uow.places.enrolled([session_id])
    return _card_of(site, session, enrolled.get(session_id, 0))


def _card_of(site: Site, session: SessionRecord, enrolled: int) -> Card:
    return Card(session, places_left(capacity=site.capacity, enrolled=enrolled))


async def _topics(site: Site, uow: Unit, now: datetime) -> list[tuple[str, str]]:
    """(topic id, label) of the upcoming sessions that have a topic, once each."""
    topics: dict[str, str] = {}
    for card in await _upcoming(site, uow, now):
        if card.session.topic_id:
            topics.setdefault(card.session.topic_id, card.session.title)
    return list(topics.items())


def _session_form(
    site: Site,
    card: Card,
    *,
    open_: bool,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: forms.Errors | None = None,
) -> Response:
    return render(
        "session.html",
        root=site.root,
        status=status,
        title=card.session.title,
        card=card,
        open=open_,
        values=form or {},
        errors=errors or {},
    )


def _interest_form(
    site: Site,
    topics: list[tuple[str, str]],
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: forms.Errors | None = None,
    chosen: list[str] | None = None,
) -> Response:
    return render(
        "interest.html",
        root=site.root,
        status=status,
        title="Être informé(e) des séances",
        topics=topics,
        chosen=chosen or [],
        values=form or {},
        errors=errors or {},
    )


def _confirmation(
    purpose: str,
    person: forms.Person | None,
    errors: forms.Errors,
    *,
    session_id: str | None,
    topic_ids: list[str],
) -> ConfirmationRequestedData | None:
    """The request's data; None (with an error) if the contract refuses it after all."""
    if person is None:
        return None
    try:
        return ConfirmationRequestedData.model_validate(
            {
                "purpose": purpose,
                "email": person.email.given,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "organisation": person.organisation,
                "session_id": session_id,
                "topic_ids": topic_ids,
            }
        )
    except ValidationError:
        errors[""] = "Le formulaire contient des caractères qui ne peuvent pas être acceptés."
        return None


async def _request_confirmation(
    site: Site, uow: Unit, data: ConfirmationRequestedData, *, now: datetime
) -> None:
    """Publish `confirmation_requested`, unless this address asked too often (429)."""
    person = person_key(data.email)
    hour = hour_of(now)
    if not await uow.confirmations.take(person, hour, limit=site.confirmations_per_hour):
        wait = int((hour + timedelta(hours=1) - now).total_seconds()) + 1
        raise PageError(
            429,
            "Trop de demandes",
            "Plusieurs courriels de confirmation ont déjà été envoyés à cette adresse dans "
            "l'heure. Vérifiez votre messagerie (et vos courriels indésirables), ou "
            "réessayez dans une heure.",
            headers={"Retry-After": str(max(wait, 1))},
        )
    event = ConfirmationRequested.create(
        data, source=SOURCE, subject=data.session_id or person, time=now
    )
    await publish(site, event)
