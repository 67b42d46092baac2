"""Requested sessions: scheduled or rejected, moved, cancelled; bad input dead-lettered."""

from __future__ import annotations

import pytest

from tests.scheduling.builders import FakeClock, paris
from tests.scheduling.flows import SESSION_EVENTS, data, day_request, schedule_request, scheduling

pytestmark = pytest.mark.integration


async def test_requests_are_scheduled_rejected_moved_and_cancelled_and_bad_input_is_dead_lettered(
    settings, publisher, tap, mongo
):
    clock = FakeClock(paris(2020, 1, 6, 9))
    reader = await tap(*SESSION_EVENTS, "session_schedule_requested", dlq=True)
    key = "coordination"  # one key: the requests are handled in the order sent
    async with scheduling(settings, clock):
        await publisher.raw("session_schedule_requested", b"{not json", key=key)
        naive = day_request(2020, 2, 4, "Heure sans fuseau")
        naive["starts_at"] = "2020-02-04T10:00:00"
        await publisher.event("session_schedule_requested", naive, subject=key, validate=False)
        good = await publisher.event(
            "session_schedule_requested",
            {**day_request(2020, 2, 4, "Gouvernance"), "join_url": "https://visio.example.org/g"},
            subject=key,
        )
        overlapping = schedule_request(paris(2020, 2, 4, 11), paris(2020, 2, 4, 13), "Chevauche")
        await publisher.event("session_schedule_requested", overlapping, subject=key)
        await publisher.event(
            "session_schedule_requested", day_request(2020, 4, 13, "Lundi de Pâques"), subject=key
        )
        too_long = schedule_request(paris(2020, 2, 6, 9), paris(2020, 2, 6, 11, 30), "Trop long")
        await publisher.event("session_schedule_requested", too_long, subject=key)
        await publisher.event(
            "session_schedule_requested", day_request(2019, 12, 3, "Déjà passée"), subject=key
        )

        [session] = data(await reader.wait_for("session_scheduled", timeout=60))
        rejected = data(await reader.wait_for("session_rejected", count=4))
        dead = await reader.wait_for_dlq("session_schedule_requested", count=2)
        session_id = session["session_id"]

        await publisher.event(
            "session_reschedule_requested",
            {
                "session_id": session_id,
                "starts_at": "2020-02-11T14:00:00+01:00",
                "ends_at": "2020-02-11T16:00:00+01:00",
            },
        )
        [moved] = data(await reader.wait_for("session_rescheduled"))
        await publisher.event(
            "session_reschedule_requested",
            {
                "session_id": "no-such-session",
                "starts_at": "2020-02-11T14:00:00+01:00",
                "ends_at": "2020-02-11T16:00:00+01:00",
            },
        )
        await reader.wait_for("session_rejected", count=5)
        cancel = {"session_id": session_id, "reason": "Intervenante indisponible"}
        await publisher.event("session_cancel_requested", cancel)
        [cancelled] = data(await reader.wait_for("session_cancelled"))
        await publisher.event("session_cancel_requested", cancel)
        await publisher.again(good)
        rejected = data(await reader.wait_for("session_rejected", count=6))
        await reader.wait_for("session_scheduled", count=2)  # the redelivery re-publishes

    assert (session["title"], session["join_url"]) == ("Gouvernance", "https://visio.example.org/g")
    assert (session["starts_at"], session["sequence"]) == ("2020-02-04T10:00:00+01:00", 0)
    assert sorted((r["request_type"], r["reason"]) for r in rejected) == [
        ("session_cancel_requested", "cancelled_session"),
        ("session_reschedule_requested", "unknown_session"),
        ("session_schedule_requested", "overlap"),
        ("session_schedule_requested", "past_session"),
        ("session_schedule_requested", "public_holiday"),
        ("session_schedule_requested", "too_long"),
    ]
    by_reason = {r["reason"]: r for r in rejected}
    assert "Gouvernance" in by_reason["overlap"]["detail"]
    assert by_reason["unknown_session"]["session_id"] == "no-such-session"
    assert {d.headers["x-dlq-reason"] for d in dead} == {b"poison"}
    assert b"timezone" in next(d for d in dead if d.value != b"{not json").headers["x-dlq-error"]
    assert (moved["starts_at"], moved["previous_starts_at"], moved["sequence"]) == (
        "2020-02-11T14:00:00+01:00",
        "2020-02-04T10:00:00+01:00",
        1,
    )
    assert (cancelled["sequence"], cancelled["reason"]) == (2, "Intervenante indisponible")
    assert cancelled["starts_at"] == moved["starts_at"]
    # The redelivered request re-published the same event and created nothing.
    assert {e["id"] for e in reader.events("session_scheduled")} == {
        reader.events("session_scheduled")[0]["id"]
    }
    sessions = mongo[settings.database_name("scheduling")]["sessions"]
    assert await sessions.count_documents({}) == 1
    assert (await sessions.find_one({"_id": session_id}))["status"] == "cancelled"
