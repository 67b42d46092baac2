"""The gateway's HTTP surface, in-process: pages, forms, one-click links, the feed.

The app runs on an in-memory unit of work with a recording publisher (tests/gateway/
support.py); the wiring to Kafka and MongoDB has its own test (test_gateway_service.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from icalendar import Calendar
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from shared.calendar import session_uid
from shared.identity import person_key
from shared.links import SALT
from tests.gateway.support import NOW, SECRET, link

EMAIL = "camille@cc-exemple.fr"
PERSON = {
    "first_name": "Ana",
    "last_name": "Dupont",
    "email": "ana.dupont@commune-exemple.fr",
    "organisation": "Commune d'Exemple",
}


def buttons(html: str) -> int:
    return html.count("<button")


def french_page(response: Any, status: int, title: str) -> None:
    assert response.status_code == status, response.text[-2000:]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    assert f"<h1>{title}</h1>" in response.text


# --- the sessions ---------------------------------------------------------------------


async def test_the_home_page_is_the_list_of_sessions(world):
    async with world.client() as client:
        response = await client.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/seances"


async def test_upcoming_sessions_are_listed_earliest_first_with_their_places(world):
    await world.schedule("late", days=30)
    await world.schedule("s1", days=16)
    await world.schedule("past", days=-1)
    await world.schedule("gone", days=20)
    await world.cancel("gone", days=20)
    await world.fill("s1", 1)

    async with world.client() as client:
        html = (await client.get("/seances")).text

    assert html.index("Séance s1") < html.index("Séance late")
    assert "Séance past" not in html
    assert "Séance gone" not in html
    assert "mardi 17 mars 2020, 10h-12h" in html  # Paris time (UTC+1 in March)
    assert "2 places restantes" in html
    assert 'href="/seances/s1"' in html
    assert 'href="/interet"' in html


async def test_a_full_session_is_offered_on_the_waitlist(world):
    await world.schedule("s1")
    await world.fill("s1", world.capacity)

    async with world.client() as client:
        listed = (await client.get("/seances")).text
        page = (await client.get("/seances/s1")).text

    assert "liste d&#39;attente" in listed
    assert "liste d&#39;attente" in page
    assert buttons(page) == 1


async def test_a_session_page_has_a_sign_up_form_with_a_label_for_every_field(world):
    await world.schedule("s1")

    async with world.client() as client:
        html = (await client.get("/seances/s1")).text

    assert 'action="/seances/s1/inscription"' in html
    for name in ("first_name", "last_name", "email", "organisation"):
        assert f'<label for="{name}">' in html
        assert f'id="{name}" name="{name}"' in html
    assert buttons(html) == 1


async def test_an_unknown_session_is_a_french_not_found_page(world):
    async with world.client() as client:
        page = await client.get("/seances/inconnue")
        posted = await client.post("/seances/inconnue/inscription", data=PERSON)
        long_id = await client.get("/seances/" + "x" * 500)

    french_page(page, 404, "Séance introuvable")
    french_page(posted, 404, "Séance introuvable")
    french_page(long_id, 404, "Séance introuvable")
    assert world.published.emissions == []


@pytest.mark.parametrize("state", ["past", "cancelled"])
async def test_a_past_or_cancelled_session_has_its_sign_ups_closed(world, state):
    if state == "past":
        await world.schedule("s1", days=-1)
    else:
        await world.cancel("s1")

    async with world.client() as client:
        page = await client.get("/seances/s1")
        posted = await client.post("/seances/s1/inscription", data=PERSON)

    assert page.status_code == 200
    assert "les inscriptions sont closes" in page.text
    assert "<form" not in page.text
    assert posted.status_code == 409
    assert "les inscriptions sont closes" in posted.text
    assert world.published.emissions == []


# --- the sign-up form ---------------------------------------------------------------------


async def test_a_sign_up_asks_for_a_confirmation_link_by_email(world):
    await world.schedule("s1")

    async with world.client() as client:
        response = await client.post("/seances/s1/inscription", data=PERSON)

    french_page(response, 200, "Vérifiez votre messagerie")
    assert "ana.dupont@commune-exemple.fr" in response.text
    assert "liste d'attente" not in response.text
    [sent] = world.published.of("confirmation_requested")
    assert sent["data"] == {
        "purpose": "signup",
        "email": "ana.dupont@commune-exemple.fr",
        "first_name": "Ana",
        "last_name": "Dupont",
        "organisation": "Commune d'Exemple",
        "session_id": "s1",
        "topic_ids": [],
    }
    assert (sent["subject"], sent["source"]) == ("s1", "urn:caprural:gateway")
    assert world.published.events  # valid against the contract


async def test_a_sign_up_for_a_full_session_is_accepted_for_the_waitlist(world):
    await world.schedule("s1")
    await world.fill("s1", world.capacity + 2)

    async with world.client() as client:
        response = await client.post("/seances/s1/inscription", data=PERSON)

    assert response.status_code == 200
    assert "vous serez sur liste d'attente" in response.text
    assert len(world.published.of("confirmation_requested")) == 1


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("first_name", "", "Indiquez votre prénom."),
        ("first_name", "A" * 101, "Votre prénom ne doit pas dépasser 100 caractères."),
        ("last_name", "<script>alert(1)</script>", "Votre nom ne peut pas contenir"),
        ("last_name", "Dupont\r\nBcc: victime@exemple.org", "doit tenir sur une ligne"),
        ("first_name", "Ana\nSubject: faux", "doit tenir sur une ligne"),
        ("first_name", "Zoë\u0000", "doit tenir sur une ligne"),
        ("organisation", "O" * 201, "ne doit pas dépasser 200 caractères"),
        ("email", "pas-une-adresse", "il manque le signe @"),
        ("email", "ana@commune.invalid", "réservé"),
        ("email", "ana@exemple.fr\r\nBcc: x@y.fr", "n&#39;est pas valide"),
        ("email", "a" * 300 + "@exemple.fr", "n&#39;est pas valide"),
    ],
)
async def test_an_invalid_sign_up_is_shown_again_with_french_errors(world, field, value, error):
    await world.schedule("s1")

    async with world.client() as client:
        response = await client.post("/seances/s1/inscription", data={**PERSON, field: value})

    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert error in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<script>" not in response.text
    assert buttons(response.text) == 1
    assert world.published.emissions == []


async def test_confirmations_are_limited_per_address_and_hour(world):
    await world.schedule("s1")
    ana = dict(PERSON)

    async with world.client() as client:
        allowed = [
            (await client.post("/seances/s1/inscription", data=ana)).status_code
            for _ in range(world.per_hour)
        ]
        shouted = {**ana, "email": "  ANA.DUPONT@Commune-Exemple.FR "}
        refused = await client.post("/seances/s1/inscription", data=shouted)
        interest = await client.post("/interet", data={**ana, "consent": "oui"})
        other = await client.post(
            "/seances/s1/inscription", data={**ana, "email": "bob@exemple.fr"}
        )
        world.clock.now += timedelta(hours=1)
        next_hour = await client.post("/seances/s1/inscription", data=ana)

    assert allowed == [200] * world.per_hour
    french_page(refused, 429, "Trop de demandes")
    assert int(refused.headers["retry-after"]) > 0
    assert interest.status_code == 429
    assert (other.status_code, next_hour.status_code) == (200, 200)
    assert len(world.published.of("confirmation_requested")) == world.per_hour + 2


# --- the interest form ------------------------------------------------------------------


async def test_the_interest_form_offers_the_topics_of_the_upcoming_sessions(world):
    await world.schedule("s1")
    await world.schedule("s2", days=40)
    await world.cancel("s3")

    async with world.client() as client:
        html = (await client.get("/interet")).text

    assert 'value="topic-s1"' in html
    assert 'value="topic-s2"' in html
    assert "topic-s3" not in html
    assert '<label for="consent">' in html
    assert buttons(html) == 1


async def test_a_declaration_of_interest_asks_for_a_confirmation_link(world):
    await world.schedule("s1")
    await world.schedule("s2", days=40)

    form = {**PERSON, "consent": "oui", "topic_ids": ["topic-s2"]}
    async with world.client() as client:
        response = await client.post("/interet", data=form)

    french_page(response, 200, "Vérifiez votre messagerie")
    [sent] = world.published.of("confirmation_requested")
    assert sent["data"]["purpose"] == "interest"
    assert sent["data"]["topic_ids"] == ["topic-s2"]
    assert "session_id" not in sent["data"]
    assert sent["subject"] == person_key(PERSON["email"])


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"topic_ids": ["topic-s1"]}, "Cochez la case"),
        ({"consent": "oui", "topic_ids": ["inventé"]}, "Choisissez parmi les thèmes"),
        ({"consent": "oui", "first_name": "<b>Ana</b>"}, "ne peut pas contenir"),
    ],
)
async def test_an_invalid_declaration_of_interest_publishes_nothing(world, form, error):
    await world.schedule("s1")

    async with world.client() as client:
        response = await client.post("/interet", data={**PERSON, **form})

    assert response.status_code == 400
    assert error in response.text
    assert world.published.emissions == []


# --- one-click links -------------------------------------------------------------------

EXPECTED: list[tuple[str, dict[str, Any], dict[str, str], str, dict[str, Any]]] = [
    (
        "confirm_signup",
        {},
        {},
        "session_signup_requested",
        {
            "session_id": "s1",
            "email": EMAIL,
            "first_name": "Camille",
            "last_name": "Martin",
            "organisation": "CC Exemple",
        },
    ),
    (
        "confirm_interest",
        {},
        {},
        "interest_declared",
        {
            "email": EMAIL,
            "first_name": "Camille",
            "last_name": "Martin",
            "organisation": "CC Exemple",
            "topic_ids": ["topic-s1"],
            "consent": True,
        },
    ),
    (
        "signup",
        {"organisation": None},
        {},
        "session_signup_requested",
        {"session_id": "s1", "email": EMAIL, "first_name": "Camille", "last_name": "Martin"},
    ),
    ("cancel", {}, {}, "session_signup_cancelled", {"session_id": "s1", "email": EMAIL}),
    (
        "unsubscribe",
        {"audience": "member", "session_id": None},
        {},
        "member_leave_requested",
        {"email": EMAIL, "erase": False},
    ),
    (
        "unsubscribe",
        {"audience": "interested", "session_id": None},
        {},
        "interest_withdrawn",
        {"email": EMAIL},
    ),
    (
        "unsubscribe",
        {"audience": "expert"},
        {},
        "expert_response_submitted",
        {"session_id": "s1", "email": EMAIL, "response": "declined"},
    ),
    (
        "question",
        {},
        {"question": "Comment associer les <agriculteurs> ?\r\nMerci & à bientôt"},
        "session_question_submitted",
        {
            "session_id": "s1",
            "email": EMAIL,
            "question": "Comment associer les <agriculteurs> ?\nMerci & à bientôt",
        },
    ),
    (
        "rate",
        {},
        {"rating": "4", "comment": "Très utile."},
        "feedback_submitted",
        {"session_id": "s1", "email": EMAIL, "rating": 4, "comment": "Très utile."},
    ),
    (
        "expert_accept",
        {},
        {"note": "Avec plaisir."},
        "expert_response_submitted",
        {"session_id": "s1", "email": EMAIL, "response": "accepted", "note": "Avec plaisir."},
    ),
    (
        "expert_decline",
        {},
        {"note": ""},
        "expert_response_submitted",
        {"session_id": "s1", "email": EMAIL, "response": "declined"},
    ),
]
IDS = [f"{case[0]}-{case[1].get('audience', '')}".rstrip("-") for case in EXPECTED]


@pytest.mark.parametrize(("action", "fields", "form", "event_type", "data"), EXPECTED, ids=IDS)
async def test_a_link_page_shows_one_button_and_does_nothing(
    world, action, fields, form, event_type, data
):
    await world.schedule("s1")
    token = world.token(action, **fields)

    async with world.client() as client:
        response = await client.get(f"/l/{token}")
        again = await client.get(f"/l/{token}")

    assert response.status_code == 200
    assert buttons(response.text) == 1
    assert f'<form method="post" action="/l/{token}">' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert again.text == response.text
    assert world.published.emissions == []


@pytest.mark.parametrize(("action", "fields", "form", "event_type", "data"), EXPECTED, ids=IDS)
async def test_following_a_link_publishes_its_request_once_with_the_link_id(
    world, action, fields, form, event_type, data
):
    await world.schedule("s1")
    followed = link(action, **fields)
    token = world.links.token(followed)

    async with world.client() as client:
        done = await client.post(f"/l/{token}", data=form)
        twice = await client.post(f"/l/{token}", data=form)
        visited = await client.get(f"/l/{token}")

    french_page(done, 200, "C&#39;est fait")
    french_page(twice, 200, "C&#39;est déjà fait")
    french_page(visited, 200, "C&#39;est déjà fait")
    assert buttons(visited.text) == 0
    [sent] = world.published.of(event_type)
    assert len(world.published.emissions) == 1
    assert sent["id"] == followed.event_id
    assert {k: v for k, v in sent["data"].items() if v is not None} == data
    assert sent["subject"] == (data.get("session_id") or person_key(EMAIL))
    assert world.published.events  # valid against the contract


async def test_a_signup_link_asks_for_the_name_it_lacks(world):
    await world.schedule("s1")
    token = world.token("signup", last_name=None)

    async with world.client() as client:
        page = await client.get(f"/l/{token}")
        refused = await client.post(f"/l/{token}", data={"last_name": "Martin\r\nBcc: x@y.fr"})
        done = await client.post(f"/l/{token}", data={"last_name": "Martin"})

    assert '<label for="last_name">' in page.text
    assert '<label for="first_name">' not in page.text
    assert refused.status_code == 400
    assert done.status_code == 200
    [sent] = world.published.of("session_signup_requested")
    assert (sent["data"]["first_name"], sent["data"]["last_name"]) == ("Camille", "Martin")


@pytest.mark.parametrize("action", ["signup", "confirm_signup"])
async def test_a_signup_link_for_a_cancelled_session_says_sign_ups_are_closed(world, action):
    await world.cancel("s1")
    token = world.token(action)

    async with world.client() as client:
        page = await client.get(f"/l/{token}")
        posted = await client.post(f"/l/{token}")

    assert (page.status_code, posted.status_code) == (200, 409)
    assert "les inscriptions sont closes" in page.text
    assert buttons(page.text) == 0
    assert world.published.emissions == []


@pytest.mark.parametrize(
    ("action", "form", "error"),
    [
        ("rate", {"rating": "0"}, "Choisissez une note de 1 à 5."),
        ("rate", {"rating": "6"}, "Choisissez une note de 1 à 5."),
        ("rate", {"rating": "quatre"}, "Choisissez une note de 1 à 5."),
        ("rate", {}, "Choisissez une note de 1 à 5."),
        ("rate", {"rating": "5", "comment": "x" * 5001}, "ne doit pas dépasser 5000"),
        ("question", {"question": "q" * 2001}, "ne doit pas dépasser 2000"),
        ("question", {"question": "   "}, "Écrivez votre question."),
        ("question", {"question": "nul\u0000"}, "caractères de contrôle"),
        ("expert_accept", {"note": "n" * 5001}, "ne doit pas dépasser 5000"),
    ],
)
async def test_invalid_link_form_values_publish_nothing(world, action, form, error):
    token = world.token(action)

    async with world.client() as client:
        response = await client.post(f"/l/{token}", data=form)
        still_open = await client.get(f"/l/{token}")

    assert response.status_code == 400
    assert error in response.text
    assert buttons(response.text) == 1
    assert buttons(still_open.text) == 1
    assert world.published.emissions == []


async def test_a_question_counts_a_line_break_as_one_character(world):
    token = world.token("question")
    question = "a" * 1000 + "\r\n" + "b" * 999

    async with world.client() as client:
        response = await client.post(f"/l/{token}", data={"question": question})

    assert response.status_code == 200
    [sent] = world.published.of("session_question_submitted")
    assert len(sent["data"]["question"]) == 2000


def _signed(payload: Any, *, secret: str = SECRET) -> str:
    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(NOW.timestamp())

    return str(URLSafeTimedSerializer(secret, salt=SALT, signer=Dated).dumps(payload))


def _for_someone_else(world: Any) -> str:
    """Another person's link (same action and session) under Camille's signature."""
    mine = world.links.token(link("cancel", nonce="n1"))
    theirs = world.links.token(link("cancel", nonce="n1", email="dominique@commune-exemple.fr"))
    payload = theirs.rsplit(".", 2)[0]
    stamp, signature = mine.rsplit(".", 2)[1:]
    assert payload != mine.rsplit(".", 2)[0]
    return f"{payload}.{stamp}.{signature}"


def _flipped(token: str) -> str:
    at = len(token) - 5
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


@pytest.mark.parametrize(
    ("make", "status", "title"),
    [
        (lambda w: _flipped(w.token("cancel")), 400, "Lien invalide"),
        (lambda w: w.token("cancel")[:40], 400, "Lien invalide"),
        (_for_someone_else, 400, "Lien invalide"),
        (
            lambda w: _signed({"a": "cancel", "e": EMAIL, "n": "x", "s": "s1"}, secret="b" * 40),
            400,
            "Lien invalide",
        ),
        (lambda w: "n'importe-quoi", 400, "Lien invalide"),
        (lambda w: _signed({"a": "delete_all", "e": EMAIL, "n": "x"}), 404, "Lien inconnu"),
        (lambda w: _signed({"a": "cancel", "e": EMAIL, "n": "x"}), 404, "Lien inconnu"),
        (
            lambda w: _signed({"a": "cancel", "e": "pas-une-adresse", "n": "x", "s": "s1"}),
            404,
            "Lien inconnu",
        ),
        (
            lambda w: _signed({"a": "unsubscribe", "e": EMAIL, "n": "x", "u": "all"}),
            404,
            "Lien inconnu",
        ),
        (lambda w: _signed(["cancel"]), 404, "Lien inconnu"),
        (lambda w: _signed({"a": "cancel", "e": EMAIL, "n": "x", "s": 42}), 404, "Lien inconnu"),
    ],
    ids=[
        "tampered",
        "truncated",
        "other-person",
        "other-secret",
        "garbage",
        "unknown-action",
        "no-session",
        "bad-address",
        "unknown-audience",
        "not-a-link",
        "ill-typed",
    ],
)
async def test_a_link_that_cannot_be_followed_gets_a_french_page_and_publishes_nothing(
    world, make, status, title
):
    token = make(world)

    async with world.client() as client:
        shown = await client.get(f"/l/{token}")
        posted = await client.post(f"/l/{token}")

    french_page(shown, status, title)
    french_page(posted, status, title)
    assert world.published.emissions == []


async def test_an_expired_link_gets_a_french_page_and_publishes_nothing(world):
    token = world.token("cancel")
    world.clock.now += timedelta(days=61)

    async with world.client() as client:
        shown = await client.get(f"/l/{token}")
        posted = await client.post(f"/l/{token}")

    french_page(shown, 410, "Lien expiré")
    french_page(posted, 410, "Lien expiré")
    assert "60 jours" in shown.text
    assert world.published.emissions == []


# --- RFC 8058 one-click unsubscribe ------------------------------------------------------


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_one_click_unsubscribe_acts_without_a_page(world, encoding):
    followed = link("unsubscribe", audience="interested", session_id=None)
    token = world.links.token(followed)
    if encoding == "urlencoded":
        body = b"List-Unsubscribe=One-Click"
        content_type = "application/x-www-form-urlencoded"
    else:
        body = (
            b'--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            b"One-Click\r\n--b0undary--\r\n"
        )
        content_type = "multipart/form-data; boundary=b0undary"

    async with world.client() as client:
        responses = [
            await client.post(f"/l/{token}", content=body, headers={"content-type": content_type})
            for _ in range(2)
        ]

    assert [r.status_code for r in responses] == [200, 200]
    assert all(r.headers["content-type"].startswith("text/plain") for r in responses)
    [sent] = world.published.of("interest_withdrawn")
    assert sent["id"] == followed.event_id


# --- the calendar feed -------------------------------------------------------------------


async def test_the_calendar_feed_has_every_session_of_the_year_and_no_person(world):
    await world.schedule("soon", days=5)
    await world.schedule("gone", days=12)
    await world.cancel("gone", days=12)
    await world.schedule("spring", days=-200)
    await world.schedule("ancient", days=-400)
    await world.fill("soon", 2)

    async with world.client() as client:
        response = await client.get("/calendar.ics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {session_uid(s) for s in ("soon", "gone", "spring")}
    assert str(events[session_uid("gone")]["STATUS"]) == "CANCELLED"
    assert str(events[session_uid("soon")]["STATUS"]) == "CONFIRMED"
    assert not calendar.walk("VEVENT")[0].get("ATTENDEE")
    text = response.content.decode()
    assert "ATTENDEE" not in text
    assert "ORGANIZER" not in text
    without_uids = "\n".join(line for line in text.splitlines() if not line.startswith("UID:"))
    assert "@" not in without_uids


# --- the HTTP surface ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/nulle-part", "/seances/s1/autre", "/l/", "/l/a/b", "/seances/", "/static/x.css"]
)
async def test_an_unknown_path_is_a_french_not_found_page(world, path):
    async with world.client() as client:
        response = await client.get(path)

    french_page(response, 404, "Page introuvable")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/seances"),
        ("POST", "/seances"),
        ("GET", "/seances/s1/inscription"),
        ("DELETE", "/l/un-lien"),
        ("POST", "/calendar.ics"),
        ("PATCH", "/interet"),
    ],
)
async def test_a_wrong_method_is_a_french_page(world, method, path):
    async with world.client() as client:
        response = await client.request(method, path)

    french_page(response, 405, "Action impossible")
    assert response.headers["allow"]


async def test_pages_carry_the_security_headers(world):
    await world.schedule("s1")
    token = world.token("cancel")

    async with world.client() as client:
        responses = {
            path: await client.get(path)
            for path in ("/seances", "/seances/s1", "/interet", f"/l/{token}", "/inconnue")
        }

    for path, response in responses.items():
        headers = response.headers
        assert headers["content-security-policy"] == (
            "default-src 'self'; style-src 'self' 'unsafe-inline'"
        ), path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
    assert responses[f"/l/{token}"].headers["cache-control"] == "no-store"


async def test_a_huge_form_is_refused_before_it_is_read_whole(world):
    await world.schedule("s1")

    async with world.client() as client:
        response = await client.post(
            "/seances/s1/inscription",
            content=b"first_name=" + b"A" * 200_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    french_page(response, 413, "Formulaire trop volumineux")
    assert world.published.emissions == []


async def test_a_query_string_is_ignored(world):
    async with world.client() as client:
        response = await client.get("/seances?page=%ZZ&x=<script>")

    assert response.status_code == 200
    assert "<script>" not in response.text


async def test_health_and_readiness_answer(world):
    async with world.client() as client:
        health = await client.get("/health")
        ready = await client.get("/ready")

    assert (health.status_code, health.json()["status"]) == (200, "ok")
    assert ready.status_code == 200
    assert ready.json() == {"service": "gateway", "kafka": True, "mongodb": True}


class BrokerDown:
    """A publisher whose broker does not answer."""

    async def publish(self, emissions: Any) -> None:
        raise OSError("broker unreachable")


async def test_a_request_that_cannot_be_published_is_a_503_and_the_link_stays_usable(world):
    token = world.token("cancel")
    working = world.app.state.site
    world.app.state.site = replace(working, publisher=BrokerDown())

    async with world.client() as client:
        failed = await client.post(f"/l/{token}")
        world.app.state.site = working
        retried = await client.post(f"/l/{token}")

    french_page(failed, 503, "Service momentanément indisponible")
    assert failed.headers["retry-after"]
    french_page(retried, 200, "C&#39;est fait")
    assert len(world.published.of("session_signup_cancelled")) == 1


async def test_an_unexpected_error_is_a_french_500_page_logged_without_the_token(
    world, monkeypatch, caplog
):
    token = world.token("cancel")

    async def broken(link_id: str) -> None:
        raise RuntimeError("storage broke")

    monkeypatch.setattr(world.uow.links, "find", broken)
    async with world.client() as client:
        response = await client.get(f"/l/{token}")

    french_page(response, 500, "Une erreur est survenue")
    assert response.headers["content-security-policy"]
    assert "RuntimeError" in caplog.text
    assert "/l/<token>" in caplog.text
    assert token not in caplog.text
    assert "storage broke" not in caplog.text
