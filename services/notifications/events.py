"""The events the notifications service emits: how each delivery ended."""

from __future__ import annotations

from services.notifications.domain import header_safe
from services.notifications.records import Delivery
from shared.contract.notifications import (
    NotificationFailed,
    NotificationFailedData,
    NotificationSent,
    NotificationSentData,
)

SOURCE = "urn:caprural:notifications"


def announcement(delivery: Delivery) -> NotificationSent | NotificationFailed | None:
    """The event that tells the platform how a delivery ended (None when nothing to say).

    Its id derives from the delivery's: announcing it again is the same event."""
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
