"""What a handler decides to send (a `Dispatch`) and what the sender works on (a `Delivery`).

Pure: the documents are built here and stored by the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.notifications.domain import (
    Recipient,
    address_problem,
    content_id,
    delivery_id,
    header_safe,
    unique_recipients,
)
from shared.contract.notifications import (
    EmailKind,
    NotificationFailed,
    NotificationFailedData,
    NotificationSent,
    NotificationSentData,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dispatch:
    """One kind of email for one cause, to some recipients."""

    kind: EmailKind
    cause_id: str
    cause_type: str
    cause_time: datetime
    data: dict[str, Any]
    recipients: tuple[Recipient, ...]
    session_id: str | None = None
    session: dict[str, Any] | None = None
    personal_keys: tuple[str, ...] = ()
    erase_after_send: bool = False

    @property
    def content_id(self) -> str:
        """What every recipient of this dispatch shares."""
        return content_id(cause_id=self.cause_id, kind=self.kind)


@dataclass(frozen=True)
class SessionVersion:
    """The latest known version of a session, and the event that announced it."""

    session_id: str
    sequence: int
    starts_at: datetime
    data: dict[str, Any]
    event_id: str
    event_type: str
    event_time: datetime


@dataclass(frozen=True)
class Delivery:
    """One email to one recipient, as the sender sees it."""

    delivery_id: str
    cause_id: str
    cause_type: str
    kind: EmailKind
    content_id: str
    recipient: Recipient | None
    recipient_key: str
    status: str
    attempts: int = 0
    session_id: str | None = None
    subject: str | None = None
    error: str | None = None
    finished_at: datetime | None = None
    erase_after_send: bool = False
    batch: str | None = None
    claim: str | None = None

    @property
    def recipient_address(self) -> str:
        """Where the email goes (empty once erased)."""
        return self.recipient.email if self.recipient else ""

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Delivery:
        """From its stored document."""
        person = doc.get("recipient")
        return cls(
            delivery_id=doc["_id"],
            cause_id=doc["cause_id"],
            cause_type=doc["cause_type"],
            kind=doc["kind"],
            content_id=doc["content_id"],
            recipient=Recipient(person["email"], person.get("first_name"), person.get("last_name"))
            if person
            else None,
            recipient_key=doc["recipient_key"],
            status=doc["status"],
            attempts=doc.get("attempts", 0),
            session_id=doc.get("session_id"),
            subject=doc.get("subject"),
            error=doc.get("error"),
            finished_at=doc.get("finished_at"),
            erase_after_send=doc.get("erase_after_send", False),
            batch=doc.get("batch"),
            claim=doc.get("claim"),
        )


def delivery_docs(
    dispatch: Dispatch, *, now: datetime, chunk: int = 100, batch: str = "", order: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The content document and one pending delivery per recipient (failed at once when
    the address cannot be sent to), in chunks of `chunk` that a sender claims whole.

    `batch` names this dispatch's chunks (unique per stored dispatch, so that another
    dispatch of the same content never joins them); `order` is where the dispatch
    stands in the order decided, kept by the sender among deliveries due together.
    """
    content: dict[str, Any] = {
        "_id": dispatch.content_id,
        "kind": dispatch.kind,
        "cause_id": dispatch.cause_id,
        "cause_type": dispatch.cause_type,
        "cause_time": dispatch.cause_time,
        "data": dispatch.data,
        "session": dispatch.session,
        "keys": sorted(set(dispatch.personal_keys)),
        "created_at": now,
    }
    deliveries = []
    for index, recipient in enumerate(unique_recipients(dispatch.recipients)):
        problem = address_problem(recipient.email)
        doc: dict[str, Any] = {
            "_id": delivery_id(
                cause_id=dispatch.cause_id, recipient_key=recipient.key, kind=dispatch.kind
            ),
            "cause_id": dispatch.cause_id,
            "cause_type": dispatch.cause_type,
            "kind": dispatch.kind,
            "content_id": dispatch.content_id,
            "batch": f"{batch or dispatch.content_id}/{index // chunk}",
            "order": order + index,
            "session_id": dispatch.session_id,
            "recipient": {
                "email": recipient.email,
                "first_name": recipient.first_name,
                "last_name": recipient.last_name,
            },
            "recipient_key": recipient.key,
            "status": "failed" if problem else "pending",
            "error": problem,
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": EPOCH,
            "lease_owner": None,
            "created_at": now,
            "finished_at": now if problem else None,
            "announced": False,
            "erase_after_send": dispatch.erase_after_send,
        }
        if problem:
            doc["owed"] = True  # its notification_failed is still to be published
        if dispatch.erase_after_send:
            doc["scrub"] = True  # the address goes once the delivery is settled
        deliveries.append(doc)
    return content, deliveries


SOURCE = "urn:caprural:notifications"


def announcement(delivery: Delivery) -> NotificationSent | NotificationFailed | None:
    """The event that tells the platform how a delivery ended (None when nothing to say)."""
    if delivery.recipient is None or delivery.finished_at is None:
        return None
    common = {
        "delivery_id": delivery.delivery_id,
        "cause_id": delivery.cause_id,
        "cause_type": delivery.cause_type,
        "kind": delivery.kind,
        "recipient": delivery.recipient.email,
    }
    if delivery.status == "sent":
        sent = NotificationSentData(
            **common, subject=delivery.subject or delivery.kind, sent_at=delivery.finished_at
        )
        return NotificationSent.create(
            sent,
            source=SOURCE,
            subject=delivery.delivery_id,
            cause_id=delivery.delivery_id,
            time=delivery.finished_at,
        )
    if delivery.status == "failed":
        failed = NotificationFailedData(
            **common,
            error=header_safe(delivery.error or "échec", limit=500),
            failed_at=delivery.finished_at,
        )
        return NotificationFailed.create(
            failed,
            source=SOURCE,
            subject=delivery.delivery_id,
            cause_id=delivery.delivery_id,
            time=delivery.finished_at,
        )
    return None
