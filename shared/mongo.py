"""MongoDB adapter: PyMongo's async API (the successor of Motor), one database per service."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.settings import Settings

Document = dict[str, Any]


def create_client(settings: Settings, *, app_name: str) -> AsyncMongoClient[Document]:
    """A client with timezone-aware datetimes and bounded server selection."""
    return AsyncMongoClient(
        settings.mongodb_url.get_secret_value(),
        tz_aware=True,
        appname=app_name,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        retryWrites=True,
    )


def service_database(
    client: AsyncMongoClient[Document], settings: Settings, service: str
) -> AsyncDatabase[Document]:
    """The database a service owns; no service ever reads another's."""
    return client[settings.database_name(service)]


async def ping(client: AsyncMongoClient[Document]) -> bool:
    """True when the server answers."""
    try:
        await client.admin.command("ping")
    except Exception:  # noqa: BLE001 (readiness reports, it does not raise)
        return False
    return True


Database = AsyncDatabase[Document]
"""A service's own database, as its composition root receives it."""
