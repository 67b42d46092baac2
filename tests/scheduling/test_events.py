"""Domain values as contract events: deterministic ids, keys, Paris times."""

from __future__ import annotations

from dataclasses import replace

from services.scheduling import events
from services.scheduling.domain import Rejection
from services.scheduling.records import Question
from tests.scheduling.builders import paris, session, slot

NOW = paris(2020, 1, 6, 9)
LAUNCH = session("s1", slot(2020, 1, 21))


def test_a_reminder_built_twice_has_the_same_id_and_bytes():
    first = events.reminder_due(LAUNCH, kind="J-7", due_at=paris(2020, 1, 14, 10))
    again = events.reminder_due(LAUNCH, kind="J-7", due_at=paris(2020, 1, 14, 10))
    assert first.to_json() == again.to_json()
    assert first.data.remind == "J-7"
    assert first.key == b"s1"


def test_a_reminder_of_a_moved_session_or_another_kind_gets_a_new_id():
    j7 = events.reminder_due(LAUNCH, kind="J-7", due_at=paris(2020, 1, 14, 10))
    j1 = events.reminder_due(LAUNCH, kind="J-1", due_at=paris(2020, 1, 20, 10))
    moved = events.reminder_due(
        replace(LAUNCH, sequence=1), kind="J-7", due_at=paris(2020, 1, 14, 10)
    )
    assert len({j7.id, j1.id, moved.id}) == 3


def test_session_times_are_published_with_the_paris_offset():
    event = events.scheduled(LAUNCH, cause_id="request-1", now=NOW)
    body = event.to_json().decode()
    assert '"starts_at":"2020-01-21T10:00:00+01:00"' in body
    assert '"timezone":"Europe/Paris"' in body
    assert event.id == events.scheduled(LAUNCH, cause_id="request-1", now=NOW).id


def test_a_rejection_without_a_session_is_keyed_like_its_request():
    refused = events.rejected(
        Rejection("too_long", "Trop long."),
        request_type="session_schedule_requested",
        cause_id="request-1",
        now=NOW,
        cause_subject="coordination",
    )
    assert refused.key == b"coordination"
    about_a_topic = events.rejected(
        Rejection("no_slot", "Plus de créneau."),
        request_type="programme_published",
        cause_id="programme-1",
        now=NOW,
        topic_id="t6",
    )
    assert (about_a_topic.key, about_a_topic.data.topic_id) == (b"t6", "t6")


def test_a_digest_has_one_id_per_session_whatever_its_sequence_and_the_same_bytes_twice():
    asked = Question("q1", "s1", 1, "p-1", "Camille Martin", "Quel budget ?", NOW)
    first = events.digest_due(LAUNCH, [asked], sent_at=paris(2020, 1, 18, 10))
    again = events.digest_due(LAUNCH, [asked], sent_at=paris(2020, 1, 18, 10))
    moved = events.digest_due(replace(LAUNCH, sequence=3), [], sent_at=NOW)
    assert first.to_json() == again.to_json()
    assert first.id == moved.id
    assert (first.key, first.data.questions[0].asked_by) == (b"s1", "Camille Martin")
    assert b"p-1" not in first.to_json()  # the pseudonym stays in the service
