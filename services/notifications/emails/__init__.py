"""From a delivery to the bytes of its email: the one entry point is `Composer.compose`.

Inside: `letters` (what each kind of email says, from the cause's data), `rendering`
(Jinja2, HTML autoescaped, plain text), `ics` (the calendar invitation), `mime` (the
message on the wire), `french` (dates). The letter (subject, context, calendar) is made
once per content and shared by every delivery of a fan-out; only the greeting and the
calendar's ATTENDEE differ per recipient.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from pydantic import ValidationError

from services.notifications.domain import SESSION_KINDS, SIGNUP_KINDS, Deferred, Refused, Skipped
from services.notifications.emails.letters import Letter, LetterError, letter_for, parse_cause
from services.notifications.emails.mime import build_message
from services.notifications.emails.offers import offered_links
from services.notifications.emails.rendering import Renderer, RenderError
from services.notifications.records import Content, Delivery, SessionVersion
from shared.clock import Clock
from shared.links import Links

logger = logging.getLogger(__name__)

NOT_AFTER_CANCELLATION = (SESSION_KINDS | SIGNUP_KINDS) - {"session_cancellation"}
_LETTERS_KEPT = 64

Composed = bytes | Refused | Deferred | Skipped
"""The message, or why it is not sent: never (Refused), not yet (Deferred), on purpose
(Skipped)."""


class Composer:
    """Makes the messages of deliveries (templates loaded once, letters kept per content)."""

    def __init__(
        self,
        *,
        mail_from: str,
        clock: Clock,
        links: Links,
        renderer: Renderer | None = None,
    ) -> None:
        self.mail_from = mail_from
        self.clock = clock
        self.links = links
        self.renderer = renderer or Renderer()
        self._letters: OrderedDict[tuple[str, int | None], Letter | Composed] = OrderedDict()

    def compose(
        self, delivery: Delivery, content: Content | None, session: SessionVersion | None
    ) -> tuple[Composed, str | None]:
        """The message for the delivery's recipient, and its subject once known."""
        letter = self._letter(delivery, content, session)
        if not isinstance(letter, Letter):
            return letter, None
        if delivery.recipient is None or content is None:
            return Refused("destinataire effacé"), letter.subject
        try:
            links = offered_links(delivery, content, self.links)
            email = self.renderer.render(letter, delivery.recipient, links)
            message = build_message(
                email,
                mail_from=self.mail_from,
                recipient=delivery.recipient,
                delivery_id=delivery.delivery_id,
                date=self.clock(),
            )
        except (RenderError, ValueError) as error:
            logger.error("cannot render %s for %s: %s", delivery.kind, delivery.cause_id, error)
            return Refused(f"rendu impossible : {error}"[:500]), letter.subject
        return message, letter.subject

    def _letter(
        self, delivery: Delivery, content: Content | None, session: SessionVersion | None
    ) -> Letter | Composed:
        if content is None:
            return Refused("contenu introuvable (effacé ?)")
        if session and session.cancelled and delivery.kind in NOT_AFTER_CANCELLATION:
            return Skipped("séance annulée entre-temps")
        key = (content.content_id, session.sequence if session else None)
        if key not in self._letters:
            self._letters[key] = self._make(delivery, content, session)
            if len(self._letters) > _LETTERS_KEPT:
                self._letters.popitem(last=False)
        return self._letters[key]

    def _make(
        self, delivery: Delivery, content: Content, session: SessionVersion | None
    ) -> Letter | Composed:
        snapshot = content.session
        if delivery.kind in SIGNUP_KINDS:
            if session is None:
                return Deferred("séance pas encore connue du service")
            snapshot = session.data  # the session as now known, not as when signed up
        try:
            cause = parse_cause(
                delivery.kind,
                content.data,
                time=content.cause_time,
                organizer=self.mail_from,
                session=snapshot,
                places=content.places,
            )
            return letter_for(cause)
        except (LetterError, ValidationError) as error:
            logger.error("cannot make %s from %s: %s", delivery.kind, delivery.cause_id, error)
            return Refused(f"contenu inutilisable : {error}"[:500])
