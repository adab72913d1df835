"""Atom 1.0 (RFC 4287) and Atom 0.3 (draft-nottingham-atom-format-02) entries read with lxml.

Text comes from the title, content and summary, and from the Dublin Core, Media RSS and iTunes
fields an entry may carry (YouTube's feeds keep the video description in media:description).
The two versions spell content differently:
- 1.0: `type` is "text" (the default), "html", "xhtml" or a media type (RFC 4287 4.1.3.1); a
  media type that is neither XML nor text/* means base64 content (4.1.3.3 rule 6), and `src`
  means the content is elsewhere, with nothing to read here (4.1.3.2).
- 0.3: `type` is a media type ("text/plain" by default) and `mode` says how it is written:
  "xml" (the default: inline), "escaped" (markup as text) or "base64" (its "Content
  Constructs"); an entry may carry several content elements, alternatives of one another.
Dates: 1.0 published, else updated; 0.3 issued, else created, else modified.
"""

from __future__ import annotations

from lxml import etree

from bot.sources.feed_entry import Markup, RawEntry, is_image, read_each
from bot.sources.feed_fields import (
    ATOM,
    ATOM03,
    XML_LANG,
    decoded_base64,
    extensions,
    first_children,
    markup_of,
    media_image,
    text_of,
)
from bot.sources.html import resolve_link

_HTML_TYPES = frozenset({"html", "xhtml", "text/html", "application/xhtml+xml"})
_DATES = {ATOM: ("published", "updated"), ATOM03: ("issued", "created", "modified")}


def read_atom(root: etree._Element) -> list[RawEntry]:
    ns = ATOM03 if root.tag == ATOM03 + "feed" else ATOM
    feed_author = _author(root, ns)
    return read_each(
        root.iterchildren(ns + "entry"),
        lambda entry: _entry(entry, ns, feed_author),
        lambda entry: text_of(entry.find(ns + "id")),
    )


def _entry(entry: etree._Element, ns: str, feed_author: str | None) -> RawEntry:
    fields = first_children(entry)
    ext = extensions(entry, fields)
    title_el, content_el, summary_el = (fields.get(ns + name) for name in _TEXT_FIELDS)
    read = _construct_03 if ns == ATOM03 else _construct
    title = read(title_el)
    # 0.3 allows several content elements (alternatives, all read); 1.0 allows one.
    contents = entry.iterchildren(ns + "content") if ns == ATOM03 else (content_el,)
    bodies = [m for m in (*map(read, contents), read(summary_el)) if m is not None]
    bodies += ext.bodies
    if not bodies and ext.subtitle is not None:
        bodies.append(ext.subtitle)
    dates = (text_of(fields.get(ns + name)) for name in _DATES[ns])
    text_el = next((el for el in (content_el, summary_el) if el is not None), None)
    return RawEntry(
        guid=text_of(fields.get(ns + "id")),
        link=_link(entry, ns, "alternate"),
        titles=((title,) if title is not None else ()) + ext.titles,
        bodies=tuple(bodies),
        # RFC 4287 4.2.1: an entry without an author has the feed's.
        author=_author(entry, ns) or ext.author or feed_author,
        published=next((d for d in dates if d), None) or ext.published,
        lang=_lang(text_el if text_el is not None else title_el, entry),
        image_url=_image(entry, ns),
        base=(text_el if text_el is not None else entry).base,
    )


_TEXT_FIELDS = ("title", "content", "summary")


def _construct(el: etree._Element | None) -> Markup | None:
    """An Atom 1.0 text construct or atom:content."""
    if el is None or el.get("src"):
        return None
    kind = el.get("type", "text").strip().lower()
    if len(el) > 0 and kind in ("html", "text/html"):
        # "MUST NOT contain child elements" (RFC 4287 3.1.1.2), yet TypePad wraps escaped HTML
        # in an XHTML div: the text inside is the HTML.
        return _nonempty("".join(map(str, el.itertext())), is_html=True)
    if len(el) > 0:  # inline markup: xhtml, an XML media type, or HTML left unescaped
        return _nonempty(markup_of(el), is_html=True)
    if kind in _HTML_TYPES:
        return _nonempty(el.text, is_html=True)
    if kind == "text" or kind.startswith("text/") or kind.endswith(("+xml", "/xml")):
        return _nonempty(el.text, is_html=False)
    return _nonempty(decoded_base64(el.text), is_html=False)


def _construct_03(el: etree._Element | None) -> Markup | None:
    """An Atom 0.3 content construct."""
    if el is None:
        return None
    kind = el.get("type", "text/plain").strip().lower()
    mode = el.get("mode", "xml").strip().lower()
    if mode == "base64":
        return _nonempty(decoded_base64(el.text), is_html=kind in _HTML_TYPES)
    if len(el) > 0:
        return _nonempty(markup_of(el), is_html=True)
    return _nonempty(el.text, is_html=kind == "text/html" or (mode == "escaped" and "html" in kind))


def _nonempty(value: str | None, *, is_html: bool) -> Markup | None:
    return Markup(value, is_html=is_html) if value and value.strip() else None


def _link(entry: etree._Element, ns: str, rel: str) -> str | None:
    # RFC 4287 4.2.7.2: a link without rel is rel="alternate".
    for link in entry.iterchildren(ns + "link"):
        if link.get("rel", "alternate") == rel and link.get("href"):
            return resolve_link(link.get("href"), link.base)
    return None


def _image(entry: etree._Element, ns: str) -> str | None:
    for link in entry.iterchildren(ns + "link"):
        if link.get("rel") == "enclosure" and is_image(link.get("href"), link.get("type")):
            return resolve_link(link.get("href"), link.base)
    return media_image(entry)


def _author(parent: etree._Element, ns: str) -> str | None:
    author = parent.find(ns + "author")
    return text_of(author.find(ns + "name")) if author is not None else None


def _lang(el: etree._Element | None, entry: etree._Element) -> str | None:
    """xml:lang of the element or its nearest ancestor that has one (XML 1.0 2.12)."""
    start = el if el is not None else entry
    for node in (start, *start.iterancestors()):
        value = node.get(XML_LANG)
        if value and value.strip():
            return value.strip()
    return None
