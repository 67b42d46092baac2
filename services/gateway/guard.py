"""Around every request: the security headers, and a French page for the unexpected.

Bad input never reaches this far (the routes answer it with 4xx pages); an error that
does is logged without the path's token or any form value, and answered with a French
500 page instead of a traceback.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.links import PATH as LINK_PATH
from shared.mongo import working

logger = logging.getLogger("caprural.gateway")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A page with a one-click button must never be framed by another site (clickjacking).
    "X-Frame-Options": "DENY",
}


def loggable_path(path: str) -> str:
    """The path as it may be logged: a link's token never is."""
    if path.startswith(LINK_PATH):
        return LINK_PATH + "<token>"
    return path[:200]


class Guard:
    """ASGI middleware: headers on every response; unexpected errors become a 500 page."""

    def __init__(self, app: ASGIApp, *, error_page: Callable[[], Awaitable[bytes]]) -> None:
        self.app = app
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        private = str(scope.get("path", "")).startswith(LINK_PATH)

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            with working("requests"):  # the database commands a request costs
                await self.app(scope, receive, send_guarded)
        except Exception as error:  # noqa: BLE001 (the last line of defence: log, answer)
            where = "".join(traceback.format_tb(error.__traceback__)[-3:])
            logger.error(
                "unexpected %s on %s %s",
                type(error).__name__,
                scope.get("method", "?"),
                loggable_path(str(scope.get("path", ""))),
                extra={"where": where},
            )
            if not started:
                await self._answer(send_guarded)

    async def _answer(self, send: Send) -> None:
        body = await self.error_page()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
