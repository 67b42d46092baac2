"""A published programme through Kafka becomes sessions on the bimonthly cadence; new
versions update them, a redelivery changes nothing (the merge rules: test_handlers.py)."""

from __future__ import annotations

import pytest

from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.flows import SESSION_EVENTS, data, day_request, programme, scheduling

pytestmark = pytest.mark.integration

THIRD_TUESDAYS = [
    ("2020-03-17T10:00:00+01:00", "2020-03-17T12:00:00+01:00"),
    ("2020-05-19T10:00:00+02:00", "2020-05-19T12:00:00+02:00"),
    ("2020-07-21T10:00:00+02:00", "2020-07-21T12:00:00+02:00"),
    ("2020-09-15T10:00:00+02:00", "2020-09-15T12:00:00+02:00"),
    ("2020-11-17T10:00:00+01:00", "2020-11-17T12:00:00+01:00"),
]
TOPICS = ["t1", "t2", "t3", "t4", "t5"]


async def test_the_2020_launch_and_programme_give_the_third_tuesdays_and_versions_update_them(
    settings, publisher, tap
):
    clock = FakeClock(paris(2020, 1, 6, 9))
    reader = await tap(*SESSION_EVENTS, "programme_published", dlq=True)
    async with scheduling(settings, clock):
        await publisher.event("session_schedule_requested", day_request(2020, 1, 21, "Lancement"))
        [launch] = data(await reader.wait_for("session_scheduled", timeout=60))
        assert (launch["starts_at"], launch["ends_at"]) == (
            "2020-01-21T10:00:00+01:00",
            "2020-01-21T12:00:00+01:00",
        )
        assert launch["join_url"].startswith(settings.webconference_base_url + "/pat-")

        await publisher.raw("programme_published", b'{"type": "programme_published"}', key="2020")
        first = await publisher.event("programme_published", programme(1, TOPICS), subject="2020")
        await reader.wait_for("session_scheduled", count=6)
        topics = reader.events("session_scheduled", lambda e: "topic_id" in e["data"])
        scheduled = sorted(data(topics), key=lambda s: s["starts_at"])
        assert [(s["topic_id"], s["starts_at"], s["ends_at"]) for s in scheduled] == [
            (topic, *slot) for topic, slot in zip(TOPICS, THIRD_TUESDAYS, strict=True)
        ]
        assert {(s["timezone"], s["sequence"]) for s in scheduled} == {("Europe/Paris", 0)}
        assert len({s["session_id"] for s in scheduled}) == 5
        assert len({s["join_url"] for s in [*scheduled, launch]}) == 6
        by_topic = {s["topic_id"]: s["session_id"] for s in scheduled}

        # The same version delivered again, then version 2: t1 and t2 swap, t5 leaves, t6 comes.
        await publisher.again(first)
        await publisher.event(
            "programme_published", programme(2, ["t2", "t1", "t3", "t4", "t6"]), subject="2020"
        )
        [dead] = await reader.wait_for_dlq("programme_published")
        moved = data(await reader.wait_for("session_rescheduled", count=2))
        [cancelled] = data(await reader.wait_for("session_cancelled"))
        newcomer = data(
            await reader.wait_for("session_scheduled", lambda e: e["data"].get("topic_id") == "t6")
        )[0]

    assert {(m["session_id"], m["starts_at"], m["sequence"]) for m in moved} == {
        (by_topic["t2"], THIRD_TUESDAYS[0][0], 1),
        (by_topic["t1"], THIRD_TUESDAYS[1][0], 1),
    }
    assert {m["previous_starts_at"] for m in moved} == {THIRD_TUESDAYS[0][0], THIRD_TUESDAYS[1][0]}
    assert (cancelled["session_id"], cancelled["sequence"]) == (by_topic["t5"], 1)
    assert "version 2" in cancelled["reason"]
    assert newcomer["starts_at"] == THIRD_TUESDAYS[4][0]
    # The redelivered version 1 re-published the very same events: no new session.
    ids = {e["id"] for e in reader.events("session_scheduled")}
    assert len(ids) == 7
    assert reader.events("session_rejected") == []
    assert dead.headers["x-dlq-reason"] == b"poison"
    assert b"data: Field required" in dead.headers["x-dlq-error"].split(b"\n")
