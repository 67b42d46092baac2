"""Members over time: late invitations, leaving, erasure in either order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications.app import create_app
from shared.french import slot
from shared.identity import person_key
from tests.harness.kafka import eventually
from tests.harness.mail import received_by, wait_for_mail
from tests.harness.services import running
from tests.notifications.builders import member, session, text_part, token

pytestmark = pytest.mark.integration

NEXT_YEAR = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
    days=365
)
FUTURE = {
    "starts_at": NEXT_YEAR.isoformat(),
    "ends_at": (NEXT_YEAR + timedelta(hours=2)).isoformat(),
}
PROGRAMME = {
    "programme_id": "prog-2030",
    "year": 2030,
    "version": 2,
    "method": "borda",
    "ballots": 1,
    "topics": [],
}


async def personal_traces(db, needles: list[str]) -> list[str]:
    """Every document of the service's database that still mentions one of `needles`."""
    found = []
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            text = repr(doc).lower()
            found += [f"{name}: {doc['_id']}" for needle in needles if needle.lower() in text]
    return found


async def test_members_who_leave_or_are_erased_in_either_order_get_one_confirmation_and_no_trace(
    settings, publisher, tap, mail, mongo
):
    mark = token()
    xavier, yann, zoe = (f"{name}-{mark}@cc-exemple.fr" for name in ("xavier", "yann", "zoe"))
    first_names = {xavier: f"Xavier{mark}", yann: f"Yann{mark}", zoe: f"Zoe{mark}"}
    members = {a: member(a, first_name=first_names[a]) for a in (xavier, yann, zoe)}
    session_id = f"s-{mark}"
    reader = await tap("notification_sent")
    db = mongo[settings.database_name("notifications")]
    async with running(create_app, settings):
        await publisher.event("session_scheduled", session(session_id, **FUTURE))
        await eventually(
            lambda: db["sessions"].find_one({"_id": session_id}),
            timeout=60,
            message="the session in the projection",
        )
        for data in members.values():
            await publisher.event("member_registered", data)
        for address in members:
            await wait_for_mail(mail, address, count=2)  # welcome + the late invitation

        def leaving(address: str) -> dict[str, Any]:
            data = members[address]
            return {
                "member_id": data["member_id"],
                "email": address,
                "first_name": data["first_name"],
                "erase": True,
            }

        left = await publisher.event("member_left", leaving(xavier), subject="leavers")
        await publisher.event("member_erased", {"member_id": members[xavier]["member_id"]})
        await publisher.event("member_erased", {"member_id": members[yann]["member_id"]})
        await publisher.event("member_left", leaving(yann))
        await wait_for_mail(mail, xavier, count=3)
        await wait_for_mail(mail, yann, count=3)
        await publisher.event("programme_published", PROGRAMME)
        await wait_for_mail(mail, zoe, count=3)
        await reader.wait_for("notification_sent", count=9)
        await eventually(
            lambda: _no_traces(db, [xavier, yann, first_names[xavier], first_names[yann]]),
            timeout=30,
            message="no trace of the erased members",
        )
        await publisher.again(left)  # after the erasure: still no second confirmation
        await publisher.event("member_left", {**leaving(zoe), "erase": False}, subject="leavers")
        await wait_for_mail(mail, zoe, count=4)

    for address in (xavier, yann):
        subjects = [str(r.message["Subject"]) for r in received_by(mail, address)]
        assert subjects[0] == "Bienvenue dans le groupe d'échange PAT/SAT"
        assert subjects[1].startswith("Invitation : Gouvernance des démarches alimentaires")
        assert slot(NEXT_YEAR, NEXT_YEAR + timedelta(hours=2)) in subjects[1]
        assert subjects[2:] == ["Vous avez quitté le groupe d'échange PAT/SAT"]
        [confirmation] = [r.message for r in received_by(mail, address)][2:]
        assert "vos données personnelles sont effacées" in text_part(confirmation)
    assert [str(r.message["Subject"]) for r in received_by(mail, zoe)][2:] == [
        "Le programme 2030 du groupe d'échange PAT/SAT est mis à jour",
        "Vous avez quitté le groupe d'échange PAT/SAT",
    ]
    assert await personal_traces(db, [zoe]) != []  # Zoe stays: the check can see traces


async def _no_traces(db, needles: list[str]) -> bool:
    return await personal_traces(db, needles) == []


def programme(year: int, version: int, *, author: str, address: str) -> dict[str, Any]:
    """programme_published data: one topic, with a contribution by `author` (whose
    pseudonym is the programme's way of naming them)."""
    return {
        "programme_id": f"prog-{year}-{version}-{token()}",
        "year": year,
        "version": version,
        "method": "borda",
        "ballots": 3,
        "topics": [
            {
                "topic_id": "t-foncier",
                "title": f"Foncier agricole (version {version})",
                "question": "Comment préserver le foncier ?",
                "rank": 1,
                "score": 6,
                "comments": [
                    {
                        "author": author,
                        "author_id": person_key(address),
                        "comment": "Retour du Pays Voironnais",
                    }
                ],
            }
        ],
    }


async def test_a_late_member_receives_the_programme_once_and_an_erasure_forgets_their_words(
    settings, publisher, mail, mongo
):
    mark = token()
    dana, camille = (f"{name}-{mark}@cc-exemple.fr" for name in ("dana", "camille"))
    camille_data = member(camille, first_name=f"Camille{mark}")
    author = f"Camille{mark} Martin"
    db = mongo[settings.database_name("notifications")]
    year = NEXT_YEAR.year
    async with running(create_app, settings):
        await publisher.event("member_registered", member(dana, first_name="Dana"))
        await wait_for_mail(mail, dana)  # the welcome
        current = await publisher.event(
            "programme_published", programme(year, 2, author=author, address=camille)
        )
        await eventually(
            lambda: db["programmes"].find_one({"_id": year, "version": 2}),
            timeout=60,
            message="version 2 kept",
        )
        # Version 1, read late (another partition): superseded, sent to nobody.
        stale = await publisher.event(
            "programme_published", programme(year, 1, author=author, address=camille)
        )
        await eventually(
            lambda: db["processed_events"].find_one({"_id": stale["id"]}),
            timeout=60,
            message="the stale version processed",
        )
        # Camille's registration is read after the programme: it comes with her welcome.
        await publisher.event("member_registered", camille_data)
        await wait_for_mail(mail, camille, count=2)
        await publisher.again(current)  # the fan-out again: no second announcement
        await eventually(
            lambda: db["processed_events"].count_documents({"_id": current["id"]}),
            timeout=60,
            message="the redelivery processed",
        )
        assert await personal_traces(db, [author]) != []  # the check can see her words
        await publisher.event("member_erased", {"member_id": camille_data["member_id"]})
        await eventually(
            lambda: _no_traces(db, [camille, author]),
            timeout=30,
            message="no trace of Camille, her words included",
        )
        await wait_for_mail(mail, dana, count=2)  # welcome, version 2

    assert [str(r.message["Subject"]) for r in received_by(mail, camille)] == [
        "Bienvenue dans le groupe d'échange PAT/SAT",
        f"Le programme {year} du groupe d'échange PAT/SAT est mis à jour",
    ]
    [announcement] = [r.message for r in received_by(mail, camille)][1:]
    assert "Foncier agricole (version 2)" in text_part(announcement)
    assert len(received_by(mail, dana)) == 2
    kept = await db["programmes"].find_one({"_id": year})
    assert kept["version"] == 2
    assert kept["data"]["topics"][0]["comments"] == []
