"""Every kind of email, end to end: events in, emails out on the SMTP sink, outcomes announced."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.notifications.app import create_app
from shared.devstack.mailsink import Received
from tests.harness.mail import received_by, wait_for_mail
from tests.harness.services import running
from tests.notifications.builders import (
    calendar_of,
    enrolment,
    html_part,
    member,
    session,
    text_part,
    token,
)
from tests.notifications.wellformed import assert_well_formed

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
TITLE = "Gouvernance des démarches alimentaires"


def mine(mail, mark: str) -> list[Received]:
    """What this test's recipients received (the SMTP sink serves every test)."""
    return [r for r in mail.store.snapshot() if any(mark in rcpt for rcpt in r.recipients)]


async def test_every_kind_reaches_the_right_recipients_with_the_right_content(
    settings, publisher, tap, mail
):
    mark = token()
    alice, bruno = f"alice-{mark}@cc-exemple.fr", f"bruno-{mark}@pnr-exemple.fr"
    guest, queued = f"guest-{mark}@asso.fr", f"queued-{mark}@asso.fr"
    outsider, proposer = f"outsider-{mark}@commune.fr", f"proposer-{mark}@cc-exemple.fr"
    voter = f"voter-{mark}@commune.fr"
    coordinator = settings.coordinators[0]
    session_id = f"s-{mark}"
    bruno_member = member(bruno, first_name="Bruno")
    reader = await tap("notification_sent", "notification_failed")

    async with running(create_app, settings):
        await publisher.event("member_registered", member(alice, first_name="Alice"))
        await publisher.event("member_registered", bruno_member)
        await wait_for_mail(mail, alice, timeout=60)
        await wait_for_mail(mail, bruno)

        await publisher.event(
            "registration_rejected",
            {
                "email": outsider,
                "first_name": "Oscar",
                "reason": "not_eligible",
                "detail": "Le groupe est réservé aux chargés de mission et chefs de projet.",
            },
        )
        await publisher.event(
            "topic_accepted",
            {
                "topic_id": f"t-{mark}",
                "title": "Mutualisation entre PAT",
                "question": "Quelles actions mutualiser entre PAT, et comment ?",
                "proposed_by": {"email": proposer, "name": "Paule Proposante"},
                "origin": "member",
            },
        )
        await publisher.event(
            "programme_published",
            {
                "programme_id": f"prog-{mark}",
                "year": 2020,
                "version": 1,
                "method": "borda",
                "ballots": 2,
                "topics": [
                    {
                        "topic_id": f"t-{mark}",
                        "title": "Mutualisation entre PAT",
                        "question": "Quelles actions mutualiser ?",
                        "rank": 1,
                        "score": 4,
                    }
                ],
            },
        )
        await wait_for_mail(mail, alice, count=2)  # welcome, programme
        await publisher.event(
            "ballot_rejected",
            {"email": voter, "reason": "not_member", "detail": "Seuls les membres votent."},
        )
        await publisher.event("session_scheduled", session(session_id), subject=session_id)
        await wait_for_mail(mail, alice, count=3)  # welcome, programme, invitation

        await publisher.event("participant_enrolled", enrolment(session_id, guest))
        waiting = enrolment(session_id, queued, status="waitlisted", waitlist_position=1)
        await publisher.event("participant_enrolled", waiting)
        await wait_for_mail(mail, guest)
        await wait_for_mail(mail, queued)
        promotion = {**waiting, "status": "enrolled", "waitlist_position": None, "promoted": True}
        await publisher.event("participant_enrolled", promotion)
        await publisher.event(
            "session_signup_rejected",
            {
                "session_id": session_id,
                "email": outsider,
                "first_name": "Oscar",
                "reason": "already_enrolled",
                "detail": "Vous êtes déjà inscrit·e à cette séance.",
            },
        )
        await wait_for_mail(mail, queued, count=2)
        await publisher.event(
            "session_rescheduled",
            session(
                session_id,
                starts_at="2020-03-24T09:00:00+00:00",
                ends_at="2020-03-24T11:00:00+00:00",
                sequence=1,
                previous_starts_at="2020-03-17T09:00:00+00:00",
            ),
            subject=session_id,
        )
        await wait_for_mail(mail, guest, count=2)
        await publisher.event(
            "session_reminder_due",
            session(
                session_id,
                starts_at="2020-03-24T09:00:00+00:00",
                ends_at="2020-03-24T11:00:00+00:00",
                sequence=1,
                remind="J-1",
            ),
            subject=session_id,
        )
        await wait_for_mail(mail, guest, count=3)
        await publisher.event(
            "member_left",
            {
                "member_id": bruno_member["member_id"],
                "email": bruno,
                "first_name": "Bruno",
                "erase": False,
            },
        )
        await wait_for_mail(mail, bruno, count=6)  # + leave confirmation
        await publisher.event(
            "session_cancelled",
            session(
                session_id,
                starts_at="2020-03-24T09:00:00+00:00",
                ends_at="2020-03-24T11:00:00+00:00",
                sequence=2,
                reason="L'intervenante est souffrante.",
            ),
            subject=session_id,
        )
        await wait_for_mail(mail, guest, count=4)
        await wait_for_mail(mail, alice, count=6)
        await wait_for_mail(mail, queued, count=5)
        total = len(mine(mail, mark)) + 1  # + the coordinator's notice
        await reader.wait_for("notification_sent", count=total, timeout=30)

    def titles(address: str) -> list[str]:
        return [str(r.message["Subject"]) for r in received_by(mail, address)]

    assert titles(alice) == [
        "Bienvenue dans le groupe d'échange PAT/SAT",
        "Le programme 2020 du groupe d'échange PAT/SAT est publié",
        "Invitation : Gouvernance des démarches alimentaires – mardi 17 mars 2020, 10h-12h",
        "Nouvel horaire : Gouvernance des démarches alimentaires – mardi 24 mars 2020, 10h-12h",
        "Rappel : Gouvernance des démarches alimentaires demain – mardi 24 mars 2020, 10h-12h",
        "Séance annulée : Gouvernance des démarches alimentaires – mardi 24 mars 2020, 10h-12h",
    ]
    # Bruno left before the cancellation: the confirmation is the last thing he gets.
    assert titles(bruno)[-1] == "Vous avez quitté le groupe d'échange PAT/SAT"
    assert len(titles(bruno)) == 6
    assert titles(guest) == [
        f"Inscription confirmée : {TITLE} – mardi 17 mars 2020, 10h-12h",
        f"Nouvel horaire : {TITLE} – mardi 24 mars 2020, 10h-12h",
        f"Rappel : {TITLE} demain – mardi 24 mars 2020, 10h-12h",
        f"Séance annulée : {TITLE} – mardi 24 mars 2020, 10h-12h",
    ]
    assert [t.split(" :")[0] for t in titles(queued)] == [
        "Liste d'attente",
        "Une place s'est libérée",
        "Nouvel horaire",
        "Rappel",
        "Séance annulée",
    ]
    assert titles(outsider) == [
        "Votre demande d'inscription au groupe d'échange PAT/SAT",
        "Inscription impossible : Gouvernance des démarches alimentaires",
    ]
    assert titles(proposer) == ["Merci pour votre proposition : Mutualisation entre PAT"]
    assert titles(coordinator) == ["Nouveau sujet proposé : Mutualisation entre PAT"]
    assert titles(voter) == ["Votre vote n'a pas pu être pris en compte"]

    for received in mine(mail, mark):
        message = received.message
        assert message["From"] == "Cap Rural <pat@caprural.test>"
        assert message["Message-ID"].endswith("@caprural.test>")
        assert "Bonjour" in text_part(message)
        assert_well_formed(html_part(message))

    [invitation] = [
        r.message for r in received_by(mail, alice) if "Invitation" in r.message["Subject"]
    ]
    assert "Bonjour Alice," in text_part(invitation)
    assert "Quelles instances de gouvernance" in html_part(invitation)
    method, calendar = calendar_of(invitation)
    assert method == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{session_id}@caprural.org"
    assert event.decoded("DTSTART") == datetime(2020, 3, 17, 10, tzinfo=PARIS)
    assert event.decoded("DTEND") == datetime(2020, 3, 17, 12, tzinfo=PARIS)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("SEQUENCE") == 0
    assert str(event["ATTENDEE"]) == f"mailto:{alice}"
    assert str(event["ORGANIZER"]) == "mailto:pat@caprural.test"
    assert str(event["LOCATION"]) == f"https://visio.caprural.org/pat/{session_id}"
    assert str(event["URL"]) == f"https://visio.caprural.org/pat/{session_id}"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]

    by_kind = {r.message["X-Caprural-Kind"]: r.message for r in received_by(mail, guest)}
    _, confirmed = calendar_of(by_kind["signup_confirmation"])
    assert confirmed.walk("VEVENT")[0].decoded("SEQUENCE") == 0
    method, moved = calendar_of(by_kind["session_update"])
    assert method == "REQUEST"
    assert moved.walk("VEVENT")[0].decoded("SEQUENCE") == 1
    assert moved.walk("VEVENT")[0].decoded("DTSTART") == datetime(2020, 3, 24, 10, tzinfo=PARIS)
    method, cancelled = calendar_of(by_kind["session_cancellation"])
    assert (method, cancelled["METHOD"]) == ("CANCEL", "CANCEL")
    assert cancelled.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    assert cancelled.walk("VEVENT")[0].decoded("SEQUENCE") == 2
    assert str(cancelled.walk("VEVENT")[0]["UID"]) == f"{session_id}@caprural.org"
    assert "L'intervenante est souffrante." in text_part(by_kind["session_cancellation"])
    assert "mardi 17 mars 2020" in text_part(by_kind["session_update"])

    promoted = [r.message for r in received_by(mail, queued)][1]
    assert calendar_of(promoted)[0] == "REQUEST"
    waitlisted = received_by(mail, queued)[0].message
    assert "position 1" in text_part(waitlisted)
    assert not any(p.get_content_type() == "text/calendar" for p in waitlisted.walk())

    sent = reader.events("notification_sent")
    assert {e["data"]["recipient"] for e in sent} >= {alice, bruno, guest, queued, coordinator}
    assert len({e["id"] for e in sent}) == len(sent)
    assert not reader.events("notification_failed")
