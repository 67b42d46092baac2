"""Serving the gateway with uvicorn: HTTP_PORT, graceful shutdown, no access log.

The access log stays off: the links' tokens are in their paths, and a token is the
capability to act for its recipient.
"""

from __future__ import annotations

import logging

import uvicorn

from services.gateway.app import create_app
from services.gateway.web import NAME
from shared.logs import configure_logging
from shared.settings import Settings


def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT (requests in flight get 30 seconds to finish)."""
    configure_logging(service=NAME, level=settings.log_level, fmt=settings.log_format)
    # python-multipart warns of every malformed body: anyone could fill the log with that.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    settings.required_link_secret()  # refuse to start without it, with a clear message
    config = uvicorn.Config(
        create_app(settings),
        host=settings.health_host,
        port=settings.health_port_for(NAME),
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=30,
        server_header=False,
        lifespan="on",
    )
    uvicorn.Server(config).run()
