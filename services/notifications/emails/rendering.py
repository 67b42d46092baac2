"""Rendering a letter for one recipient: Jinja2 templates, HTML autoescaped, plain text.

A missing variable, a template error or an empty body is a `RenderError` that names
the kind and the cause, never a silent empty email.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)
from markupsafe import Markup, escape

from services.notifications.domain import Recipient
from services.notifications.emails.letters import Letter
from shared.contract.notifications import EmailKind

TEMPLATES = Path(__file__).parent / "templates"
LINK_NAMES = ("unsubscribe", "cancel", "question", "signup", "confirm", "rate", "accept", "decline")
"""The one-click links a template may offer (shared/links.py makes them)."""
MAX_BODY_CHARS = 200_000


class RenderError(Exception):
    """An email could not be rendered (a bug in a template or in its context)."""


@dataclass(frozen=True)
class RenderedEmail:
    """The parts of one email, ready to be put into a MIME message."""

    kind: EmailKind
    subject: str
    text: str
    html: str
    calendar: bytes | None = None
    calendar_method: str | None = None
    unsubscribe: str | None = None
    """The one-click unsubscribe URL (List-Unsubscribe, RFC 8058), when there is one."""


def paragraphs(text: str) -> Markup:
    """Plain text as safe HTML: blank lines separate paragraphs, lines starting with "- ",
    "* " or "• " make a list; everything else is text, escaped (never raw HTML)."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        items = [line for line in lines if line[:2] in {"- ", "* ", "• "}]
        prose = [line for line in lines if line not in items]
        if prose:
            joined = Markup("<br />").join(escape(line) for line in prose)
            blocks.append(f'<p style="margin: 0 0 12px 0;">{joined}</p>')
        if items:
            listed = "".join(f"<li>{escape(item[2:].strip())}</li>" for item in items)
            blocks.append(f'<ul style="margin: 0 0 12px 0;">{listed}</ul>')
    return Markup("\n".join(blocks))  # noqa: S704 (every piece of text escaped above)


def environment(folder: Path = TEMPLATES) -> Environment:
    """Autoescape on .html, off on .txt; any undefined variable is an error."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["paragraphs"] = paragraphs
    return env


class Renderer:
    """Renders letters with one Jinja2 environment (templates compiled once)."""

    def __init__(self, env: Environment | None = None) -> None:
        self.env = env or environment()

    def check(self, kinds: list[EmailKind]) -> None:
        """Load every template now, so that a broken one stops the service at start."""
        for kind in kinds:
            for suffix in ("html", "txt"):
                try:
                    self.env.get_template(f"{kind}.{suffix}")
                except TemplateError as error:
                    raise RenderError(f"template {kind}.{suffix}: {error}") from error

    def render(
        self, letter: Letter, recipient: Recipient, links: Mapping[str, str] | None = None
    ) -> RenderedEmail:
        """The email of `letter` for `recipient`, with the one-click links made for them
        (`links.cancel`, `links.unsubscribe`...: absent ones are None)."""
        offered = dict.fromkeys(LINK_NAMES) | dict(links or {})
        context = {
            **letter.context,
            "subject": letter.subject,
            "recipient": recipient,
            "links": offered,
        }
        html = self._render(f"{letter.template}.html", context)
        text = self._render(f"{letter.template}.txt", context)
        calendar = letter.calendar
        return RenderedEmail(
            kind=letter.kind,
            subject=letter.subject,
            text=text,
            html=html,
            calendar=calendar.for_attendee(recipient) if calendar else None,
            calendar_method=calendar.method if calendar else None,
            unsubscribe=offered["unsubscribe"],
        )

    def _render(self, name: str, context: dict[str, object]) -> str:
        try:
            body = self.env.get_template(name).render(context)
        except TemplateError as error:
            raise RenderError(f"{name}: {type(error).__name__}: {error}") from error
        if not body.strip():
            raise RenderError(f"{name} rendered an empty body")
        if len(body) > MAX_BODY_CHARS:
            raise RenderError(f"{name} rendered {len(body)} characters (limit {MAX_BODY_CHARS})")
        return body
