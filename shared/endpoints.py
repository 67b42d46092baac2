"""Where the operator's commands find the services' HTTP ports (`caprural status`,
`caprural report`): this machine's ports by default, or `--url SERVICE=URL`."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.settings import SERVICES, Settings

ALL = tuple(str(name) for name in SERVICES)


def local_urls(settings: Settings, services: Iterable[str] = ALL) -> dict[str, str]:
    """Each service on this machine, on the port its settings give it (HEALTH_PORT, else
    its default: gateway 8080, registration 8081, programme 8082, scheduling 8083,
    notifications 8084, the ports of `caprural dev`)."""
    return {name: f"http://127.0.0.1:{settings.health_port_for(name)}" for name in services}


def parse_urls(pairs: Iterable[str], services: Iterable[str] = ALL) -> dict[str, str]:
    """`service=http://host:port` pairs (`--url`), checked; a ValueError says what is wrong."""
    known = tuple(services)
    urls: dict[str, str] = {}
    for pair in pairs:
        service, sep, url = pair.partition("=")
        service, url = service.strip(), url.strip().rstrip("/")
        if not sep or service not in known:
            raise ValueError(f"{pair!r}: expected SERVICE=URL, SERVICE one of {', '.join(known)}")
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"{pair!r}: the URL must be http:// or https://host[:port]")
        urls[service] = url
    return urls
