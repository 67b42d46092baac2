"""Signed one-click links: what an email offers to do, and to whom.

The notifications service makes them (`Links.url`), the gateway reads them
(`Links.read`): a link carries its action and the person it was sent to, signed with
LINK_SECRET (itsdangerous) and dated, so that it expires after LINK_TTL_DAYS. A changed
character is a bad signature; an unknown action is an unknown link. The request a link
makes gets an event id derived from its nonce: following it twice has one effect.

A link holds the recipient's own address (signed, not encrypted): it is only ever sent
to that address, and the gateway never logs paths.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, get_args

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from shared.clock import Clock, system_clock
from shared.contract.envelope import ID_NAMESPACE

Action = Literal[
    "confirm_signup",
    "confirm_interest",
    "signup",
    "cancel",
    "unsubscribe",
    "question",
    "rate",
    "expert_accept",
    "expert_decline",
]
ACTIONS: frozenset[str] = frozenset(get_args(Action))
Audience = Literal["member", "interested", "expert"]
"""Who an unsubscribe link unsubscribes: a member leaves the group, an interested person
leaves the interest list, an expert declines the sessions they were invited to."""

SALT = "caprural-link-v1"
PATH = "/l/"


@dataclass(frozen=True)
class Link:
    """What following a link does, for whom."""

    action: Action
    email: str
    nonce: str
    session_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organisation: str | None = None
    audience: Audience | None = None
    topic_ids: tuple[str, ...] = field(default=())

    @property
    def event_id(self) -> str:
        """The id of the event the link's request is published as (once per link)."""
        return str(uuid.uuid5(ID_NAMESPACE, f"link/{self.action}/{self.nonce}"))


@dataclass(frozen=True)
class BadLink:
    """Why a link cannot be followed."""

    reason: Literal["tampered", "expired", "unknown"]


def nonce_for(*parts: str) -> str:
    """A deterministic nonce: the same email, sent again, carries the same links."""
    return uuid.uuid5(ID_NAMESPACE, "/".join(("nonce", *parts))).hex


class Links:
    """Makes and reads the links of one deployment."""

    def __init__(
        self, *, secret: str, base_url: str, ttl_days: int, clock: Clock = system_clock
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ttl = timedelta(days=ttl_days)

        class Dated(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._clock = clock
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT, signer=Dated)

    def token(self, link: Link) -> str:
        """The signed, dated token of a link."""
        payload: dict[str, Any] = {"a": link.action, "e": link.email, "n": link.nonce}
        optional = {
            "s": link.session_id,
            "f": link.first_name,
            "l": link.last_name,
            "o": link.organisation,
            "u": link.audience,
            "t": list(link.topic_ids) or None,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        return str(self._serializer.dumps(payload))

    def url(self, link: Link) -> str:
        """The link as it goes in an email."""
        return f"{self.base_url}{PATH}{self.token(link)}"

    def read(self, token: str) -> Link | BadLink:
        """The link a token stands for, or why it cannot be followed."""
        try:
            payload = self._serializer.loads(token, max_age=int(self.ttl.total_seconds()))
        except SignatureExpired:
            return BadLink("expired")
        except BadSignature:
            return BadLink("tampered")
        if not isinstance(payload, dict) or payload.get("a") not in ACTIONS:
            return BadLink("unknown")
        texts = [payload.get(name) for name in ("s", "f", "l", "o", "u", "n")]
        topics = payload.get("t") or []
        if (
            not isinstance(payload.get("e"), str)
            or any(value is not None and not isinstance(value, str) for value in texts)
            or payload.get("u") not in (None, *get_args(Audience))
            or not isinstance(topics, list)
            or not all(isinstance(topic, str) for topic in topics)
        ):
            return BadLink("unknown")
        try:
            return Link(
                action=payload["a"],
                email=str(payload["e"]),
                nonce=str(payload["n"]),
                session_id=payload.get("s"),
                first_name=payload.get("f"),
                last_name=payload.get("l"),
                organisation=payload.get("o"),
                audience=payload.get("u"),
                topic_ids=tuple(payload.get("t") or ()),
            )
        except (KeyError, TypeError):
            return BadLink("unknown")
