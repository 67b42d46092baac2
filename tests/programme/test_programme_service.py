"""Ballots and the published programme on the embedded stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.programme.app import create_app
from services.programme.domain import ANONYMOUS_AUTHOR, topic_id_for
from services.programme.ranking import Candidate, Ranked, rank_topics
from shared.identity import person_key
from shared.unit_of_work import PROCESSED_EVENTS as COLLECTION
from tests.harness.kafka import eventually
from tests.harness.services import running
from tests.programme.builders import member, proposal, unique_email

pytestmark = pytest.mark.integration


async def test_members_ballots_rank_the_programme_and_a_new_publication_replaces_it(
    settings, publisher, tap, mongo
):
    reader = await tap("topic_accepted", "ballot_rejected", "programme_published")
    db = mongo[settings.database_name("programme")]
    voters = [unique_email(name) for name in ("camille", "dominique", "sacha")]
    outsider = unique_email("curieux")

    async def processed(*events):
        ids = [e["id"] for e in events]
        return await db[COLLECTION].count_documents({"_id": {"$in": ids}}) == len(ids)

    async def vote(email, *ranking):
        return await publisher.event(
            "topic_vote_cast", {"email": email, "ranking": list(ranking)}, subject=email
        )

    async with running(create_app, settings):
        registered = [
            await publisher.event("member_registered", member(email), subject=email)
            for email in voters
        ]
        titles = ("Achats publics", "Foncier agricole", "Précarité alimentaire", "Eau")
        # A second apart: the service compares proposal times as MongoDB stores them (to
        # the millisecond), and the tie between c and d below goes to the earlier.
        start = datetime.now(UTC)
        proposed = [
            await publisher.event("topic_proposed", proposal(t), at=start + timedelta(seconds=i))
            for i, t in enumerate(titles)
        ]
        a, b, c, d = (topic_id_for(p["id"]) for p in proposed)
        # A contribution names a topic its author learnt from topic_accepted.
        await reader.wait_for("topic_accepted", count=4)
        comment = {"topic_id": b, "comment": "Retour d'expérience du Pays Voironnais"}
        commented = [
            await publisher.event("topic_commented", {**comment, "email": voters[0]}, subject=b),
            await publisher.event(
                "topic_commented", {**comment, "email": outsider, "comment": "Et l'eau ?"}
            ),
        ]
        await eventually(lambda: processed(*registered, *proposed, *commented), timeout=60)

        ballots = [
            await vote(voters[0], a, b),
            await vote(voters[0], b, c),  # replaces the earlier ballot
            await vote(voters[1], b, a, c),
            await vote(voters[1], a, a),  # refused whole: the earlier one stays
            await vote(voters[2], c, b),
            await vote(voters[2], "nope"),
            await vote(outsider, a),
        ]
        await eventually(lambda: processed(*ballots), message="every ballot")
        first = await publisher.event(
            "programme_publication_requested", {"year": 2020, "sessions": 3}
        )
        [v1] = await reader.wait_for("programme_published")
        departure = {**registered[0]["data"], "erase": False}
        departure = {k: departure[k] for k in ("member_id", "email", "first_name", "erase")}
        left = await publisher.event("member_left", departure, subject=voters[0])
        await eventually(lambda: processed(left), message="the departure")
        ballots.append(await vote(voters[2], a, d))
        ballots.append(await vote(voters[0], c))  # no longer a member
        await eventually(lambda: processed(*ballots), message="the later ballots")
        await publisher.event("programme_publication_requested", {"year": 2020, "sessions": 3})
        await reader.wait_for("programme_published", count=2)
        await publisher.again(first)
        await reader.wait_for("programme_published", count=3)
        await reader.wait_for("ballot_rejected", count=4)

    refused = [(e["data"]["email"], e["data"]["reason"]) for e in reader.events("ballot_rejected")]
    assert sorted(refused) == sorted(
        [
            (voters[1], "duplicate_topic"),
            (voters[2], "unknown_topic"),
            (outsider, "not_member"),
            (voters[0], "not_member"),
        ]
    )
    # Scores (k points for the first of k ranked, down to 1): b 2+3+1, c 1+1+2, a 2.
    data = v1["data"]
    assert (data["year"], data["version"], data["ballots"], data["method"]) == (2020, 1, 3, "borda")
    assert [(t["topic_id"], t["rank"], t["score"]) for t in data["topics"]] == [
        (b, 1, 6),
        (c, 2, 4),
        (a, 3, 2),
    ]
    assert data["topics"][0]["title"] == "Foncier agricole"
    assert data["topics"][0]["comments"] == [
        {
            "author": "Camille Martin",
            "author_id": person_key(voters[0]),
            "comment": comment["comment"],
        },
        {"author": ANONYMOUS_AUTHOR, "author_id": person_key(outsider), "comment": "Et l'eau ?"},
    ]
    published = reader.events("programme_published")
    # The redelivered first request re-published version 1, byte for byte.
    assert sum(e == v1 for e in published) == 2
    [v2] = [e for e in published if e["data"]["version"] == 2]
    assert v2["data"]["programme_id"] != data["programme_id"]
    # Camille left (her ballot no longer counts); Sacha now ranks a, d. Ties: c before d.
    assert v2["data"]["ballots"] == 2
    assert [(t["topic_id"], t["score"]) for t in v2["data"]["topics"]] == [(a, 4), (b, 3), (c, 1)]

    stored = await db["programmes"].find({"year": 2020}).sort("version").to_list()
    assert [(p["version"], p["current"]) for p in stored] == [(1, False), (2, True)]
    for programme in stored:
        candidates = [Candidate(c["topic_id"], c["proposed_at"]) for c in programme["candidates"]]
        recomputed = rank_topics(candidates, programme["ballots"])
        assert recomputed == [Ranked(**r) for r in programme["ranking"]]
