"""From a claimed delivery to the bytes that go on the wire (or why it will not go).

The letter (subject, context, calendar) is made once per content and shared by every
delivery of a fan-out; only the greeting and the ATTENDEE differ per recipient.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.notifications.domain import SESSION_KINDS, SIGNUP_KINDS, Deferred, Refused, Skipped
from services.notifications.letters import Letter, LetterError, letter_for, parse_cause
from services.notifications.mime import build_message
from services.notifications.outbox import Delivery
from services.notifications.rendering import Renderer, RenderError

logger = logging.getLogger(__name__)

NOT_AFTER_CANCELLATION = (SESSION_KINDS | SIGNUP_KINDS) - {"session_cancellation"}


class Composer:
    """Makes letters and messages for the sender."""

    def __init__(
        self, *, renderer: Renderer, mail_from: str, clock: Callable[[], datetime]
    ) -> None:
        self.renderer = renderer
        self.mail_from = mail_from
        self.clock = clock

    def letter(
        self, delivery: Delivery, content: dict[str, Any] | None, sessions: dict[str, Any]
    ) -> Letter | Refused | Deferred | Skipped:
        """The letter of a delivery's content, with the session as now known if needed."""
        if content is None:
            return Refused("contenu introuvable (effacé ?)")
        known = sessions.get(delivery.session_id or "")
        if known and known.get("cancelled") and delivery.kind in NOT_AFTER_CANCELLATION:
            return Skipped("séance annulée entre-temps")
        session = content.get("session")
        if delivery.kind in SIGNUP_KINDS:
            if known is None:
                return Deferred("séance pas encore connue du service")
            session = known["data"]
        try:
            cause = parse_cause(
                delivery.kind,
                content["data"],
                time=content["cause_time"],
                organizer=self.mail_from,
                session=session,
            )
            return letter_for(cause)
        except (LetterError, ValidationError) as error:
            logger.error("cannot make %s from %s: %s", delivery.kind, delivery.cause_id, error)
            return Refused(f"contenu inutilisable : {error}"[:500])

    def message(self, delivery: Delivery, letter: Letter) -> bytes | Refused:
        """The message for the delivery's recipient."""
        if delivery.recipient is None:
            return Refused("destinataire effacé")
        try:
            email = self.renderer.render(letter, delivery.recipient)
            return build_message(
                email,
                mail_from=self.mail_from,
                recipient=delivery.recipient,
                delivery_id=delivery.delivery_id,
                date=self.clock(),
            )
        except (RenderError, ValueError) as error:
            logger.error("cannot render %s for %s: %s", delivery.kind, delivery.cause_id, error)
            return Refused(f"rendu impossible : {error}"[:500])
