"""The nine interview topics the seed publishes (without a broker)."""

from __future__ import annotations

from services.programme.domain import title_key, topic_id_for
from services.programme.seed import INTERVIEW_TOPICS, interview_event_id, interview_events
from shared.contract.programme import TopicProposed
from shared.settings import Settings


def test_the_seed_holds_the_nine_topics_of_the_brief_with_distinct_titles():
    assert len(INTERVIEW_TOPICS) == 9
    assert len({title_key(t.title) for t in INTERVIEW_TOPICS}) == 9
    assert INTERVIEW_TOPICS[0].title == "Gouvernance des démarches alimentaires"
    assert INTERVIEW_TOPICS[-1].title == "Animation des controverses"


def test_seed_events_are_valid_interview_proposals_with_stable_ids_and_bytes():
    settings = Settings(mail_from="Cap Rural <pat@caprural.test>")
    first, again = interview_events(settings), interview_events(settings)
    assert [e.to_json() for e in first] == [e.to_json() for e in again]
    for event, topic in zip(first, INTERVIEW_TOPICS, strict=True):
        assert TopicProposed.model_validate_json(event.to_json()) == event
        assert event.id == interview_event_id(topic.title)
        assert event.subject == topic_id_for(event.id)
        assert event.data.origin == "interview"
        assert event.data.proposed_by.email == "pat@caprural.test"
    times = [e.time for e in first]
    assert times == sorted(times)
    assert len(set(times)) == 9
