"""Concurrency: two instances of each service in one consumer group give the outcome of one.

The same workload runs, at the same time, against one instance of each service and
against two instances of each (eight processes sharing each topic's partitions). It is
built to race: the same address registered twice under different keys, one title
proposed in four spellings, sign-ups for a session of five places keyed by person (so
that both instances take places at once), withdrawals that promote the waitlist, every
member voting, then a programme publication. Both runs must end in the same state,
compared without the run-specific marks (addresses, ids).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from tests.harness.data import registration
from tests.harness.infra import Infra, MailServer, make_settings
from tests.harness.kafka import Publisher, Tap, eventually
from tests.reliability.mailbox import Tally, copies
from tests.reliability.people import token, topic
from tests.reliability.probes import (
    Stopwatch,
    database,
    deliveries_settled,
    wait_for_mailboxes,
)
from tests.reliability.stack import Stack

pytestmark = pytest.mark.reliability

PEOPLE = 24
TWICE = 8  # of whom register twice (different spelling and key)
INELIGIBLE = 4
GUESTS = 12
CAPACITY = 5
WITHDRAWALS = 3
TITLES = (
    ("Gouvernance alimentaire", "gouvernance ALIMENTAIRE !", "Gouvernance alimentaire"),
    ("Restauration collective", "Restauration  collective"),
    ("Foncier agricole",),
    ("Précarité alimentaire", "precarite alimentaire"),
)
RANKINGS = ((0, 1, 2, 3), (1, 2, 0), (2, 0), (3, 1, 0, 2))


def _slot(year: int, month: int, day: int, hour: int) -> datetime:
    """A Thursday afternoon slot, far from the programme's Tuesday mornings."""
    start = datetime(year, month, day, hour, tzinfo=UTC)
    return start + timedelta(days=(3 - start.weekday()) % 7)


class Run:
    """One run of the workload against a stack; `outcome()` is what must not differ."""

    def __init__(self, settings: Settings, *, mongo: Any, mail: MailServer) -> None:
        self.settings = settings
        self.mongo = mongo
        self.mail = mail
        self.mark = token()
        self.year = datetime.now(UTC).year + 1
        self.people = [f"member{n}-{self.mark}@cc-exemple.fr" for n in range(PEOPLE)]
        self.guests = [f"guest{n}-{self.mark}@commune-exemple.fr" for n in range(GUESTS)]
        self.ineligible = [f"comm{n}-{self.mark}@cc-exemple.fr" for n in range(INELIGIBLE)]
        self.publisher = Publisher(settings)
        self.reader = Tap(
            settings,
            [
                "member_registered",
                "registration_rejected",
                "topic_accepted",
                "session_scheduled",
                "participant_enrolled",
                "participant_withdrawn",
                "ballot_rejected",
                "programme_published",
                "session_rejected",
            ],
        )

    async def play(self) -> None:
        """Publish the workload phase by phase (each phase waits for the previous one)."""
        await self.publisher.start()
        await self.reader.start()
        try:
            await self._join_and_propose()
            await self._sign_up_and_vote()
            await self._withdraw_and_publish()
        except AssertionError as error:
            counts = await delivery_counts(self.mongo, self.settings)
            raise AssertionError(f"{error}; deliveries: {counts}") from error
        finally:
            await self.reader.stop()
            await self.publisher.stop()

    async def _join_and_propose(self) -> None:
        event = self.publisher.event
        for number, person in enumerate(self.people):
            await event("registration_requested", registration(person), subject=person)
            if number < TWICE:
                twin = f"  {person.upper()} "
                await event("registration_requested", registration(twin), subject=f"x{number}")
        for person in self.ineligible:
            data = registration(person, role="Chargée de communication")
            await event("registration_requested", data, subject=person)
        proposer = f"coordination-{self.mark}@cc-exemple.fr"
        for spellings in TITLES:
            for title in spellings:
                await event("topic_proposed", topic(title, email=proposer), subject=title)
        for number, month in enumerate((6, 10)):
            starts = _slot(self.year, month, 1, 13)
            await event(
                "session_schedule_requested",
                {
                    "title": f"Séance extra {number}",
                    "question": "Quelles coopérations entre territoires ?",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=2)).isoformat(),
                },
                subject=f"extra-{number}",
            )
        await self.reader.wait_for("member_registered", count=PEOPLE, timeout=150)
        await self.reader.wait_for("registration_rejected", count=TWICE + INELIGIBLE, timeout=150)
        titles = sum(len(spellings) for spellings in TITLES)
        await self.reader.wait_for("topic_accepted", count=titles, timeout=150)
        await self.reader.wait_for("session_scheduled", count=2, timeout=150)
        programme_members = database(self.mongo, self.settings, "programme")["members"]
        await eventually(
            lambda: _at_least(programme_members, PEOPLE),
            timeout=150,
            message="every member known to the programme service",
        )
        # A sign-up read before its session_scheduled (another topic) would be refused.
        sessions = database(self.mongo, self.settings, "registration")["sessions"]
        await eventually(
            lambda: _at_least(sessions, 2),
            timeout=150,
            message="the sessions known to the registration service",
        )

    async def _sign_up_and_vote(self) -> None:
        event = self.publisher.event
        session_id = self.extra_session()
        for number, guest in enumerate(self.guests):
            data = {
                "session_id": session_id,
                "email": guest,
                "first_name": f"Invité{number}",
                "last_name": "Durand",
            }
            await event("session_signup_requested", data, subject=guest)
        topic_ids = self.topic_ids()
        for number, person in enumerate(self.people):
            ranking = [topic_ids[i] for i in RANKINGS[number % len(RANKINGS)]]
            await event("topic_vote_cast", {"email": person, "ranking": ranking}, subject=person)
        await self.reader.wait_for("participant_enrolled", count=GUESTS, timeout=150)
        # Each guest has their answer before some withdraw (a pending one would be dropped).
        await wait_for_mailboxes(self.mail, self.guests, per_recipient=1, timeout=150)
        ballots = database(self.mongo, self.settings, "programme")["ballots"]
        await eventually(
            lambda: _at_least(ballots, PEOPLE), timeout=150, message="every ballot stored"
        )

    async def _withdraw_and_publish(self) -> None:
        event = self.publisher.event
        session_id = self.extra_session()
        enrolled = [
            e["data"]["email"]
            for e in self.reader.events("participant_enrolled")
            if e["data"]["status"] == "enrolled"
        ]
        for guest in sorted(enrolled)[:WITHDRAWALS]:
            data = {"session_id": session_id, "email": guest}
            await event("session_signup_cancelled", data, subject=guest)
        publication = {"year": self.year, "sessions": 3}
        await event("programme_publication_requested", publication, subject=f"p{self.year}")
        await self.reader.wait_for("participant_withdrawn", count=WITHDRAWALS, timeout=150)
        await self.reader.wait_for(
            "participant_enrolled", lambda e: e["data"]["promoted"], count=WITHDRAWALS, timeout=150
        )
        await self.reader.wait_for("programme_published", timeout=150)
        await self.reader.wait_for("session_scheduled", count=5, timeout=150)
        # Members: a welcome, five invitations, the programme. Guests: their sign-up.
        await wait_for_mailboxes(self.mail, self.people, per_recipient=7, timeout=150)
        await deliveries_settled(self.mongo, self.settings, sent=PEOPLE * 7 + GUESTS, timeout=150)

    def extra_session(self) -> str:
        """The first extra session (the one guests sign up for)."""
        sessions = sorted(
            self.reader.events("session_scheduled"), key=lambda e: e["data"]["starts_at"]
        )
        extra = [e for e in sessions if e["data"]["title"].startswith("Séance extra")]
        return str(extra[0]["data"]["session_id"])

    def topic_ids(self) -> list[str]:
        """Topic ids in TITLES order (a duplicate's acceptance names the topic it joined)."""
        by_key = {
            _key(e["data"]["title"]): e["data"]["topic_id"]
            for e in self.reader.events("topic_accepted")
        }
        return [by_key[_key(spellings[0])] for spellings in TITLES]

    async def outcome(self) -> dict[str, Any]:
        """The end state, without what is specific to the run."""
        registration_db = database(self.mongo, self.settings, "registration")
        participants = [doc async for doc in registration_db["participants"].find({})]
        published = self.reader.events("programme_published")[-1]["data"]
        scheduled = {
            e["data"]["session_id"]: e["data"] for e in self.reader.events("session_scheduled")
        }
        everyone = self.people + self.guests + self.ineligible
        tally = Tally.of(copies(self.mail.store.snapshot(), recipients=everyone))
        return {
            "members": await registration_db["members"].count_documents({}),
            "rejections": Counter(
                e["data"]["reason"] for e in self.reader.events("registration_rejected")
            ),
            "places": Counter(p["status"] for p in participants),
            "waitlist": sorted(
                e["data"]["waitlist_position"]
                for e in self.reader.events("participant_enrolled")
                if e["data"]["status"] == "waitlisted"
            ),
            "topics": await database(self.mongo, self.settings, "programme")[
                "topics"
            ].count_documents({}),
            "programme": [(_key(t["title"]), t["rank"], t["score"]) for t in published["topics"]],
            "programme_versions": len(self.reader.events("programme_published")),
            "sessions": sorted(
                (d["starts_at"], d["ends_at"], d["sequence"]) for d in scheduled.values()
            ),
            "ballots_rejected": len(self.reader.events("ballot_rejected")),
            "sessions_rejected": len(self.reader.events("session_rejected")),
            "emails": Counter(
                (re.sub(r"\d+-[0-9a-f]{8}@", "@", recipient), kind, count)
                for (recipient, kind), count in tally.emails.items()
            ),
            "duplicates": tally.duplicates(),
        }


async def delivery_counts(mongo: Any, settings: Settings) -> dict[str, int]:
    """Deliveries per kind and status (to explain a wait that timed out)."""
    deliveries = database(mongo, settings, "notifications")["deliveries"]
    pipeline = [{"$group": {"_id": {"k": "$kind", "s": "$status"}, "n": {"$sum": 1}}}]
    return {
        f"{doc['_id']['k']}/{doc['_id']['s']}": doc["n"]
        async for doc in await deliveries.aggregate(pipeline)
    }


def _key(title: str) -> str:
    return re.sub(r"[^a-z]", "", title.lower().replace("é", "e"))


async def _at_least(collection: Any, count: int) -> bool:
    return bool(await collection.count_documents({}) >= count)


async def test_two_instances_of_each_service_end_as_one_instance_does(
    infra: Infra, mail, mongo, figures, tmp_path: Path
):
    clock = Stopwatch()
    runs: dict[int, Run] = {}
    stacks: list[Stack] = []
    try:
        for instances in (1, 2):
            settings = make_settings(infra, session_capacity=CAPACITY)
            logs = tmp_path / f"x{instances}"
            logs.mkdir()
            stacks.append(await Stack(settings, logs).start(count=instances))
            runs[instances] = Run(settings, mongo=mongo, mail=mail)
        await asyncio.gather(*(run.play() for run in runs.values()))
        outcomes = {instances: await run.outcome() for instances, run in runs.items()}
        assert all(stack.all_alive() for stack in stacks)
    finally:
        for stack in stacks:
            await stack.stop()

    single, double = outcomes[1], outcomes[2]
    figures.record(
        "concurrency",
        events_sent=PEOPLE + TWICE + INELIGIBLE + 9 + 2 + GUESTS + PEOPLE + WITHDRAWALS + 1,
        instances="1 of each vs 2 of each (one consumer group per service and topic)",
        members=double["members"],
        places=dict(double["places"]),
        emails=sum(n * times for (_, _, n), times in double["emails"].items()),
        differences=sorted(k for k in single if single[k] != double[k]),
        duplicates=double["duplicates"],
        seconds=clock.seconds(),
    )
    assert single == double
    assert single["members"] == PEOPLE
    assert single["rejections"] == {"already_member": TWICE, "not_eligible": INELIGIBLE}
    assert single["places"] == {"enrolled": CAPACITY, "waitlisted": GUESTS - CAPACITY - WITHDRAWALS}
    assert single["topics"] == len(TITLES)
    assert single["duplicates"] == 0
