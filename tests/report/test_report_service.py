"""A year of the group on the embedded stack, then `caprural report` over real HTTP.

The four services run in this event loop on one fake clock (the year is 2025), each
served by uvicorn on a free port; the scenario goes through their topics: members join
in January, March and April, one leaves in June; three topics are voted on and the
programme places them as three sessions; sign-ups fill one session's two places and
its waitlist; questions, an expert invited who accepts and one who stays silent;
attendance after each session, ratings. Then the command fetches the services' report
views and writes the files, whose tables must be the scenario's numbers, with nobody's
name or address in them.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import uvicorn
from faststream.asgi import AsgiFastStream

from services.notifications.app import create_app as notifications
from services.programme.app import create_app as programme
from services.registration.app import create_app as registration
from services.scheduling.app import create_app as scheduling
from shared.cli.main import build_parser
from shared.devstack.processes import free_port
from shared.identity import person_key
from tests.harness.data import registration as registration_request
from tests.harness.kafka import Tap, eventually, wait_until
from tests.harness.mail import received_by
from tests.harness.services import running
from tests.report.reading import parse, read_csv
from tests.scheduling.builders import FakeClock, paris

pytestmark = pytest.mark.integration

YEAR = 2025
SERVICES: dict[str, Callable[..., AsgiFastStream]] = {
    "registration": registration,
    "programme": programme,
    "scheduling": scheduling,
    # The sender's claims are leased on the service's clock, which jumps months here: a
    # lease longer than the year keeps a claim from expiring under the sender's feet.
    "notifications": partial(notifications, lease=timedelta(days=400)),
}
TAPPED = (
    "member_registered",
    "member_left",
    "topic_accepted",
    "session_scheduled",
    "participant_enrolled",
    "session_question_accepted",
    "expert_invited",
    "expert_accepted",
    "attendance_accepted",
    "feedback_rejected",
    "notification_sent",
    "notification_failed",
)


@asynccontextmanager
async def served(app: AsgiFastStream, port: int) -> AsyncIterator[str]:
    """A running service's HTTP face on a real port (its lifespan is run apart)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started, message="the service listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Scenario:
    """This test's people (addresses and names of its own) and what it publishes."""

    def __init__(self, publisher: Any, clock: FakeClock) -> None:
        self.publisher = publisher
        self.clock = clock
        mark = uuid.uuid4().hex[:8]
        self.mark = mark
        self.people = {
            "A": (f"aurelie-{mark}@cc-voironnais.fr", "Aurélie", "Fontaine"),
            "B": (f"bastien-{mark}@cc-voironnais.fr", "Bastien", "Girard"),
            "C": (f"coralie-{mark}@grenoblealpes.fr", "Coralie", "Henry"),
            "D": (f"damien-{mark}@vercors.fr", "Damien", "Joly"),
            # The SMTP sink refuses addresses starting with "refuse": their emails fail.
            "X": (f"refused-xavier-{mark}@asso-exemple.org", "Xavier", "Kléber"),
            "E": (f"estelle-{mark}@inrae.fr", "Estelle", "Lemoine"),
            "F": (f"florian-{mark}@cerema.fr", "Florian", "Moreau"),
        }

    def email(self, who: str) -> str:
        return self.people[who][0]

    async def send(self, event_type: str, data: dict[str, Any], subject: str | None = None) -> None:
        await self.publisher.event(event_type, data, subject=subject)

    async def join(self, who: str, territory: str, approach: str) -> None:
        email, first, last = self.people[who]
        data = registration_request(
            email,
            first_name=first,
            last_name=last,
            organisation=f"Organisation de {first} {last}",
            territory=territory,
            approach=approach,
        )
        await self.send("registration_requested", data, subject=email)

    async def sign_up(self, who: str, session_id: str) -> None:
        email, first, last = self.people[who]
        data = {"session_id": session_id, "email": email, "first_name": first, "last_name": last}
        await self.send("session_signup_requested", data, subject=session_id)

    async def ask(self, who: str, session_id: str) -> None:
        question = f"Comment faites-vous ? Je suis {' '.join(self.people[who][1:])}."
        data = {"session_id": session_id, "email": self.email(who), "question": question}
        await self.send("session_question_submitted", data, subject=session_id)

    async def attended(self, session_id: str, *who: str) -> None:
        attendees = [self.email(w) for w in who] + [f"inconnu-{self.mark}@ailleurs.fr"]
        data = {"session_id": session_id, "attendees": attendees}
        await self.send("attendance_recorded", data, subject=session_id)

    async def rate(self, who: str, session_id: str, rating: int) -> None:
        data = {"session_id": session_id, "email": self.email(who), "rating": rating}
        await self.send("feedback_submitted", data, subject=session_id)

    async def invite_expert(self, who: str, session_id: str) -> None:
        email, first, last = self.people[who]
        data = {
            "session_id": session_id,
            "email": email,
            "first_name": first,
            "last_name": last,
            "organisation": f"Laboratoire de {last}",
            "expertise": "Foncier agricole",
            "message": f"Bonjour {first}, votre regard nous aiderait.",
        }
        await self.send("expert_invitation_requested", data, subject=session_id)

    def secrets(self) -> set[str]:
        """Every name, address, organisation and pseudonym of the scenario."""
        found: set[str] = set()
        for email, first, last in self.people.values():
            found |= {email, email.split("@")[0], first, last, person_key(email)}
            found |= {f"Organisation de {first} {last}", f"Laboratoire de {last}"}
        return found


async def test_the_report_of_a_year_gives_the_scenario_numbers_and_nobody(
    settings, publisher, tap, mongo, mail, tmp_path
):
    settings = settings.model_copy(update={"session_capacity": 2, "reminder_poll_seconds": 3600.0})
    clock = FakeClock(paris(YEAR, 1, 6, 9))
    reader: Tap = await tap(*TAPPED)
    people = Scenario(publisher, clock)
    db = {name: mongo[settings.database_name(name)] for name in SERVICES}

    async def seen(event_type: str, count: int) -> list[dict[str, Any]]:
        return await reader.wait_for(event_type, count=count, timeout=60)

    async def stored(service: str, collection: str, query: dict[str, Any], count: int) -> None:
        async def enough() -> bool:
            return int(await db[service][collection].count_documents(query)) >= count

        await eventually(enough, timeout=60, message=f"{count} {collection} in {service}")

    async with AsyncExitStack() as stack:
        urls: dict[str, str] = {}
        for name, create_app in SERVICES.items():
            app = await stack.enter_async_context(
                running(partial(create_app, clock=clock), settings)
            )
            urls[name] = await stack.enter_async_context(served(app, free_port()))

        # January: two members, three topics, their votes, the programme: three sessions.
        await people.join("A", "Pays Voironnais", "PAT")
        await people.join("B", "Pays Voironnais", "sat")
        titles = [f"{t} {people.mark}" for t in ("Gouvernance", "Foncier", "Cantines")]
        for title in titles:  # proposed in this order: the earliest wins a tie
            proposal = {
                "title": title,
                "question": f"Que faire ({title}) ?",
                "proposed_by": {"email": people.email("A"), "name": "Aurélie Fontaine"},
                "origin": "member",
            }
            await people.send("topic_proposed", proposal)
        accepted = {
            t["data"]["title"]: t["data"]["topic_id"] for t in await seen("topic_accepted", 3)
        }
        first, second, third = (accepted[title] for title in titles)
        await stored("programme", "members", {"status": "active"}, 2)
        await people.send(
            "topic_vote_cast", {"email": people.email("A"), "ranking": [second, first]}
        )
        await people.send(
            "topic_vote_cast", {"email": people.email("B"), "ranking": [second, third, first]}
        )
        await stored("programme", "ballots", {}, 2)
        clock.set(paris(YEAR, 1, 16, 9))
        await people.send("programme_publication_requested", {"year": YEAR, "sessions": 3})
        scheduled = await seen("session_scheduled", 3)
        s1, s2, s3 = (
            s["data"]["session_id"] for s in sorted(scheduled, key=lambda s: s["data"]["starts_at"])
        )
        await stored("registration", "sessions", {}, 3)

        # February: sign-ups (two places, then the waitlist), experts, questions.
        clock.set(paris(YEAR, 2, 10, 9))
        for who, session_id in [("A", s1), ("B", s1), ("X", s1), ("A", s2), ("B", s3)]:
            await people.sign_up(who, session_id)
        await people.invite_expert("E", s1)
        await people.invite_expert("F", s1)
        await seen("participant_enrolled", 5)
        await seen("expert_invited", 2)
        await people.ask("A", s1)
        await people.ask("X", s1)
        response = {"session_id": s1, "email": people.email("E"), "response": "accepted"}
        await people.send("expert_response_submitted", response, subject=s1)
        await seen("session_question_accepted", 2)
        await seen("expert_accepted", 1)

        # March: a member joins; after the first session, its attendance and ratings.
        clock.set(paris(YEAR, 3, 5, 9))
        await people.join("C", "Grenoble-Alpes Métropole", "PAT")
        await seen("member_registered", 3)
        clock.set(paris(YEAR, 3, 20, 9))
        await people.sign_up("C", s2)
        await people.ask("C", s2)
        await people.attended(s1, "A", "X")
        await seen("attendance_accepted", 1)
        await people.rate("A", s1, 4)
        await people.rate("X", s1, 5)
        await people.rate("B", s1, 2)  # absent: refused
        await seen("participant_enrolled", 6)

        # April: a fourth member; May: the second session; June: one leaves; July: the third.
        clock.set(paris(YEAR, 4, 10, 9))
        await people.join("D", "Vercors", "PAT")
        await seen("member_registered", 4)
        clock.set(paris(YEAR, 5, 25, 9))
        await people.attended(s2, "A", "C")
        await seen("attendance_accepted", 2)
        await people.rate("C", s2, 3)
        clock.set(paris(YEAR, 6, 20, 9))
        await people.send("member_leave_requested", {"email": people.email("D"), "erase": False})
        await seen("member_left", 1)
        clock.set(paris(YEAR, 7, 20, 9))
        await people.attended(s3, "B")
        await seen("attendance_accepted", 3)

        # Everything counted where it is kept, every email sent or given up.
        await seen("feedback_rejected", 1)
        await seen("session_question_accepted", 3)
        await stored("registration", "ratings", {}, 3)
        await stored("programme", "members", {"status": "left"}, 1)
        await stored("scheduling", "questions", {}, 3)

        def announced() -> Counter[tuple[str, str]]:
            outcomes = Counter[tuple[str, str]]()
            for status in ("sent", "failed"):
                for event in reader.events(f"notification_{status}"):
                    outcomes[(event["data"]["kind"], status)] += 1
            return outcomes

        async def settled() -> Counter[tuple[str, str]] | None:
            await wait_until(lambda: announced()[("thanks", "sent")] >= 4, timeout=60)
            pending = await db["notifications"]["deliveries"].count_documents({"status": "pending"})
            _, figures = await asyncio.to_thread(view, urls["notifications"], f"?year={YEAR}")
            counted = Counter[tuple[str, str]]()
            for row in figures["emails"]:
                counted.update(
                    {(row["kind"], "sent"): row["sent"], (row["kind"], "failed"): row["failed"]}
                )
            counted = +counted  # the zeros out
            return counted if not pending and counted == announced() else None

        emails = await eventually(settled, timeout=60, message="every email settled")

        bad_year = await asyncio.to_thread(view, urls["registration"], "?year=deux-mille")
        command = ["report", "--year", str(YEAR), "--out", str(tmp_path / "rapport")]
        command += [f"--url={name}={url}" for name, url in urls.items()]
        args = build_parser().parse_args(command)
        code = await asyncio.to_thread(args.func, args)
        answers = {
            name: (await asyncio.to_thread(view, url, f"?year={YEAR}"))[1]
            for name, url in urls.items()
        }

    assert code == 0
    assert bad_year == (400, {"error": "year: expected a year from 2000 to 2100"})
    folder = tmp_path / "rapport"
    csv = {path.name.removesuffix(f"-{YEAR}.csv"): read_csv(path) for path in folder.glob("*.csv")}

    assert [row for row in csv["membres-par-mois"][1:] if row[1:] != ["0", "0"]] == [
        ["janvier", "2", "0"],
        ["mars", "1", "0"],
        ["avril", "1", "0"],
        ["juin", "0", "1"],
    ]
    assert csv["territoires"][1:] == [
        ["Pays Voironnais", "2"],
        ["Grenoble-Alpes Métropole", "1"],
        ["Vercors", "1"],
    ]
    assert csv["demarches"][1:] == [["PAT", "3"], ["SAT", "1"]]
    title_of = {topic_id: title for title, topic_id in accepted.items()}
    # date, title, status, enrolled, waitlisted, attended, mean, ratings, questions,
    # experts confirmed, invited, compte rendu
    assert [[row[0], row[1], *row[3:]] for row in csv["seances"][1:]] == [
        ["2025-03-18", title_of[second], "tenue", "2", "1", "2", "4,5", "2", "2", "1", "2", "non"],
        ["2025-05-20", title_of[first], "tenue", "2", "0", "2", "3,0", "1", "1", "0", "0", "non"],
        ["2025-07-15", title_of[third], "tenue", "1", "0", "1", "", "0", "0", "0", "0", "non"],
    ]
    assert csv["programme"][1:] == [
        ["1", title_of[second], "5"],
        ["2", title_of[first], "2"],
        ["3", title_of[third], "2"],
    ]
    assert csv["participation-vote"][1:] == [["1", "2", "3", "66,7"]]
    shown = {row[0]: (int(row[1]), int(row[2])) for row in csv["emails"][1:]}
    assert shown["Bienvenue dans le groupe"] == (4, 0)
    assert shown["Remerciement après la séance"] == (4, 1)  # Xavier's address refuses mail
    assert shown["Inscription en liste d'attente"] == (0, 1)
    assert shown["Invitation d'un expert"] == (2, 0)
    assert shown["Confirmation à l'expert"] == (1, 0)
    assert shown["Départ du groupe confirmé"] == (1, 0)
    assert sum(sent for sent, _ in shown.values()) == sum(
        count for (_, status), count in emails.items() if status == "sent"
    )
    assert sum(sent for sent, _ in shown.values()) == len(
        [m for m in mail.store.snapshot() if any(people.mark in r for r in m.recipients)]
    ) + len(received_by(mail, settings.coordinator_emails))

    page = parse((folder / f"rapport-activite-{YEAR}.html").read_text(encoding="utf-8"))
    assert len(page.all("svg")) == 8
    assert "4 membres au cours de l'année, 3 à sa fin" in page.words
    everything = [(folder / f"rapport-activite-{YEAR}.html").read_text(encoding="utf-8")]
    everything += [path.read_text(encoding="utf-8-sig") for path in folder.glob("*.csv")]
    everything += [json.dumps(answer, ensure_ascii=False) for answer in answers.values()]
    for text in everything:
        for secret in people.secrets():
            assert secret.lower() not in text.lower(), secret
    for text in everything[:-4]:  # the session ids stay between the services and the report
        assert not {s1, s2, s3} & set(text.split(";")), "a session id"


def view(url: str, query: str) -> tuple[int, dict[str, Any]]:
    """A report view's status and JSON (a 400's too), as the command reads it."""
    try:
        with urllib.request.urlopen(f"{url}/report{query}", timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
