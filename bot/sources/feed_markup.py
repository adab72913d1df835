"""Feed text fields reduced to plain text, the common shapes without building an HTML tree.

Most feed HTML is paragraphs, line breaks, lists and inline formatting (issue 12: the lxml HTML
parser, one per field, was most of the cost of a feed item). Such a fragment is read here
with one split on its tags, and gives the text `reduce_html` gives: the same markers at the
same block edges, then the same `marked_text`. Anything else (another element, an attribute
spelled some other way, a stray "<", a misnested or unclosed element, a block where libxml2
would close one implicitly) goes to `reduce_html` and its tree.

The text between tags is decoded by `html.unescape`, HTML5's character reference rules; libxml2
follows the same rules since 2.14, so on an older libxml2 every fragment takes the tree path.
tests/test_feeds_fast.py holds the two paths to the same text on generated fragments
(and at 2.14.6 here a random-fragment run found no difference in ~60,000 shortcut readings).
"""

from __future__ import annotations

import html
import re

from lxml import etree

from bot.sources.html import (
    BR_MARK,
    LINE_MARK,
    PARAGRAPH_MARK,
    Reduced,
    marked_text,
    prepared_fragment,
    reduce_html,
    tidy_line,
    tidy_text,
)

_ENABLED = etree.LIBXML_VERSION >= (2, 14)
_SPLIT = re.compile(r"<([^<>]*)>")
_SPACE = " \t\n\f\r"  # HTML's whitespace; str.isspace knows more
# An attribute as HTML's tokenizer reads it: a name, then maybe "=" and a value, quoted or not.
_ATTRIBUTE = (
    r"[ \t\n\f\r]+[a-zA-Z_:][-a-zA-Z0-9_:.]*"
    r"(?:[ \t\n\f\r]*=[ \t\n\f\r]*(?:\"[^\"]*\"|'[^']*'|[^ \t\n\f\r\"'=`]+))?"
)
_START = re.compile(rf"([a-zA-Z][a-zA-Z0-9]*)(?:{_ATTRIBUTE})*[ \t\n\f\r]*(/?)")
_END = re.compile(r"/([a-zA-Z][a-zA-Z0-9]*)[ \t\n\f\r]*")
# Phrasing elements libxml2 keeps the spaces between (its allowPCData list).
_INLINE = frozenset(
    "a abbr acronym b bdo big cite code del dfn em font i ins q s samp small span strike strong"
    " tt u var".split()
)
_FLOW = frozenset(("div", "blockquote", "li"))  # may hold blocks and text
_TEXT_BLOCKS = frozenset(("p", "h1", "h2", "h3", "h4", "h5", "h6"))  # text and inline only
_LISTS = frozenset(("ul", "ol"))  # list items only
_MARKS = {
    **dict.fromkeys(("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"), PARAGRAPH_MARK),
    **dict.fromkeys(("ul", "ol"), PARAGRAPH_MARK),
    **dict.fromkeys(("div", "li"), LINE_MARK),
}
_MARK_SET = frozenset((LINE_MARK, PARAGRAPH_MARK, BR_MARK))
_MAX_DEPTH = 100  # libxml2 stops at 255 levels; the tree path knows what to do then


def reduce_feed_html(fragment: str, base_url: str | None) -> Reduced:
    """`reduce_html(fragment, base_url=base_url)`, without a tree when the markup allows."""
    prepared = prepared_fragment(fragment)
    if "<" not in prepared:  # reduce_html's plain-text branch, without preparing it again
        return Reduced(tidy_text(html.unescape(prepared) if "&" in prepared else prepared), None)
    text = simple_markup_text(prepared)
    if text is not None:
        return Reduced(text, None)
    return reduce_html(prepared, base_url=base_url)  # preparing twice changes nothing


def title_line(fragment: str) -> str:
    """A title field as one line: `reduce_feed_html`'s text, every whitespace run one space."""
    prepared = prepared_fragment(fragment)
    if "<" not in prepared:
        if "&#" in prepared:  # see simple_markup_text
            return tidy_line(html.unescape(prepared))
        return " ".join((html.unescape(prepared) if "&" in prepared else prepared).split())
    return " ".join(reduce_feed_html(prepared, None).text.split())


class _NotSimple(Exception):
    """The fragment is not in the simple shapes: the tree must read it."""


def simple_markup_text(fragment: str) -> str | None:
    """The text of a prepared fragment in the simple shapes (module doc), else None.

    A prepared fragment has nothing `tidy_text` would repair, and its text keeps it that way
    unless a numeric reference decodes to something."""
    if not _ENABLED or LINE_MARK in fragment or PARAGRAPH_MARK in fragment or BR_MARK in fragment:
        return None
    try:
        parts, numeric = _read(fragment)
    except _NotSimple:
        return None
    if len(parts) == 3 and parts[0] == parts[2] == PARAGRAPH_MARK and parts[1] not in _MARK_SET:
        # The commonest shape, one paragraph: its marks only frame the text (`marked_text`
        # would make them line breaks at either end, and strip those).
        return tidy_line(parts[1]) if numeric else " ".join(parts[1].split())
    return marked_text("".join(parts))


def _read(fragment: str) -> tuple[list[str], bool]:
    """The fragment's text pieces and marks, and whether a numeric reference was decoded."""
    parts: list[str] = []
    stack: list[str] = []
    numeric = False
    for index, piece in enumerate(_SPLIT.split(fragment)):
        if index % 2:
            mark = _tag(piece, stack)
            if mark is not None:
                parts.append(mark)
            continue
        if "<" in piece or (stack and stack[-1] in _LISTS and piece.strip(_SPACE)):
            raise _NotSimple
        if "&" in piece:
            # Only a numeric reference decodes to a mark ("&#xe000;"), which the tree path
            # reads as one, or to a C1 control `tidy_line` must repair (HTML5 leaves five).
            has_number = "&#" in piece
            text = html.unescape(piece)
            if has_number and (LINE_MARK in text or PARAGRAPH_MARK in text or BR_MARK in text):
                raise _NotSimple
            numeric |= has_number
            parts.append(text)
        elif piece:
            parts.append(piece)
    if stack:
        raise _NotSimple
    return parts, numeric


def _tag(piece: str, stack: list[str]) -> str | None:
    """The mark a tag (the text between "<" and ">") puts in the text; `stack` follows it."""
    if piece[:1] == "/":
        end = _END.fullmatch(piece)
        if end is None or not stack or stack[-1] != end[1].lower():
            raise _NotSimple
        return _MARKS.get(stack.pop())
    start = _START.fullmatch(piece)
    if start is None:
        raise _NotSimple
    name, closed = start[1].lower(), start[2]
    top = stack[-1] if stack else None
    if name == "br" and top not in _LISTS:
        return BR_MARK
    if closed or len(stack) >= _MAX_DEPTH or not _may_open(name, top):
        raise _NotSimple
    stack.append(name)
    return _MARKS.get(name)


def _may_open(name: str, top: str | None) -> bool:
    """Whether libxml2 opens `name` inside `top` as written (no implied end tag)."""
    if name in _INLINE:
        return top not in _LISTS
    if name == "li":
        return top in _LISTS
    if name in _TEXT_BLOCKS or name in _FLOW or name in _LISTS:
        return top is None or top in _FLOW
    return False
