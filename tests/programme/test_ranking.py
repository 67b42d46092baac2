"""The ranking method (modified Borda count) and the programme it yields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.programme.domain import ANONYMOUS_AUTHOR, Comment, Topic
from services.programme.ranking import (
    Candidate,
    Ranked,
    borda_scores,
    programme_topics,
    rank_topics,
)
from shared.identity import person_key

T0 = datetime(2020, 1, 21, 9, 0, tzinfo=UTC)


def candidates_of(count: int, *, same_time: bool = False) -> list[Candidate]:
    return [
        Candidate(f"t{i}", T0 if same_time else T0 + timedelta(minutes=i)) for i in range(count)
    ]


@st.composite
def elections(draw, min_ballots=0):
    """Candidates (with proposal times that may tie) and partial ballots over them."""
    count = draw(st.integers(min_value=1, max_value=8))
    minutes = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    candidates = [Candidate(f"t{i}", T0 + timedelta(minutes=m)) for i, m in enumerate(minutes)]
    ids = [c.topic_id for c in candidates]
    ballot = st.permutations(ids).flatmap(
        lambda order: st.integers(1, len(order)).map(lambda k: tuple(order[:k]))
    )
    ballots = draw(st.lists(ballot, min_size=min_ballots, max_size=12))
    return candidates, ballots


def rank_of(ranking: list[Ranked], topic_id: str) -> int:
    return next(r.rank for r in ranking if r.topic_id == topic_id)


def test_a_ballot_ranking_k_topics_gives_k_points_down_to_one():
    assert borda_scores([("a", "b", "c"), ("b", "a")]) == {"a": 3 + 1, "b": 2 + 2, "c": 1}


def test_equal_scores_are_ordered_by_earliest_proposal():
    # Ids sort the other way round, so that only the proposal dates can decide.
    candidates = [Candidate("a-late", T0 + timedelta(days=1)), Candidate("b-early", T0)]
    ranking = rank_topics(candidates, [("a-late", "b-early"), ("b-early", "a-late")])
    assert [(r.topic_id, r.rank, r.score) for r in ranking] == [
        ("b-early", 1, 3),
        ("a-late", 2, 3),
    ]


def test_topics_without_votes_follow_the_voted_ones_in_order_of_proposal():
    ranking = rank_topics(candidates_of(4), [("t3",)])
    assert [r.topic_id for r in ranking] == ["t3", "t0", "t1", "t2"]
    assert [r.score for r in ranking] == [1, 0, 0, 0]


def test_without_ballots_the_ranking_is_the_order_of_proposal():
    assert [r.topic_id for r in rank_topics(candidates_of(3), [])] == ["t0", "t1", "t2"]


@settings(deadline=None)  # the CPU is shared: no per-example deadline
@given(elections())
def test_every_candidate_gets_exactly_one_rank(election):
    candidates, ballots = election
    ranking = rank_topics(candidates, ballots)
    assert sorted(r.topic_id for r in ranking) == sorted(c.topic_id for c in candidates)
    assert [r.rank for r in ranking] == list(range(1, len(candidates) + 1))
    assert [r.score for r in ranking] == sorted((r.score for r in ranking), reverse=True)


@settings(deadline=None)  # the CPU is shared: no per-example deadline
@given(elections(min_ballots=1), st.data())
def test_a_topic_ranked_first_on_every_ballot_wins(election, data):
    candidates, ballots = election
    winner = data.draw(st.sampled_from([c.topic_id for c in candidates]))
    ballots = [(winner, *(t for t in ballot if t != winner)) for ballot in ballots]
    assert rank_topics(candidates, ballots)[0].topic_id == winner


@settings(deadline=None)  # the CPU is shared: no per-example deadline
@given(elections(), st.randoms(use_true_random=False))
def test_the_order_in_which_ballots_arrive_does_not_matter(election, random):
    candidates, ballots = election
    shuffled = list(ballots)
    random.shuffle(shuffled)
    reversed_candidates = list(reversed(candidates))
    assert rank_topics(reversed_candidates, shuffled) == rank_topics(candidates, ballots)


@settings(deadline=None)  # the CPU is shared: no per-example deadline
@given(elections(min_ballots=1), st.data())
def test_moving_a_topic_up_on_one_ballot_never_lowers_its_rank(election, data):
    candidates, ballots = election
    index = data.draw(st.integers(0, len(ballots) - 1))
    ballot = list(ballots[index])
    assume(len(ballot) >= 2)
    position = data.draw(st.integers(1, len(ballot) - 1))
    moved = ballot[position]
    ballot[position - 1], ballot[position] = ballot[position], ballot[position - 1]
    before = rank_topics(candidates, ballots)
    after = rank_topics(candidates, [*ballots[:index], tuple(ballot), *ballots[index + 1 :]])
    assert rank_of(after, moved) <= rank_of(before, moved)


@settings(deadline=None)  # the CPU is shared: no per-example deadline
@given(elections(min_ballots=1), st.data())
def test_adding_a_topic_to_the_top_of_a_ballot_never_lowers_its_rank(election, data):
    candidates, ballots = election
    index = data.draw(st.integers(0, len(ballots) - 1))
    absent = [c.topic_id for c in candidates if c.topic_id not in ballots[index]]
    assume(absent)
    added = data.draw(st.sampled_from(absent))
    before = rank_topics(candidates, ballots)
    longer = (added, *ballots[index])
    after = rank_topics(candidates, [*ballots[:index], longer, *ballots[index + 1 :]])
    assert rank_of(after, added) <= rank_of(before, added)


# --- the programme ---------------------------------------------------------------------


def topic(topic_id: str, *comments: tuple[str, str]) -> Topic:
    return Topic(
        topic_id=topic_id,
        key=topic_id,
        title=f"Titre {topic_id}",
        question=f"Question {topic_id} ?",
        description=None,
        origin="member",
        proposed_at=T0,
        comments=tuple(
            Comment(event_id=f"{topic_id}-{i}", email_key=who, comment=text, at=T0)
            for i, (who, text) in enumerate(comments)
        ),
    )


def test_the_programme_lists_as_many_topics_as_sessions_with_comments_in_order():
    topics = {
        "t0": topic("t0", ("a@x.fr", "premier"), ("b@x.fr", "second")),
        "t1": topic("t1"),
        "t2": topic("t2", ("c@x.fr", "ailleurs")),
    }
    ranking = rank_topics(candidates_of(3), [("t1", "t0")])
    chosen = programme_topics(ranking, topics, size=2, names={"a@x.fr": "Camille Martin"})
    assert [(t.topic_id, t.rank, t.score) for t in chosen] == [("t1", 1, 2), ("t0", 2, 1)]
    assert [(c.author, c.comment) for c in chosen[1].comments] == [
        ("Camille Martin", "premier"),
        (ANONYMOUS_AUTHOR, "second"),
    ]
    # Every author carries their pseudonym, named or not: namesakes stay two people.
    assert [c.author_id for c in chosen[1].comments] == [person_key("a@x.fr"), person_key("b@x.fr")]
    assert chosen[0].title == "Titre t1"


def test_contributions_beyond_the_size_budget_are_left_out():
    topics = {"t0": topic("t0", ("a@x.fr", "é" * 10), ("a@x.fr", "b" * 10), ("a@x.fr", "c"))}
    ranking = rank_topics(candidates_of(1), [])
    chosen = programme_topics(ranking, topics, size=5, names={}, budget=25)
    assert [c.comment for c in chosen[0].comments] == ["é" * 10]


def test_contributions_appear_in_chronological_order_whatever_their_arrival():
    late = Comment(event_id="1", email_key="a@x.fr", comment="plus tard", at=T0 + timedelta(1))
    early = Comment(event_id="2", email_key="a@x.fr", comment="d'abord", at=T0)
    same_time = Comment(event_id="3", email_key="a@x.fr", comment="ensuite", at=T0)
    base = topic("t0")
    topics = {"t0": Topic(**{**base.__dict__, "comments": (late, early, same_time)})}
    chosen = programme_topics(rank_topics(candidates_of(1), []), topics, size=1, names={})
    assert [c.comment for c in chosen[0].comments] == ["d'abord", "ensuite", "plus tard"]
