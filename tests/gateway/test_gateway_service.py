"""The gateway wired to the embedded Kafka and MongoDB: what it reads shows on its pages,
and a link followed twice publishes one event, with the link's id."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from services.gateway.app import create_app
from shared.links import Link, Links
from tests.gateway.support import session_data
from tests.harness.kafka import eventually


async def test_the_gateway_shows_what_it_reads_and_publishes_a_link_request_once(
    settings, publisher, tap
):
    session_id = f"s-{uuid.uuid4().hex[:10]}"
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    links = Links(
        secret=settings.required_link_secret(),
        base_url=settings.public_base_url,
        ttl_days=settings.link_ttl_days,
    )
    followed = Link(
        action="confirm_signup",
        email="camille@cc-exemple.fr",
        nonce=uuid.uuid4().hex,
        session_id=session_id,
        first_name="Camille",
        last_name="Martin",
    )
    reader = await tap("session_signup_requested")
    app = create_app(settings)

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client,
    ):
        ready = await client.get("/ready")
        asyncapi = (await client.get("/docs/asyncapi.json")).json()
        await publisher.event(
            "session_scheduled",
            session_data(session_id, starts_at=starts_at),
            subject=session_id,
        )

        async def listed() -> bool:
            return (await client.get(f"/seances/{session_id}")).status_code == 200

        await eventually(listed, timeout=60, message="the session on its page")
        path = f"/l/{links.token(followed)}"
        shown = await client.get(path)
        first, second = await client.post(path), await client.post(path)

        await reader.wait_for("session_signup_requested", lambda e: e["id"] == followed.event_id)
        await asyncio.sleep(1.0)  # time for a second publication to show, if there were one

    assert ready.status_code == 200, ready.text
    assert ready.json() == {"service": "gateway", "kafka": True, "mongodb": True}
    channels = str(asyncapi["channels"])
    assert "confirmation_requested" in channels
    assert "expert_response_submitted" in channels
    assert shown.status_code == 200
    assert (first.status_code, second.status_code) == (200, 200)
    assert "déjà fait" in second.text
    [sent] = reader.events("session_signup_requested")
    assert sent["id"] == followed.event_id
    assert sent["data"]["session_id"] == session_id
