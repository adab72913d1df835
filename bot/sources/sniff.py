"""Recognising what a server sent instead of what we asked for.

Cloudflare challenges, login walls and error pages arrive with status 200 often enough that
every adapter must say "got an HTML page titled 'Just a moment...'" rather than parse nothing.
"""

from __future__ import annotations

import html
import json
import re

from bot.errors import ParseError

UTF8_BOM = b"\xef\xbb\xbf"
_HTML_START = re.compile(
    rb"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})</title>", re.IGNORECASE)
# XML 1.0 Appendix F: how "<?xml" or a byte order mark starts a document in UTF-16 and UTF-32
# (either byte order, with or without a BOM) and in EBCDIC.
_XML_SIGNATURES = (
    *(b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff"),
    *(b"\x00\x00\x00<", b"<\x00\x00\x00", b"\x00<\x00?", b"<\x00?\x00", b"\x4c\x6f\xa7\x94"),
)


def body_start(body: bytes) -> bytes:
    """The first bytes of a body with leading whitespace and a UTF-8 BOM removed."""
    start = body[:1024].lstrip()
    if start.startswith(UTF8_BOM):
        start = start[len(UTF8_BOM) :].lstrip()
    return start


def has_xml_signature(body: bytes) -> bool:
    """Whether the body starts like XML in an encoding that is not ASCII-compatible."""
    return body.startswith(_XML_SIGNATURES)


def looks_like_html(body: bytes) -> bool:
    return _HTML_START.match(body_start(body)) is not None


def describe_html(body: bytes) -> str:
    """'an HTML page titled ...': the title is the best hint why (Cloudflare, sign-in, 404)."""
    match = _HTML_TITLE.search(body[:8192])
    if match is None:
        return "an HTML page"
    title = " ".join(html.unescape(match[1].decode("utf-8", "replace")).split())
    return f"an HTML page titled {title!r}"


def describe_junk(body: bytes) -> str:
    if not body_start(body):
        return "an empty body"
    if looks_like_html(body):
        return describe_html(body)
    preview = body_start(body)[:60].decode("utf-8", "replace")
    return f"a body starting {preview!r}"


def load_json(body: bytes, expected: str) -> object:
    """Decode a JSON answer, or raise ParseError saying what arrived instead of `expected`."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." nested too deep
        raise ParseError(f"expected {expected}, got {describe_junk(body)}") from exc
