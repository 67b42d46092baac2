"""The gateway's HTTP application: pages, links, the calendar feed, health.

`web_app(site)` builds it around a `Site` (tests give an in-memory unit of work and a
recording publisher); the composition root (app.py) gives MongoDB, Kafka and a lifespan.
Every answer to bad input is a French page (4xx), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from services.gateway import oneclick, public
from services.gateway.feed import calendar_feed
from services.gateway.guard import Guard
from services.gateway.pages import FALLBACK, PageError, message, status_page
from services.gateway.requests import root_of, site_of
from services.gateway.site import Site

NAME = "gateway"
FEED_PAST = timedelta(days=365)
FEED_LIMIT = 1000

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

router = APIRouter()


class Gateway(FastAPI):
    """FastAPI, plus the AsyncAPI description of the Kafka side (`schema`, as FastStream's
    apps have it: shared/contract/docs.py reads it)."""

    schema: Any = None


def web_app(site: Site | None = None, *, lifespan: Lifespan | None = None) -> Gateway:
    """The HTTP application; without `site`, the composition root sets it at startup."""
    app = Gateway(
        title="Cap Rural PAT platform: gateway",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    if site is not None:
        app.state.site = site
    app.add_exception_handler(PageError, _page_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_middleware(Guard, error_page=_error_page)
    app.include_router(public.router)
    app.include_router(oneclick.router)
    app.include_router(router)
    return app


@router.get("/calendar.ics")
async def calendar(request: Request) -> Response:
    """The group's sessions (upcoming, and the past year's), for calendar applications."""
    site = site_of(request)
    since = site.clock() - FEED_PAST
    sessions = await site.open_unit().sessions.starting_from(since, limit=FEED_LIMIT)
    body = calendar_feed(sessions, page_url=f"{site.base_url}/seances/")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="caprural-pat.ics"'},
    )


@router.get("/health")
async def health(request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok", "service": NAME})


@router.get("/ready")
async def ready(request: Request) -> Response:
    """Readiness: Kafka and MongoDB answer."""
    site = getattr(request.app.state, "site", None)
    answers = await site.ready() if isinstance(site, Site) else {"kafka": False, "mongodb": False}
    body: dict[str, Any] = {"service": NAME, **answers}
    return JSONResponse(body, status_code=200 if all(answers.values()) else 503)


async def _page_error(request: Request, error: PageError) -> Response:
    return message(
        error.status, error.title, *error.paragraphs, root=root_of(request), headers=error.headers
    )


async def _http_error(request: Request, error: HTTPException) -> Response:
    return status_page(error.status_code, root=root_of(request), headers=error.headers)


async def _invalid_request(request: Request, error: RequestValidationError) -> Response:
    return status_page(400, root=root_of(request))


async def _error_page() -> bytes:
    try:
        return bytes(status_page(500, root="").body)
    except Exception:  # noqa: BLE001 (rendering failed too: the page of last resort)
        return FALLBACK
