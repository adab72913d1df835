"""Fields out of lxml feed elements: namespaces, text, inline markup and the extension modules
(Dublin Core, Media RSS, iTunes) that RSS items and Atom entries share.

Shared by the RSS/RDF/CDF reader (feed_xml) and the Atom reader (feed_atom).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import html
from dataclasses import dataclass

from lxml import etree

from bot.sources.feed_entry import Markup, is_image
from bot.sources.html import resolve_link

ATOM = "{http://www.w3.org/2005/Atom}"
ATOM03 = "{http://purl.org/atom/ns#}"
RSS10 = "{http://purl.org/rss/1.0/}"
RSS090 = "{http://my.netscape.com/rdf/simple/0.9/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
MEDIA = "{http://search.yahoo.com/mrss/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
# Apple's podcast tags. Its documentation writes the namespace in lower case; feeds in the
# wild also write ".../DTDs/Podcast-1.0.dtd", which names the same thing, so both are read.
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# HTML's void elements (13.1.2): they have no end tag, so "<br/>" is the whole element.
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr frame keygen".split()
)


@dataclass(frozen=True, slots=True)
class Extensions:
    """What the extension modules add to an item or entry."""

    titles: tuple[Markup, ...] = ()
    bodies: tuple[Markup, ...] = ()
    subtitle: Markup | None = None  # itunes:subtitle: used only when no other text exists
    author: str | None = None
    published: str | None = None


def first_children(parent: etree._Element) -> dict[str, etree._Element]:
    """The first child of each tag; the iTunes namespace under one spelling."""
    fields: dict[str, etree._Element] = {}
    for child in parent:
        tag: object = child.tag
        if not isinstance(tag, str):
            continue  # an entity reference or comment left in the tree
        if tag[:1] == "{" and tag[: len(ITUNES)].lower() == ITUNES:
            tag = ITUNES + tag[len(ITUNES) :]
        fields.setdefault(tag, child)
    return fields


def text_of(el: etree._Element | None) -> str | None:
    """The element's own text, stripped: for ids, links, names and dates."""
    if el is None or not el.text:
        return None
    return el.text.strip() or None


def markup_of(el: etree._Element | None) -> str | None:
    """The element's content as HTML markup.

    Without child elements the text is the markup (RSS escapes HTML into it); with children
    (inline XHTML, unescaped HTML) the text is escaped and the children are written back,
    namespaces dropped, as markup an HTML parser reads into the same tree: every end tag
    written (lxml's HTML writer leaves out optional ones such as </li>, which moves the text
    after them) and an empty element written <x></x>, for an <iframe/> would open an element
    that swallows the rest (only void elements may close themselves, HTML 13.1.2.1).
    """
    if el is None:
        return None
    if len(el) == 0:
        return el.text
    children = list(el)
    prefix = el.text or ""
    if len(children) == 1 and children[0].tag == XHTML + "div" and not prefix.strip():
        # RFC 4287 4.1.3.3: xhtml content is wrapped in one div that is not part of it.
        prefix = children[0].text or ""
        children = list(children[0])
    return html.escape(prefix, quote=False) + "".join(_as_html(child) for child in children)


def _as_html(el: etree._Element) -> str:
    tag: object = el.tag
    if not isinstance(tag, str):  # a comment or PI: only its tail is text
        return html.escape(el.tail or "", quote=False)
    plain = copy.deepcopy(el)
    plain.tail = el.tail
    for node in plain.iter():
        name: object = node.tag
        if not isinstance(name, str):
            continue
        if name.startswith("{"):
            node.tag = name = etree.QName(node).localname
        if node.text is None and len(node) == 0 and name.lower() not in _VOID:
            node.text = ""  # written <x></x>
    etree.cleanup_namespaces(plain)
    return etree.tostring(plain, encoding="unicode", with_tail=True)


def decoded_base64(value: str | None) -> str | None:
    """Base64 content (Atom 0.3 mode="base64", Atom 1.0 non-text types) as text, when it is.

    Bytes that are not UTF-8, or decode to control characters, are a binary payload (an image)
    with no words to keep.
    """
    if not value:
        return None
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if any(ord(char) < 32 and char not in "\t\n\r" for char in text):
        return None
    return text


_TEXT_FIELDS = frozenset(
    (DC + "title", DC + "description", ITUNES + "title", ITUNES + "summary", ITUNES + "subtitle")
)
_ANY_MEDIA = MEDIA + "*"


def extensions(item: etree._Element, fields: dict[str, etree._Element]) -> Extensions:
    """Dublin Core, Media RSS and iTunes fields of an RSS item or Atom entry."""
    if fields.keys().isdisjoint(_TEXT_FIELDS) and next(item.iter(_ANY_MEDIA), None) is None:
        # The common item: at most an author or a date from these modules (issue 12).
        author = text_of(fields.get(DC + "creator")) or text_of(fields.get(ITUNES + "author"))
        published = text_of(fields.get(DC + "date"))
        return _plain_extensions(author, published)
    titles = [Markup(v) for v in [markup_of(fields.get(DC + "title"))] if v]
    bodies = [Markup(v) for v in [markup_of(fields.get(DC + "description"))] if v]
    # Media RSS 2.1: media:title and media:description sit in the item, in media:group or in
    # media:content; type="plain" (the default) or "html".
    media_titles, media_bodies = _media_texts(item)
    titles += media_titles
    bodies += media_bodies
    if itunes_title := text_of(fields.get(ITUNES + "title")):
        titles.append(Markup(itunes_title, is_html=False))
    if summary := markup_of(fields.get(ITUNES + "summary")):
        bodies.append(Markup(summary))
    subtitle = markup_of(fields.get(ITUNES + "subtitle"))
    return Extensions(
        titles=tuple(titles),
        bodies=tuple(bodies),
        subtitle=Markup(subtitle) if subtitle and subtitle.strip() else None,
        author=text_of(fields.get(DC + "creator")) or text_of(fields.get(ITUNES + "author")),
        published=text_of(fields.get(DC + "date")),
    )


@functools.lru_cache(maxsize=1024)  # a feed names the same few authors item after item
def _plain_extensions(author: str | None, published: str | None) -> Extensions:
    return Extensions(author=author, published=published)


def _media_texts(item: etree._Element) -> tuple[list[Markup], list[Markup]]:
    """media:title and media:description texts, in one pass over the item."""
    titles: list[Markup] = []
    descriptions: list[Markup] = []
    for el in item.iter(MEDIA + "title", MEDIA + "description"):
        value = markup_of(el)
        if value and value.strip():
            is_html = len(el) > 0 or el.get("type", "plain").lower() == "html"
            found = titles if el.tag == MEDIA + "title" else descriptions
            found.append(Markup(value, is_html=is_html))
    return titles, descriptions


def media_image(entry: etree._Element) -> str | None:
    """media:content (image), then media:thumbnail, also inside media:group (Media RSS)."""
    thumbnail = None
    for el in entry.iter(MEDIA + "content", MEDIA + "thumbnail"):  # one pass over the entry
        if el.tag == MEDIA + "thumbnail":
            thumbnail = el if thumbnail is None else thumbnail
            continue
        url = el.get("url")
        if is_image(url, el.get("type"), el.get("medium")):
            return resolve_link(url, el.base)
    return resolve_link(thumbnail.get("url"), thumbnail.base) if thumbnail is not None else None
