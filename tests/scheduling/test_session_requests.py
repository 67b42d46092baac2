"""Requests through Kafka: scheduled or rejected, moved, cancelled, redelivered; bad input
dead-lettered with a readable reason (the rules themselves: test_handlers.py)."""

from __future__ import annotations

import pytest

from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.flows import SESSION_EVENTS, data, day_request, schedule_request, scheduling

pytestmark = pytest.mark.integration


async def test_requests_are_scheduled_rejected_moved_and_cancelled_and_bad_input_is_dead_lettered(
    settings, publisher, tap, mongo
):
    clock = FakeClock(paris(2020, 1, 6, 9))
    requests = ("session_schedule_requested", "session_reschedule_requested")
    reader = await tap(*SESSION_EVENTS, *requests, dlq=True)
    key = "coordination"  # one key: the requests are handled in the order sent
    async with scheduling(settings, clock):
        await publisher.raw("session_schedule_requested", b"{not json", key=key)
        naive = day_request(2020, 2, 4, "Heure sans fuseau")
        naive["starts_at"] = "2020-02-04T10:00:00"
        await publisher.event("session_schedule_requested", naive, subject=key, validate=False)
        good = await publisher.event(
            "session_schedule_requested",
            {
                **day_request(2020, 2, 4, "Gouvernance"),
                "join_url": "https://visio.example.org/g",
                "room": "salle 2",  # not in the contract: ignored (tolerant reader)
            },
            subject=key,
        )
        overlapping = schedule_request(paris(2020, 2, 4, 11), paris(2020, 2, 4, 13), "Chevauche")
        await publisher.event("session_schedule_requested", overlapping, subject=key)

        [session] = data(await reader.wait_for("session_scheduled", timeout=60))
        [overlap] = data(await reader.wait_for("session_rejected"))
        dead = await reader.wait_for_dlq("session_schedule_requested", count=2)
        session_id = session["session_id"]

        new_slot = {
            "starts_at": "2020-02-11T14:00:00+01:00",
            "ends_at": "2020-02-11T16:00:00+01:00",
        }
        await publisher.event(
            "session_reschedule_requested", new_slot, subject=session_id, validate=False
        )
        await publisher.event(
            "session_reschedule_requested", {"session_id": session_id, **new_slot}
        )
        [moved] = data(await reader.wait_for("session_rescheduled"))
        [no_id] = await reader.wait_for_dlq("session_reschedule_requested")
        await publisher.event(
            "session_reschedule_requested", {"session_id": "no-such-session", **new_slot}
        )
        await reader.wait_for("session_rejected", count=2)
        cancel = {"session_id": session_id, "reason": "Intervenante indisponible"}
        await publisher.event("session_cancel_requested", cancel)
        [cancelled] = data(await reader.wait_for("session_cancelled"))
        await publisher.event("session_cancel_requested", cancel)
        await publisher.again(good)
        rejected = data(await reader.wait_for("session_rejected", count=3))
        await reader.wait_for("session_scheduled", count=2)  # the redelivery re-publishes

    assert (session["title"], session["join_url"]) == ("Gouvernance", "https://visio.example.org/g")
    assert (session["starts_at"], session["sequence"]) == ("2020-02-04T10:00:00+01:00", 0)
    assert "Gouvernance" in overlap["detail"]
    assert sorted((r["request_type"], r["reason"]) for r in rejected) == [
        ("session_cancel_requested", "cancelled_session"),
        ("session_reschedule_requested", "unknown_session"),
        ("session_schedule_requested", "overlap"),
    ]
    assert {d.headers["x-dlq-reason"] for d in [*dead, no_id]} == {b"poison"}
    naive_letter = next(d for d in dead if d.value != b"{not json")
    assert naive_letter.headers["x-dlq-error"].startswith(b"data.starts_at: ")
    assert b"timezone" in naive_letter.headers["x-dlq-error"]
    assert no_id.headers["x-dlq-error"] == b"data.session_id: Field required"
    assert (moved["starts_at"], moved["previous_starts_at"], moved["sequence"]) == (
        "2020-02-11T14:00:00+01:00",
        "2020-02-04T10:00:00+01:00",
        1,
    )
    assert (cancelled["sequence"], cancelled["reason"]) == (2, "Intervenante indisponible")
    # The redelivered request re-published the same event and created nothing.
    assert {e["id"] for e in reader.events("session_scheduled")} == {
        reader.events("session_scheduled")[0]["id"]
    }
    sessions = mongo[settings.database_name("scheduling")]["sessions"]
    assert await sessions.count_documents({}) == 1
    assert (await sessions.find_one({"_id": session_id}))["status"] == "cancelled"
