"""Which one-click links each email offers its recipient (signed, shared/links.py).

A link names the recipient and the session; its nonce derives from the delivery, so the
same email sent again carries links that make the same requests (one effect).
"""

from __future__ import annotations

from typing import Any

from services.notifications.records import Content, Delivery
from shared.contract.notifications import EmailKind
from shared.links import Action, Link, Links, nonce_for

QUESTION: frozenset[EmailKind] = frozenset({"session_invitation", "session_update", "reminder"})
"""Emails to members and participants before a session: bring a question or a case."""
CANCEL: frozenset[EmailKind] = frozenset(
    {"signup_confirmation", "signup_waitlist", "signup_promotion", "session_update", "reminder"}
)
"""Emails about a person's own place (to participants): give it up in one click."""


def offered_links(delivery: Delivery, content: Content, links: Links) -> dict[str, str]:
    """The links of this delivery's email, by the name templates know them by."""
    person = delivery.recipient
    if person is None:
        return {}
    offered: dict[str, str] = {}

    def offer(name: str, action: Action, **fields: Any) -> None:
        nonce = nonce_for(delivery.delivery_id, action)
        link = Link(action=action, email=person.email, nonce=nonce, **fields)
        offered[name] = links.url(link)

    session = delivery.session_id
    if person.audience is not None:
        offer("unsubscribe", "unsubscribe", audience=person.audience, session_id=session)
    kind = delivery.kind
    if kind in QUESTION and session and person.audience in (None, "member"):
        offer("question", "question", session_id=session)
    if kind in CANCEL and session and person.audience is None:
        offer("cancel", "cancel", session_id=session)
    if kind == "expert_invitation" and session:
        offer("accept", "expert_accept", session_id=session)
        offer("decline", "expert_decline", session_id=session)
    if kind == "expert_confirmation" and session:
        offer("decline", "expert_decline", session_id=session)
    if kind == "thanks" and session:
        offer("rate", "rate", session_id=session)
    if kind == "session_announcement" and session:
        names = {"first_name": person.first_name, "last_name": person.last_name}
        offer("signup", "signup", session_id=session, **names)
    if kind == "confirmation_link":
        data = content.data
        fields = {
            "first_name": data.get("first_name"),
            "last_name": data.get("last_name"),
            "organisation": data.get("organisation"),
        }
        if data.get("purpose") == "signup":
            offer("confirm", "confirm_signup", session_id=data.get("session_id"), **fields)
        else:
            offer(
                "confirm", "confirm_interest", topic_ids=tuple(data.get("topic_ids", ())), **fields
            )
    return offered
