"""An outsider, in a real browser (Debian's chromium, driven by Playwright): signs up for a
session on the public pages, confirms from the email, gets the confirmation with the
calendar invitation, then gives the place up from that email: the first of the waitlist
is promoted. Registration, notifications and the gateway run on the embedded stack."""

from __future__ import annotations

import asyncio
import re
import shutil
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import uvicorn

from services.gateway.app import create_app as gateway
from services.notifications.app import create_app as notifications
from services.registration.app import create_app as registration
from shared.devstack.processes import free_port
from tests.harness.kafka import wait_until
from tests.harness.mail import wait_for_mail
from tests.harness.services import running
from tests.notifications.builders import calendar_of, text_part, token

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LINK = re.compile(r"https?://\S+/l/\S+")


@asynccontextmanager
async def served(app, port: int):
    """The gateway on a real port, as the browser reaches it."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started, message="the gateway listening")
        yield
    finally:
        server.should_exit = True
        await task


def links_of(message: EmailMessage) -> list[str]:
    return LINK.findall(text_part(message))


async def test_an_outsider_signs_up_confirms_gets_the_invitation_then_gives_the_place_up(
    infra, settings, publisher, mail
):
    from playwright.async_api import async_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is required (make tools installs it)"
    port = free_port()
    settings = settings.model_copy(
        update={
            "session_capacity": 1,
            "public_base_url": f"http://127.0.0.1:{port}",
            "delivery_poll_seconds": 0.2,
        }
    )
    mark = token()
    session_id, outsider, waiting = f"s-{mark}", f"alex-{mark}@asso.org", f"bea-{mark}@asso.org"
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    async with AsyncExitStack() as stack:
        for create_app in (registration, notifications):
            await stack.enter_async_context(running(create_app, settings))
        web = gateway(settings)
        await stack.enter_async_context(web.router.lifespan_context(web))
        await stack.enter_async_context(served(web, port))
        await publisher.event(
            "session_scheduled",
            {
                "session_id": session_id,
                "title": f"Foncier agricole {mark}",
                "question": "Comment mobiliser le foncier pour installer des producteurs ?",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "join_url": "https://visio.caprural.org/pat/foncier",
                "sequence": 0,
            },
            subject=session_id,
        )
        playwright = await stack.enter_async_context(async_playwright())
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        stack.push_async_callback(browser.close)
        page = await browser.new_page()

        base = settings.public_base_url
        for _ in range(100):  # the gateway learns of the session from Kafka
            await page.goto(f"{base}/seances")
            if await page.get_by_role("link", name=f"Foncier agricole {mark}").count():
                break
            await asyncio.sleep(0.2)
        await page.get_by_role("link", name=f"Foncier agricole {mark}").click()
        await page.get_by_label("Prénom").fill("Alex")
        await page.get_by_label("Nom", exact=True).fill("Bernard")
        await page.get_by_label("Adresse électronique").fill(outsider)
        await page.get_by_role("button", name="M'inscrire à cette séance").click()
        text = await page.inner_text("main")
        assert "Vérifiez votre messagerie" in text, text  # nothing done yet but the email

        [confirmation_email] = await wait_for_mail(mail, outsider, timeout=60)
        [confirm] = links_of(confirmation_email.message)
        await page.goto(confirm)
        [button] = await page.get_by_role("button").all()  # one clear button
        await button.click()

        placed = await wait_for_mail(mail, outsider, count=2, timeout=60)
        confirmed = placed[1].message
        assert str(confirmed["Subject"]).startswith("Inscription confirmée")
        method, calendar = calendar_of(confirmed)
        assert method == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]).startswith(session_id)

        await publisher.event(
            "session_signup_requested",
            {"session_id": session_id, "email": waiting, "first_name": "Béa", "last_name": "C"},
            subject=session_id,
        )
        [waitlisted] = await wait_for_mail(mail, waiting, timeout=60)
        assert str(waitlisted.message["Subject"]).startswith("Liste d'attente")

        [cancel] = links_of(confirmed)  # the only link: give the place up
        await page.goto(cancel)
        await page.get_by_role("button").click()
        promoted = await wait_for_mail(mail, waiting, count=2, timeout=60)

    assert str(promoted[1].message["Subject"]).startswith("Une place s'est libérée")
    assert len([m for m in mail.store.snapshot() if outsider in m.recipients]) == 2
