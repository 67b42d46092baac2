"""The programme's pure rules: titles, people, members, ballots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.programme.domain import (
    Ballot,
    MemberState,
    Proposer,
    Topic,
    author_names,
    check_ballot,
    member_transition,
    new_topic,
    supersedes,
    title_key,
    topic_id_for,
)
from shared.identity import display_name, email_key, person_key

T0 = datetime(2020, 1, 21, 9, 0, tzinfo=UTC)


def proposer(email: str = "Camille@CC-Exemple.fr", name: str = "Camille Martin") -> Proposer:
    return Proposer(
        email=email,
        email_key=email_key(email),
        name=name,
        origin="member",
        event_id="e1",
        proposed_at=T0,
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Gouvernance des démarches", "gouvernance des DEMARCHES"),
        ("Gouvernance des démarches", "  Gouvernance   des démarches !"),
        ("La mutualisation en question", "La mutualisation, en question ?"),
        ("Place et rôles de la collectivité", "Place-et-rôles de la collectivite"),
        ("Cœur de démarche", "coeur de demarche"),
        ("L'animation des controverses", "L animation des controverses"),
    ],
)
def test_titles_differing_by_case_accents_punctuation_or_spacing_share_a_key(first, second):
    assert title_key(first) == title_key(second)


def test_titles_with_different_words_have_different_keys():
    assert title_key("Gouvernance des démarches") != title_key("Gouvernance des données")


def test_a_title_without_letters_or_digits_has_an_empty_key():
    assert title_key("?!… —") == ""


@settings(deadline=None)  # the CPU is shared: no per-example deadline
@given(
    words=st.lists(st.text(alphabet="abcdéèêàçôœABCDÉÈ0123456789", min_size=1), max_size=6),
    separator=st.sampled_from([" ", "  ", " - ", ", ", "'", " : ", "\u00a0", "…"]),
)
def test_spacing_and_punctuation_between_words_never_change_the_key(words, separator):
    assert title_key(separator.join(words)) == title_key("".join(words))


# The identity rules the programme relies on (shared.identity).


def test_addresses_are_compared_trimmed_and_case_insensitively():
    assert email_key("  Camille.Martin@CC-Exemple.FR ") == "camille.martin@cc-exemple.fr"


def test_the_pseudonym_of_an_address_key_is_the_pseudonym_of_the_address():
    # What lets the programme name people by the address keys it stores (erasure).
    pseudonym = person_key("  Camille@CC-Exemple.fr")
    assert pseudonym == person_key(email_key("  Camille@CC-Exemple.fr"))
    assert pseudonym.startswith("p-")
    assert "camille" not in pseudonym


def test_display_names_are_bounded():
    assert len(display_name("A" * 100, "B" * 100)) <= 100
    assert display_name("Camille", "Martin") == "Camille Martin"


def test_a_topic_id_is_derived_from_the_proposal_event_id():
    topic = new_topic(
        event_id="e1", title="Gouvernance", question="Quoi ?", description=None, proposer=proposer()
    )
    assert topic.topic_id == topic_id_for("e1") != topic_id_for("e2")
    assert topic.key == "gouvernance"
    assert topic.proposed_by("camille@cc-exemple.fr")
    assert not topic.proposed_by("other@cc-exemple.fr")


def test_a_members_name_wins_over_a_name_given_in_a_proposal():
    topic = Topic(
        topic_id="t1",
        key="k",
        title="T",
        question="Q",
        description=None,
        origin="member",
        proposed_at=T0,
        proposers=(proposer(name="Cam"), proposer("x@y.fr", "Xavier")),
    )
    names = author_names([topic], {"camille@cc-exemple.fr": "Camille Martin"})
    assert names == {"camille@cc-exemple.fr": "Camille Martin", "x@y.fr": "Xavier"}


# --- members -------------------------------------------------------------------------


def test_a_new_member_is_active():
    assert member_transition(None, status="active", at=T0) == MemberState("active", T0)


def test_a_departure_after_the_registration_makes_the_member_leave():
    state = MemberState("active", T0)
    later = T0 + timedelta(days=1)
    assert member_transition(state, status="left", at=later) == MemberState("left", later)


def test_a_registration_delivered_after_a_later_departure_changes_nothing():
    state = MemberState("left", T0)
    assert member_transition(state, status="active", at=T0 - timedelta(days=1)) is None


def test_a_registration_after_a_departure_brings_the_member_back():
    state = MemberState("left", T0)
    later = T0 + timedelta(days=30)
    assert member_transition(state, status="active", at=later) == MemberState("active", later)


def test_erasure_is_final():
    erased = MemberState("erased", T0)
    assert member_transition(erased, status="active", at=T0 + timedelta(days=1)) is None
    state = MemberState("active", T0 + timedelta(days=1))
    assert member_transition(state, status="erased", at=T0) == MemberState("erased", T0)


# --- ballots -------------------------------------------------------------------------

KNOWN = {"t1", "t2", "t3"}


def test_a_members_ballot_of_known_distinct_topics_counts():
    assert check_ballot(["t2", "t1"], is_member=True, known_topics=KNOWN) is None


def test_a_ballot_from_a_non_member_is_rejected_as_not_member():
    rejection = check_ballot(["t1"], is_member=False, known_topics=KNOWN)
    assert rejection is not None
    assert rejection.reason == "not_member"
    assert "membres" in rejection.detail


def test_a_ballot_naming_a_topic_twice_is_rejected_whole():
    rejection = check_ballot(["t1", "t2", "t1"], is_member=True, known_topics=KNOWN)
    assert rejection is not None
    assert rejection.reason == "duplicate_topic"
    assert "t1" in rejection.detail


def test_a_ballot_naming_an_unknown_topic_is_rejected_whole():
    rejection = check_ballot(["t1", "nope"], is_member=True, known_topics=KNOWN)
    assert rejection is not None
    assert rejection.reason == "unknown_topic"
    assert "nope" in rejection.detail


def test_rejection_details_fit_the_contract_with_the_longest_ids():
    long_id = "x" * 100
    for ranking in ([long_id, long_id], [long_id]):
        rejection = check_ballot(ranking, is_member=True, known_topics=KNOWN)
        assert rejection is not None
        assert len(rejection.detail) <= 200


def test_the_latest_ballot_replaces_the_earlier_one_but_not_the_reverse():
    stored = Ballot("camille@cc-exemple.fr", ("t1",), T0)
    assert supersedes(T0 + timedelta(seconds=1), stored)
    assert supersedes(T0, stored)
    assert not supersedes(T0 - timedelta(seconds=1), stored)
    assert supersedes(T0, None)
