"""HTML fragments (feed descriptions, Mastodon content, Telegram messages) reduced to plain text.

Rules: `<br>` is a line break, paragraphs and other blocks start new lines, entities are decoded,
runs of spaces collapse and at most one blank line survives. The contents of `script`, `style`,
`template` and `head` vanish (never shown to a reader); every other element is unwrapped: its
text and the text after it (its tail) are kept. That includes `iframe`, `object`, `embed`,
`applet`, `noscript`, `noframes` and `frameset`, whose content is the fallback a reader sees when
the embed is not shown (HTML 4.01 13.3.1 and 16.5; a feed reader runs no scripts and shows no
embeds), and unknown elements such as `blink`. Parsing uses lxml's HTML parser with the network
off; it never fetches anything.

How: one pass puts marker characters into the tree at block edges and after each <br>, lxml
joins the text in C, and a few regular expressions turn the markers into line breaks. This runs
once per feed item; it was about 1.5-2x faster than walking start/end events in Python.
"""

from __future__ import annotations

import copy
import functools
import html
import logging
import re
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from lxml import etree

log = logging.getLogger(__name__)

# Blocks separated by a blank line, as a browser would leave vertical space around them.
_PARAGRAPH_TAGS = (
    *("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "dl", "table"),
    *("figure", "hr"),
)
# Blocks that only start a new line.
_LINE_TAGS = (
    *("div", "li", "tr", "dt", "dd", "figcaption", "section", "article", "header", "footer"),
    *("aside", "nav", "address", "caption", "details", "summary", "main", "frameset"),
    *("x-noframes", "x-noembed", "noscript"),
)
# Inline boxes a browser draws between words: the words on either side stay apart.
_BOX_TAGS = frozenset(
    ("img", "x-iframe", "object", "embed", "applet", "frame", "video", "audio", "svg", "math")
)
# Elements whose content is never reader-visible text: code, styles, inert templates (HTML
# 4.12.3) and document metadata. Their tails are kept.
_DROPPED_TAGS = ("script", "style", "template", "head")
# libxml2 reads these as raw text, as HTML5 does, so an unclosed one would swallow the rest of
# the fragment and the markup inside shows as tags. Their content is fallback text for readers
# that show no frames or embeds; renamed, they parse as ordinary elements.
_RAW_FALLBACK = re.compile(r"<(/?)(iframe|noframes|noembed)(?=[\s/>])", re.IGNORECASE)

# Markers from Unicode's private use area (lxml refuses control characters in text). A fragment
# that brings its own has them removed first.
_LINE, _PARAGRAPH, _BR = "\ue000", "\ue001", "\ue002"
LINE_MARK, PARAGRAPH_MARK, BR_MARK = _LINE, _PARAGRAPH, _BR
_NO_MARKERS = str.maketrans("", "", _LINE + _PARAGRAPH + _BR)
_MARKERS = dict.fromkeys(_PARAGRAPH_TAGS, _PARAGRAPH) | dict.fromkeys(_LINE_TAGS, _LINE)
# Every horizontal space a browser would collapse, including NBSP and the typographic spaces.
# Each pattern leaves out a lone " ": replacing it by itself costs a match per word (issue 12).
_SPACE_CLASS = r"[ \t\f\v\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]"
_SPACES = re.compile(
    rf"(?: {_SPACE_CLASS}|[\t\f\v\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]){_SPACE_CLASS}*"
)
# A run of block boundaries, with the <br>s next to them, between two pieces of text.
_BOUNDARY = re.compile("[ \ue002]*[\ue000\ue001][ \ue000\ue001\ue002]*")
_LINE_EDGES = re.compile(r" \n ?|\n ")  # spaces are collapsed by then: at most one each side
_BLANK_LINES = re.compile(r"\n{3,}")
# A lone surrogate (JSON "\ud800") cannot be encoded: lxml would silently stop at it.
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 controls but tab, newline and carriage return, and the noncharacters U+FFFE/U+FFFF, raw or
# as numeric references: never text (XML 1.0 section 2.2), and lxml raises on them ("All strings
# must be XML compatible"), which would cost the whole post. Each becomes a space.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# HTML5 (and libxml2 since 2.14) reads a reference without its ";" too: "&#12<br>".
_NOT_TEXT_REF = re.compile(
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?:;|(?![0-9a-fA-F]))"
    r"|0*(?:[0-8]|1[12]|1[4-9]|2[0-9]|3[01]|6553[45])(?:;|(?![0-9])))"
)
# libxml2 gives up on HTML nested deeper than 255 elements and returns nothing at all (not even
# the text after the deep part). When lxml keeps less than this share of the visible text a
# plain estimate finds, the fragment is read again by the event parser, which has no depth.
_KEPT_AT_LEAST = 0.5
# What never shows: dropped elements, and a <title> (lxml puts it in the dropped <head>).
_UNSHOWN_TAGS = frozenset((*_DROPPED_TAGS, "title"))
_UNSHOWN = re.compile(
    r"<(script|style|template|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")
_PER_THREAD = threading.local()
# An absolute http(s) URL whose host is a plain name and whose port, if any, is in range.
_PLAIN_ABSOLUTE = re.compile(r"https?://[a-zA-Z0-9.-]+(?::[0-9]{1,4})?(?:[/?#].*)?", re.DOTALL)


def _c1_repairs() -> dict[int, str | None]:
    """C1 controls as the Windows-1252 characters they were meant to be.

    Bytes 0x80-0x9F of a feed declared ISO-8859-1 or US-ASCII decode to C1 controls, yet the
    WHATWG Encoding Standard maps both labels to windows-1252 because that is what such text
    is; HTML's numeric character references do the same (HTML "numeric character reference end
    state"). A C1 control is never text. The five code points windows-1252 leaves undefined
    (0x81, 0x8D, 0x8F, 0x90, 0x9D) are deleted.
    """
    repairs: dict[int, str | None] = {}
    for byte in range(0x80, 0xA0):
        char = bytes([byte]).decode("cp1252", "replace")
        repairs[byte] = None if char == "\ufffd" else char
    return repairs


_C1_REPAIRS = _c1_repairs()
_C1 = re.compile("[\x80-\x9f]")
# Everything `_repaired` changes, found in one pass: most text has none of it (issue 12).
_TO_REPAIR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\x9f\ud800-\udfff\ufffe\uffff]")


def _repaired(text: str) -> str:
    """C1 controls repaired and lone surrogates replaced (ASCII text has neither: str knows
    that without looking, and translate costs a dictionary lookup per character)."""
    if _TO_REPAIR.search(text) is None:
        return text
    if _NOT_TEXT.search(text):
        text = _NOT_TEXT.sub(" ", text)
    if text.isascii():
        return text
    if _C1.search(text):
        text = text.translate(_C1_REPAIRS)
    return _SURROGATES.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class Reduced:
    text: str
    image_url: str | None  # the first real <img src>, absolute when a base URL was given


def tidy_text(text: str) -> str:
    """Tidy plain text: C1 controls repaired, lone surrogates replaced, spaces collapsed per
    line, lines trimmed, at most one blank line."""
    text = _repaired(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    if "\n" in text:  # the checks are C-fast, the substitutions a pass each (issue 12)
        text = _LINE_EDGES.sub("\n", text)
        if "\n\n\n" in text:
            text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def tidy_line(text: str) -> str:
    """`tidy_text` made one line, every run of whitespace one space (a title, a name)."""
    return " ".join(_repaired(text).split())


def prepared_fragment(fragment: str) -> str:
    """The fragment with what is never text made a space and C1 controls repaired: the first
    step of `reduce_html`, and doing it twice changes nothing."""
    # Repaired before any whitespace rule runs: U+0085 (an ellipsis in windows-1252) is a space
    # to Python's regular expressions.
    fragment = _repaired(fragment)
    if "&#" in fragment:
        fragment = _NOT_TEXT_REF.sub(" ", fragment)
    return fragment


def marked_text(joined: str) -> str:
    """Text with the block and <br> markers (LINE_MARK, PARAGRAPH_MARK, BR_MARK) as line breaks,
    HTML's collapsible spaces collapsed."""
    # In HTML any whitespace run, newlines included, is one space; str.split knows NBSP and the
    # typographic spaces too, and the spaces it drops at either end would go at the end anyway.
    text = " ".join(joined.split())
    if _LINE in text or _PARAGRAPH in text:
        text = _BOUNDARY.sub(_boundary, text)
    return tidy_text(text.replace(_BR, "\n") if _BR in text else text)


def html_to_text(fragment: str) -> str:
    return reduce_html(fragment).text


def reduce_html(fragment: str, *, base_url: str | None = None) -> Reduced:
    """Reduce an HTML fragment to plain text and its first image."""
    fragment = prepared_fragment(fragment)
    if "<" not in fragment:
        # No markup at all: keep the author's line breaks, only decode entities. Feeds put plain
        # text in description/summary as often as HTML.
        return Reduced(tidy_text(html.unescape(fragment) if "&" in fragment else fragment), None)
    if _LINE in fragment or _PARAGRAPH in fragment or _BR in fragment:
        fragment = fragment.translate(_NO_MARKERS)
    if "<i" in fragment or "<n" in fragment or "<I" in fragment or "<N" in fragment:
        fragment = _RAW_FALLBACK.sub(r"<\1x-\2", fragment)
    root: etree._Element | None = etree.HTML(fragment, _html_parser())
    # First, before the text pass: lazy-loading pages keep the real image in <noscript>.
    image = _first_image(root, base_url) if root is not None else None
    text = _text(root) if root is not None else ""
    # The estimate costs three passes: only for texts much shorter than their markup.
    expected = _visible_estimate(fragment) if len(text) * 4 < len(fragment) else 0
    if expected and len("".join(text.split())) < _KEPT_AT_LEAST * expected:
        log.warning(
            "HTML that lxml could not read whole (nested too deep?): %d of about %d characters "
            "kept; read again with the tolerant parser",
            len(text),
            expected,
        )
        text = tolerant_text(fragment)
    return Reduced(text, image)


def _html_parser() -> etree.HTMLParser:
    """This thread's HTML parser: building one costs more than reading a short fragment, and
    lxml parsers must not be shared between threads (feeds are parsed in worker threads)."""
    parser: etree.HTMLParser | None = getattr(_PER_THREAD, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
        _PER_THREAD.parser = parser
    return parser


def _visible_estimate(fragment: str) -> int:
    """About how many non-space characters a reader sees in `fragment`: tags stripped."""
    return len("".join(html.unescape(_TAG.sub(" ", _UNSHOWN.sub(" ", fragment))).split()))


class _Collector(HTMLParser):
    """The same reduction as `_text`, from parser events: no tree, so no depth limit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _UNSHOWN_TAGS:
            self._skipping += 1
        elif tag == "br":
            self.parts.append(_BR)
        elif tag in _MARKERS:
            self.parts.append(_MARKERS[tag])
        elif tag in _BOX_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSHOWN_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _MARKERS:
            self.parts.append(_MARKERS[tag])

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def tolerant_text(fragment: str) -> str:
    """What `reduce_html` gives, from parser events instead of a tree: for HTML lxml cannot
    hold whole (nested past libxml2's depth limit)."""
    collector = _Collector()
    collector.feed(fragment)
    collector.close()
    return marked_text("".join(collector.parts))


def element_to_text(element: etree._Element) -> str:
    """Plain text of an already parsed HTML element (its tail excluded); the tree is not changed."""
    return _text(copy.deepcopy(element))


def resolve_link(url: str | None, base: str | None) -> str | None:
    """`url` made absolute against `base`; None when it is empty or no URL at all.

    urllib raises ValueError on some malformed URLs ("http://[::1", a bad port); such a link is
    unusable, and one bad link must not cost the post.
    """
    url = (url or "").strip()
    if not url:
        return None
    if not base and _PLAIN_ABSOLUTE.fullmatch(url):
        return url  # nothing to join, and a host urllib reads without a doubt
    return _resolved(url, base or None)


@functools.lru_cache(maxsize=4096)
def _resolved(url: str, base: str | None) -> str | None:
    # Cached: a feed repeats its links poll after poll, and one item resolves its link twice
    # (against xml:base, then the document's URL); urllib's parsing is a tenth of an item.
    try:
        absolute = urljoin(base, url) if base else url
        urlsplit(absolute).port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return absolute


def _text(root: etree._Element) -> str:
    """The element's text; marks the tree, so only for trees of our own."""
    dropped = False
    for el in root.iter():
        tag = el.tag
        marker = _MARKERS.get(tag) if isinstance(tag, str) else None
        if marker is not None:
            el.text = marker + (el.text or "")
            if el is not root:
                el.tail = marker + (el.tail or "")
            if tag == "pre":
                _keep_newlines(el)
        elif tag == "br":
            el.tail = _BR + (el.tail or "")
        elif tag in _BOX_TAGS:
            el.text = " " + (el.text or "")
            el.tail = " " + (el.tail or "")
        elif tag in _DROPPED_TAGS:
            dropped = True
    if dropped:
        # with_tail=False: the text after a dropped element stays.
        etree.strip_elements(root, *_DROPPED_TAGS, with_tail=False)
    return marked_text(etree.tostring(root, method="text", encoding="unicode", with_tail=False))


def _keep_newlines(pre: etree._Element) -> None:
    """Inside <pre>, newlines are line breaks, not collapsible space."""
    for node in pre.iter():
        if node.text:
            node.text = node.text.replace("\n", _BR)
        if node.tail and node is not pre:
            node.tail = node.tail.replace("\n", _BR)


def _boundary(match: re.Match[str]) -> str:
    # Adjacent blocks share one boundary, as in a browser: "</li><li>" is one line break, a
    # paragraph next to anything is a blank line, and <br>s before a block end are not doubled.
    run = match.group()
    wanted = 2 if _PARAGRAPH in run else 1
    return "\n" * max(wanted, run.count(_BR))


def _first_image(root: etree._Element, base_url: str | None) -> str | None:
    for img in root.iter("img"):
        src = (img.get("src") or "").strip()
        if not src or src.startswith("data:"):
            continue
        # 1x1 images are tracking pixels (FeedBurner, newsletters), not pictures.
        if img.get("width") == "1" or img.get("height") == "1":
            continue
        resolved = resolve_link(src, base_url)
        if resolved is not None:
            return resolved
    return None
