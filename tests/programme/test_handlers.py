"""Programme handlers, without Kafka: topics, contributions, ballots, the programme, the
members projection and erasure.

Each test runs on both units of work (the `backend` fixture): in memory, and MongoDB's
through the real inbox, which holds the fake to the real repositories.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.programme import domain, handlers
from services.programme.domain import ANONYMOUS_AUTHOR, MemberState
from services.programme.handlers import Deps
from services.programme.ranking import rank_topics
from services.programme.repository import MongoUnit, create_indexes
from shared.errors import PoisonMessage
from shared.identity import person_key
from tests.harness import data
from tests.harness.data import event
from tests.harness.units import mongo_backend
from tests.programme.builders import proposal

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
T0 = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
DEPS = Deps(clock=lambda: NOW)
CAMILLE = "camille@cc-exemple.fr"


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


async def propose(
    backend, title: str, *, email: str = CAMILLE, name: str = "Cam", at: datetime | None = None
) -> Any:
    request = event("topic_proposed", proposal(title, email=email, name=name), at=at)
    [accepted] = await backend.run(handlers.accept_topic, request, DEPS)
    return accepted


async def comment(backend, topic_id: str, email: str, text: str, *, at: datetime | None = None):
    request = event(
        "topic_commented", {"topic_id": topic_id, "email": email, "comment": text}, at=at
    )
    return await backend.run(handlers.record_comment, request, DEPS)


async def vote(backend, email: str, *ranking: str, at: datetime | None = None) -> list[Any]:
    request = event("topic_vote_cast", {"email": email, "ranking": list(ranking)}, at=at)
    return list(await backend.run(handlers.cast_vote, request, DEPS))


async def publish(backend, year: int = 2026, sessions: int = 5) -> Any:
    request = event("programme_publication_requested", {"year": year, "sessions": sessions})
    [published] = await backend.run(handlers.publish_programme, request, DEPS)
    return published


def person(email: str, first_name: str = "Camille", last_name: str = "Martin") -> dict[str, Any]:
    """member_registered data."""
    return data.member(email, first_name=first_name, last_name=last_name)


async def register(backend, member: dict[str, Any], *, at: datetime | None = None) -> None:
    await backend.run(handlers.record_member, event("member_registered", member, at=at), DEPS)


async def leave(backend, member: dict[str, Any], *, at: datetime | None = None) -> None:
    left = {k: member[k] for k in ("member_id", "email", "first_name")}
    request = event("member_left", {**left, "erase": False}, at=at)
    await backend.run(handlers.record_departure, request, DEPS)


async def erase(backend, member: dict[str, Any], *, at: datetime | None = None) -> None:
    request = event("member_erased", {"member_id": member["member_id"]}, at=at)
    await backend.run(handlers.erase_member, request, DEPS)


def contributions(published: Any, topic_id: str) -> list[tuple[str, str | None, str]]:
    [topic] = [t for t in published.data.topics if t.topic_id == topic_id]
    return [(c.author, c.author_id, c.comment) for c in topic.comments]


# --- topics --------------------------------------------------------------------------


async def test_a_title_differing_only_in_form_joins_the_existing_topic(backend):
    first = await propose(backend, "Gouvernance des démarches", at=hours(1))
    # Proposed earlier, delivered later: the topic's date becomes this one.
    joined = await propose(
        backend, "  GOUVERNANCE des demarches !", email="dominique@pnr.fr", name="Dom", at=T0
    )
    again = await propose(backend, "gouvernance des démarches", email=CAMILLE.upper())

    topic_id = first.data.topic_id
    assert (first.subject, first.data.duplicate_of) == (topic_id, None)
    assert joined.data.duplicate_of == joined.data.topic_id == again.data.topic_id == topic_id
    assert joined.data.title == "Gouvernance des démarches"  # the topic it joined
    assert joined.data.proposed_by.name == "Dom"  # this proposal's
    async with backend.unit() as uow:
        topic = await uow.topics.find(topic_id)
        assert len(await uow.topics.all()) == 1
    assert topic is not None
    assert [p.name for p in topic.proposers] == ["Cam", "Dom"]  # each person once
    assert topic.proposed_at == T0


async def test_a_title_without_a_letter_or_digit_is_poison(backend):
    with pytest.raises(PoisonMessage, match="no letter or digit"):
        await propose(backend, "?!… —")

    async with backend.unit() as uow:
        assert await uow.topics.all() == []


async def test_contributions_are_kept_in_order_up_to_the_most_a_topic_holds(backend, monkeypatch):
    monkeypatch.setattr(domain, "MAX_COMMENTS_PER_TOPIC", 2)
    topic_id = (await propose(backend, "Circuits courts")).data.topic_id

    assert await comment(backend, topic_id, "Lea@CC-Exemple.fr", "Premier retour") == []
    await comment(backend, topic_id, "lea@cc-exemple.fr", "Second retour")
    with pytest.raises(PoisonMessage, match="holds the most comments"):
        await comment(backend, topic_id, "lea@cc-exemple.fr", "De trop")
    with pytest.raises(PoisonMessage, match="unknown topic 'nope'"):
        await comment(backend, "nope", "lea@cc-exemple.fr", "Ailleurs")

    async with backend.unit() as uow:
        topic = await uow.topics.find(topic_id)
    assert topic is not None
    assert [(c.email_key, c.comment) for c in topic.comments] == [
        ("lea@cc-exemple.fr", "Premier retour"),
        ("lea@cc-exemple.fr", "Second retour"),
    ]


# --- ballots -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voter", "ranking", "reason"),
    [
        ("Curieux@Commune.fr", ["a"], "not_member"),
        (CAMILLE, ["a", "a"], "duplicate_topic"),
        (CAMILLE.upper(), ["a", "nope"], "unknown_topic"),
    ],
)
async def test_a_ballot_is_refused_whole_and_the_earlier_one_stays(backend, voter, ranking, reason):
    await register(backend, person(CAMILLE))
    a = (await propose(backend, "Achats publics")).data.topic_id
    await vote(backend, CAMILLE, a)

    [refused] = await vote(backend, voter, *(a if t == "a" else t for t in ranking))

    assert (refused.type, refused.data.reason, refused.data.email) == (
        "ballot_rejected",
        reason,
        voter,  # as given, for the reply
    )
    assert refused.data.detail
    assert refused.subject == person_key(voter)  # a pseudonym, never the address
    async with backend.unit() as uow:
        kept = await uow.ballots.find(CAMILLE)
    assert kept is not None
    assert kept.ranking == (a,)


async def test_the_latest_ballot_replaces_the_earlier_but_a_late_older_one_does_not(backend):
    await register(backend, person(CAMILLE))
    a = (await propose(backend, "Achats publics")).data.topic_id
    b = (await propose(backend, "Foncier agricole")).data.topic_id

    await vote(backend, "Camille@CC-Exemple.fr", a, b, at=hours(2))
    await vote(backend, CAMILLE, b, at=hours(1))  # cast earlier, delivered later
    async with backend.unit() as uow:
        [kept] = await uow.ballots.all()
    await vote(backend, CAMILLE, b, at=hours(3))
    async with backend.unit() as uow:
        [latest] = await uow.ballots.all()

    assert (kept.email_key, kept.ranking) == (CAMILLE, (a, b))
    assert latest.ranking == (b,)


async def test_a_member_who_left_has_no_ballot_and_votes_again_only_once_back(backend):
    camille = person(CAMILLE)
    await register(backend, camille, at=T0)
    a = (await propose(backend, "Achats publics")).data.topic_id
    await vote(backend, CAMILLE, a, at=hours(1))

    await leave(backend, camille, at=hours(2))
    async with backend.unit() as uow:
        assert await uow.ballots.all() == []
    await register(backend, camille, at=hours(1))  # an older registration, delivered late
    [refused] = await vote(backend, CAMILLE, a)
    await register(backend, camille, at=hours(3))  # back in the group
    accepted = await vote(backend, CAMILLE, a)

    assert refused.data.reason == "not_member"
    assert accepted == []


# --- the members projection ----------------------------------------------------------


async def test_a_departure_seen_before_its_registration_wins_and_the_name_is_completed(backend):
    dominique = person("dominique@pnr.fr", "Dominique", "Leroy")

    await leave(backend, dominique, at=hours(1))
    async with backend.unit() as uow:
        first_seen = await uow.members.find(dominique["member_id"])
    await register(backend, dominique, at=T0)

    async with backend.unit() as uow:
        member = await uow.members.find(dominique["member_id"])
        active = await uow.members.is_active("dominique@pnr.fr")
    assert first_seen is not None
    assert first_seen.name == "Dominique"
    assert member is not None
    assert (member.state, member.email_key, member.name) == (
        MemberState("left", hours(1)),
        "dominique@pnr.fr",
        "Dominique Leroy",
    )
    assert not active


async def test_an_erasure_that_overtakes_the_registration_is_final(backend):
    ysolde = person("ysolde@pnr.fr", "Ysolde", "Quernec")
    topic_id = (
        await propose(backend, "Jardins partagés", email="Ysolde@PNR.fr", name="Ysolde Q.")
    ).data.topic_id

    await erase(backend, ysolde, at=hours(1))
    await register(backend, ysolde, at=T0)  # the registration, delivered after its erasure

    async with backend.unit() as uow:
        member = await uow.members.find(ysolde["member_id"])
        topic = await uow.topics.find(topic_id)
        names = await uow.members.names()
        active = await uow.members.is_active("ysolde@pnr.fr")
    assert member is not None
    assert (member.state, member.email_key, member.name) == (
        MemberState("erased", hours(1)),
        None,
        None,
    )
    assert topic is not None
    assert topic.proposers == ()  # the topic stays, not its proposer
    assert names == {}
    assert not active


# --- the programme -------------------------------------------------------------------


async def test_ballots_rank_the_programme_and_each_contribution_names_its_author(backend):
    dominique = "dominique@pnr.fr"
    await register(backend, person(CAMILLE))
    await register(backend, person(dominique, "Dominique", "Leroy"))
    a, b, c, d = [
        (
            await propose(backend, title, email=who, name=name, at=T0 + timedelta(minutes=i))
        ).data.topic_id
        for i, (title, who, name) in enumerate(
            [
                ("Achats publics", CAMILLE, "Cam"),
                ("Foncier agricole", "xavier@pnr.fr", "Xavier"),
                ("Précarité alimentaire", CAMILLE, "Cam"),
                ("Eau", CAMILLE, "Cam"),
            ]
        )
    ]
    await comment(backend, b, "inconnu@commune.fr", "Qui suis-je ?", at=hours(3))
    await comment(backend, b, "Camille@CC-Exemple.fr", "Retour du Voironnais", at=hours(1))
    await comment(backend, b, "xavier@pnr.fr", "Et l'eau ?", at=hours(2))
    await vote(backend, CAMILLE, b, c)
    await vote(backend, dominique, b, a, c)

    published = await publish(backend, 2026, sessions=3)

    programme = published.data
    assert (published.type, published.subject) == ("programme_published", "programme-2026")
    assert (programme.year, programme.version, programme.ballots) == (2026, 1, 2)
    # b 2+3, a 2, c 1+1: a ties with c and was proposed first; d is left out.
    assert [(t.topic_id, t.rank, t.score) for t in programme.topics] == [
        (b, 1, 5),
        (a, 2, 2),
        (c, 3, 2),
    ]
    assert d not in {t.topic_id for t in programme.topics}
    assert contributions(published, b) == [
        ("Camille Martin", person_key(CAMILLE), "Retour du Voironnais"),  # a member's name
        ("Xavier", person_key("xavier@pnr.fr"), "Et l'eau ?"),  # the name of a proposal
        (ANONYMOUS_AUTHOR, person_key("inconnu@commune.fr"), "Qui suis-je ?"),
    ]
    async with backend.unit() as uow:
        stored = await uow.programmes.latest(2026)
    assert stored is not None
    assert stored.programme_id == programme.programme_id
    assert stored.ballots == tuple(sorted([(b, c), (b, a, c)]))  # anonymous, sorted
    assert rank_topics(stored.candidates, stored.ballots) == list(stored.ranking)


async def test_each_publication_of_a_year_is_its_next_version(backend):
    await propose(backend, "Achats publics")
    request = event("programme_publication_requested", {"year": 2026})

    [first] = await backend.run(handlers.publish_programme, request, DEPS)
    second = await publish(backend, 2026)
    other_year = await publish(backend, 2027)
    redelivered = await backend.run(handlers.publish_programme, request, DEPS)

    assert [p.data.version for p in (first, second, other_year)] == [1, 2, 1]
    assert len({p.data.programme_id for p in (first, second, other_year)}) == 3
    assert redelivered == [first]  # the same request: the same event
    async with backend.unit() as uow:
        latest = await uow.programmes.latest(2026)
        assert await uow.programmes.latest(2025) is None
    assert latest is not None
    assert latest.programme_id == second.data.programme_id


async def test_a_publication_before_any_topic_is_poison(backend):
    with pytest.raises(PoisonMessage, match="no topic has been proposed yet"):
        await publish(backend)


# --- erasure -------------------------------------------------------------------------


async def test_erasing_one_of_two_namesakes_removes_only_their_words_and_ballot(backend):
    gone = person("camille.martin@cc-exemple.fr")
    stays = person("camille.martin@pnr-vercors.fr")  # another Camille Martin
    await register(backend, gone)
    await register(backend, stays)
    canteens = (
        await propose(backend, "Restauration scolaire", email="dom@pnr.fr", name="Dom")
    ).data.topic_id
    land = (await propose(backend, "Foncier agricole", email=gone["email"])).data.topic_id
    await comment(backend, canteens, gone["email"], "Nos cantines bio", at=hours(1))
    await comment(backend, canteens, stays["email"], "Notre légumerie", at=hours(2))
    await vote(backend, gone["email"], land, canteens)
    await vote(backend, stays["email"], canteens)
    before = await publish(backend)

    await erase(backend, gone)
    after = await publish(backend)

    assert contributions(before, canteens) == [
        ("Camille Martin", person_key(gone["email"]), "Nos cantines bio"),
        ("Camille Martin", person_key(stays["email"]), "Notre légumerie"),
    ]
    assert contributions(after, canteens) == [
        ("Camille Martin", person_key(stays["email"]), "Notre légumerie"),
    ]
    assert (before.data.ballots, after.data.ballots) == (2, 1)
    async with backend.unit() as uow:
        [ballot] = await uow.ballots.all()
        topic = await uow.topics.find(land)
        erased = await uow.members.find(gone["member_id"])
        kept = await uow.members.find(stays["member_id"])
        names = await uow.members.names()
    assert ballot.email_key == stays["email"]
    assert topic is not None
    assert topic.proposers == ()  # the topic stays, not its proposer
    assert erased is not None
    assert erased.state.status == "erased"
    assert erased.email_key is None
    assert erased.name is None
    assert kept is not None
    assert kept.state.status == "active"
    assert names == {stays["email"]: "Camille Martin"}


async def test_an_erasure_empties_the_stored_programme_that_named_the_person(request):
    # The inbox records live in MongoDB's backend only (the memory one keeps outputs aside).
    async with mongo_backend(request, MongoUnit, create_indexes) as backend:
        gone = person("eloise@pnr.fr", "Éloïse", "Zanetti")
        other = person("bastien@cc-exemple.fr", "Bastien", "Roux")
        await register(backend, gone)
        await register(backend, other)
        topic_id = (await propose(backend, "Restauration scolaire")).data.topic_id
        await comment(backend, topic_id, gone["email"], "Nos cantines bio")
        await comment(backend, topic_id, other["email"], "Et les légumeries ?")
        request_event = event("programme_publication_requested", {"year": 2026})
        [published] = await backend.run(handlers.publish_programme, request_event, DEPS)
        async with backend.unit() as uow:
            [before] = (await uow.processed.find([request_event.id])).values()

        await erase(backend, gone)

        async with backend.unit() as uow:
            [after] = (await uow.processed.find([request_event.id])).values()
        redelivered = await backend.run(handlers.publish_programme, request_event, DEPS)

    assert [author for author, _, _ in contributions(published, topic_id)] == [
        "Éloïse Zanetti",
        "Bastien Roux",
    ]
    # Tagged inside the publication's transaction with every author it carries.
    assert set(before.people) == {person_key(gone["email"]), person_key(other["email"])}
    assert after.outputs == ()
    assert after.people == ()
    assert redelivered == []  # nothing of the erased person is published again


async def test_a_person_erased_by_pseudonym_loses_their_proposals_and_words_member_or_not(
    backend,
):
    guest = "guest@asso.org"
    topic = await propose(backend, "Foncier agricole", email=guest, name="Invité")
    await comment(backend, topic.data.topic_id, guest, "Mon retour", at=hours(1))
    await comment(backend, topic.data.topic_id, CAMILLE, "Le mien", at=hours(2))

    erased = event("person_erased", {"person": person_key("GUEST@asso.org")})
    assert await backend.run(handlers.erase_person, erased, DEPS) == []

    async with backend.unit() as uow:
        [kept] = await uow.topics.all()
    assert [p.email_key for p in kept.proposers] == []
    assert [c.email_key for c in kept.comments] == [CAMILLE]
