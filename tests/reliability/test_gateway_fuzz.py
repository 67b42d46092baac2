"""Hostile HTTP: hypothesis-drawn requests over every route and method of the gateway.

Random paths, methods and query strings; tokens random, truncated, tampered, signed
with another secret, or valid; forms with random, unicode, huge, CR/LF and markup
values, urlencoded, multipart or raw bytes. Every request is sent in-process to the app
on an in-memory unit of work with a recording publisher. Expected: no exception
escapes, no answer is a 5xx, and nothing is published for input that is invalid by
construction (each form carries at least one field that can never pass, and a valid
link is only POSTed with values its action refuses). Valid link POSTs are drawn apart,
each sent one to three times: exactly one event per link, with the link's id.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from shared.links import SALT, Link
from tests.gateway.support import World, link
from tests.reliability.fuzz import HOSTILE_TEXTS

pytestmark = pytest.mark.reliability

HOSTILE_EXAMPLES = 5_000
"""Each example is two requests (a request and its twin with another method)."""
VALID_LINKS = 300
SESSIONS = ("open", "full", "past", "gone", "unknown")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
LIKELY_METHODS = ("GET", "GET", "GET", "POST", "POST", "POST", *METHODS)
"""The first request of a pair mostly uses the methods the routes answer."""
FIELD_ACTIONS = ("rate", "question", "expert_accept", "expert_decline")
ALL_ACTIONS = (
    "confirm_signup",
    "confirm_interest",
    "signup",
    "cancel",
    "unsubscribe",
    "question",
    "rate",
    "expert_accept",
    "expert_decline",
)
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "organisation",
    "consent",
    "topic_ids",
    "question",
    "rating",
    "comment",
    "note",
    "List-Unsubscribe",
)


@dataclass(frozen=True)
class Sent:
    """One request to send."""

    method: str
    path: str
    body: bytes = b""
    content_type: str | None = None
    kind: str = ""


# --- values ---------------------------------------------------------------------------

TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["A", "é", "<", "\r\n", "\u200b"]),
        st.sampled_from([101, 201, 2001, 5001, 70_000]),
    ),
)
BAD_EMAIL = st.one_of(
    st.sampled_from(
        [
            "",
            "pas-une-adresse",
            "ana@",
            "@exemple.fr",
            "ana@exemple.fr\r\nBcc: victime@exemple.org",
            "ana@commune.invalid",
            "ana@@exemple.fr",
            "a" * 300 + "@exemple.fr",
            "<script>@exemple.fr",
        ]
    ),
    st.text(max_size=60).filter(lambda t: "@" not in t),
)
BAD_NAME = st.sampled_from(
    ["", "   ", "<b>Ana</b>", "Ana\r\nBcc: x@y.fr", "Ana\nSubject: faux", "A" * 101, "x\x00y", "é>"]
)
BAD_RATING = st.one_of(
    st.sampled_from(["", "0", "6", "-1", "10", "5.0", "quatre", "1e0", "٣"]),
    st.text(max_size=5).filter(lambda t: t.strip() not in {"1", "2", "3", "4", "5"}),
)
BAD_BLOCK = st.sampled_from(["x" * 5001, "nul\x00", "bip\x07", "q" * 70_000])
BAD_QUESTION = st.one_of(BAD_BLOCK, st.sampled_from(["", "   ", "\r\n", "q" * 2001]))


def encode_form(
    draw: st.DrawFn, fields: dict[str, list[str]], *, raw: bool = True
) -> tuple[bytes, str | None]:
    """The body in one of the encodings a client may use (or, with `raw`, random bytes)."""
    encodings = ["urlencoded", "urlencoded", "multipart", "none"] + (["raw"] if raw else [])
    how = draw(st.sampled_from(encodings))
    if how == "multipart":
        parts = [
            f'--xYz\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, values in fields.items()
            for value in values
        ]
        body = ("".join(parts) + "--xYz--\r\n").encode("utf-8", "surrogatepass")
        return body, "multipart/form-data; boundary=xYz"
    if how == "raw":
        body = draw(st.binary(max_size=200))
        return body, draw(
            st.sampled_from(
                [
                    None,
                    "application/json",
                    "multipart/form-data",
                    "multipart/form-data; boundary=",
                    "text/plain",
                ]
            )
        )
    content_type = "application/x-www-form-urlencoded" if how == "urlencoded" else None
    return _urlencoded(fields), content_type


def _urlencoded(fields: dict[str, list[str]]) -> bytes:
    return urlencode(fields, doseq=True, encoding="utf-8", errors="surrogatepass").encode()


@st.composite
def hostile_form(draw: st.DrawFn) -> dict[str, list[str]]:
    """Random fields, at least one of which can never pass (email or a name)."""
    names = draw(st.lists(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), max_size=5))
    fields = {name: [draw(TEXT)] for name in names}
    broken = draw(st.sampled_from(["email", "first_name", "last_name"]))
    fields[broken] = [draw(BAD_EMAIL if broken == "email" else BAD_NAME)]
    return fields


# --- requests ---------------------------------------------------------------------------


def _quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


SESSION = st.one_of(st.sampled_from(SESSIONS), st.text(max_size=30).map(_quoted))
QUERY = st.one_of(
    st.just(""),
    st.sampled_from(["?a=%ZZ", "?x=<script>", "?page=-1&page=2", "?%00", "?" + "a" * 5000]),
    TEXT.map(lambda text: "?" + _quoted(text)[:3000]),
)


@st.composite
def token(draw: st.DrawFn, world: World) -> tuple[str, str]:
    """(kind, token): random, truncated, tampered, foreign, or valid."""
    valid = world.links.token(
        link(draw(st.sampled_from(ALL_ACTIONS)), nonce=f"h{draw(st.integers(0, 50))}")
    )
    kind = draw(st.sampled_from(["random", "truncated", "tampered", "foreign", "valid"]))
    if kind == "random":
        return kind, _quoted(draw(TEXT))[:5000] or "x"
    if kind == "truncated":
        return kind, valid[: draw(st.integers(1, len(valid) - 1))]
    if kind == "tampered":
        at = draw(st.integers(0, len(valid) - 1))
        replacement = draw(st.sampled_from("AZaz09-_.~!"))
        tampered = valid[:at] + replacement + valid[at + 1 :]
        # Base64 ignores the unused bits of a segment's last character: a changed one may
        # still decode to the very same signed bytes, which is the same, valid link.
        return ("valid" if isinstance(world.links.read(tampered), Link) else kind), tampered
    if kind == "foreign":
        foreign = URLSafeTimedSerializer("another-deployment-secret-0123456789", salt=SALT)
        return kind, str(foreign.dumps({"a": "cancel", "e": "a@exemple.fr", "n": "x", "s": "open"}))
    return kind, valid


@st.composite
def hostile_link_post(draw: st.DrawFn, world: World) -> Sent:
    """A valid link of an action with fields, POSTed with a value the action refuses."""
    action = draw(st.sampled_from(FIELD_ACTIONS))
    target = world.links.token(link(action, session_id=draw(st.sampled_from(SESSIONS))))
    fields = draw(hostile_form())
    if action == "rate":
        fields["rating"] = [draw(BAD_RATING)]
    elif action == "question":
        fields["question"] = [draw(BAD_QUESTION)]
    else:
        fields["note"] = [draw(BAD_BLOCK)]
    # Never raw bytes: the refused value must reach the form (a note is optional).
    body, content_type = encode_form(draw, fields, raw=False)
    return Sent("POST", f"/l/{target}", body, content_type, f"link-refused-{action}")


ROUTES = (
    "random",
    "home",
    "list",
    "session",
    "signup",
    "interest",
    "link",
    "link",
    "link",
    "calendar",
    "health",
    "refused-link",
)
PATHS = {
    "home": "/",
    "list": "/seances",
    "session": "/seances/{}",
    "signup": "/seances/{}/inscription",
    "interest": "/interet",
    "calendar": "/calendar.ics",
}


@st.composite
def hostile(draw: st.DrawFn, world: World) -> tuple[Sent, Sent]:
    """A request that must publish nothing, and its twin: the same path and body with
    another method (method confusion costs one draw)."""
    route = draw(st.sampled_from(ROUTES))
    if route == "refused-link":
        first = draw(hostile_link_post(world))
    else:
        first = draw(_hostile_request(world, route))
    methods: tuple[str, ...] = METHODS
    if first.kind == "link-valid" and first.path.count("/") == 2:
        methods = tuple(m for m in METHODS if m != "POST")  # a valid link POSTed acts
    method = draw(st.sampled_from(methods))
    body = first.body if method in {"POST", "PUT", "PATCH"} else b""
    twin = Sent(method, first.path, body, first.content_type, f"{first.kind}-twin")
    return first, twin


@st.composite
def _hostile_request(draw: st.DrawFn, world: World, route: str) -> Sent:
    method = draw(st.sampled_from(LIKELY_METHODS))
    kind = route
    if route == "random":
        path = "/" + "/".join(_quoted(p)[:3000] for p in draw(st.lists(TEXT, max_size=3)))
    elif route == "link":
        kind, tok = draw(token(world))
        suffix = draw(st.sampled_from(["", "", "/", "/x"]))
        if kind == "valid" and method == "POST" and not suffix:
            method = "GET"  # a valid link POSTed is the other scenario
        path = f"/l/{tok}{suffix}"
        kind = f"link-{kind}"
    elif route == "health":
        path = draw(st.sampled_from(["/health", "/ready"]))
    else:
        path = PATHS[route]
        if "{}" in path:
            path = path.format(draw(SESSION))
    body, content_type = b"", None
    if method in {"POST", "PUT", "PATCH"}:
        body, content_type = encode_form(draw, draw(hostile_form()))
    return Sent(method, path + draw(QUERY), body, content_type, kind)


@st.composite
def valid_link(draw: st.DrawFn) -> tuple[Link, dict[str, list[str]], int]:
    """A link, the valid values its action takes (and junk fields), and how many POSTs."""
    action = draw(st.sampled_from(ALL_ACTIONS))
    extra: dict[str, Any] = {"nonce": draw(st.uuids()).hex, "session_id": "open"}
    if action == "unsubscribe":
        extra["audience"] = draw(st.sampled_from(["member", "interested", "expert"]))
    if action == "signup" and draw(st.booleans()):
        extra["last_name"] = None
    followed = link(action, **extra)
    printable = st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=300
    )
    fields: dict[str, list[str]] = {"junk": [draw(TEXT)[:500]]}  # ignored, bounded
    if action == "rate":
        fields["rating"] = [draw(st.sampled_from("12345"))]
        fields["comment"] = [draw(printable)]
    elif action == "question":
        fields["question"] = [draw(printable.filter(lambda t: t.strip())) + " ?"]
    elif action in {"expert_accept", "expert_decline"}:
        fields["note"] = [draw(printable)]
    elif action == "signup" and followed.last_name is None:
        fields["last_name"] = [draw(st.sampled_from(["Martin", "Lévêque", "N'Diaye", "Ó Briain"]))]
    if action == "unsubscribe" and draw(st.booleans()):
        fields = {"List-Unsubscribe": ["One-Click"]}
    return followed, fields, draw(st.integers(1, 3))


def draw_all(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples, the same on every run (derandomized)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn


# --- the scenario -------------------------------------------------------------------------


async def send(client: Any, request: Sent, failures: list[str], statuses: Counter[int]) -> None:
    headers = {"content-type": request.content_type} if request.content_type else {}
    try:
        response = await client.request(
            request.method, request.path, content=request.body, headers=headers
        )
    except Exception as error:
        failures.append(f"{request.kind} {request.method} {request.path[:80]!r}: {error!r}")
        return
    statuses[response.status_code] += 1
    if response.status_code >= 500:
        failures.append(
            f"{request.kind} {request.method} {request.path[:80]!r}: {response.status_code}"
        )


async def test_no_request_breaks_the_gateway_or_publishes_for_invalid_input(figures):
    world = World(capacity=2, per_hour=1000)
    await world.schedule("open")
    await world.schedule("full")
    await world.fill("full", 2)
    await world.schedule("past", days=-2)
    await world.cancel("gone")
    started = time.monotonic()
    hostile_requests = [r for pair in draw_all(hostile(world), HOSTILE_EXAMPLES) for r in pair]
    valid_links = draw_all(valid_link(), VALID_LINKS)
    drawn_in = time.monotonic() - started

    failures: list[str] = []
    statuses: Counter[int] = Counter()
    published_for_hostile: list[str] = []
    async with world.client() as client:
        for request in hostile_requests:
            before = len(world.published.emissions)
            await send(client, request, failures, statuses)
            if len(world.published.emissions) != before:
                published_for_hostile.append(f"{request.kind} {request.method} {request.path[:80]}")
        world.published.clear()
        posts = 0
        for followed, fields, times in valid_links:
            body = _urlencoded(fields)
            for _ in range(times):
                posts += 1
                await send(
                    client,
                    Sent(
                        "POST",
                        f"/l/{world.links.token(followed)}",
                        body,
                        "application/x-www-form-urlencoded",
                        f"valid-{followed.action}",
                    ),
                    failures,
                    statuses,
                )
    seconds = time.monotonic() - started

    distinct = {followed.event_id for followed, _, _ in valid_links}
    published_ids = [event.id for event in world.published.events]
    kinds = Counter(request.kind for request in hostile_requests)
    figures.record(
        "gateway_fuzz",
        requests=len(hostile_requests) + posts,
        hostile=len(hostile_requests),
        hostile_kinds=len(kinds),
        valid_link_posts=posts,
        valid_links=len(distinct),
        published_for_valid=len(published_ids),
        published_for_hostile=len(published_for_hostile),
        exceptions_or_5xx=len(failures),
        statuses=dict(sorted(statuses.items())),
        drawn_seconds=round(drawn_in, 1),
        seconds=round(seconds, 1),
    )
    assert published_for_hostile == [], published_for_hostile[:20]
    assert failures == [], failures[:20]
    assert published_for_hostile == [], published_for_hostile[:20]
    assert sorted(published_ids) == sorted(distinct)
    assert len(hostile_requests) >= 10_000
