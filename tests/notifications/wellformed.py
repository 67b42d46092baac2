"""Is a rendered HTML email well-formed? Parsed strictly, as XML (XHTML syntax)."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def assert_well_formed(html: str) -> ET.Element:
    """Every tag closed and nested, attributes quoted, entities known; return the root."""
    body = html.split("<!DOCTYPE html>", 1)[-1]
    try:
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError as error:
        line = error.position[0]
        excerpt = body.splitlines()[line - 1] if line else ""
        raise AssertionError(f"HTML not well-formed: {error}: {excerpt!r}") from error
    return root
