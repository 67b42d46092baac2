"""Serving an in-process service's ASGI app over real HTTP (its lifespan runs apart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from shared.devstack import processes


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve `app` on a free local port in this event loop; yields its base URL."""
    port = processes.free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()  # raises why it stopped
        if time.monotonic() > deadline:
            raise TimeoutError("the HTTP server did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
