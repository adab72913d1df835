"""OPML in and out: the subscription lists feed readers export (OPML 2.0, http://opml.org/spec2.opml).

Pure: bytes in, outlines out; sources in, bytes out. Reading never expands an entity, loads a
DTD or touches the network. Our own exports carry each source's kind and id in attributes of
our namespace, so an export imports back as the same sources.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from bot.config.settings import SourceConfig
from bot.errors import ParseError

NAMESPACE = "https://postwatch.invalid/opml"  # attribute namespace of our own exports
_KIND = f"{{{NAMESPACE}}}kind"
_ID = f"{{{NAMESPACE}}}id"


@dataclass(frozen=True, slots=True)
class Outline:
    """One subscription: what a feed reader knows of it."""

    url: str  # xmlUrl (the feed), or url for a non-feed outline of ours
    title: str | None = None  # title, else text
    folder: str | None = None  # the enclosing outlines' texts, "News / World"
    kind: str | None = None  # ours: postwatch's source kind
    source_id: str | None = None  # ours: postwatch's source id
    line: int | None = None  # where it stands in the file, for messages


def read_opml(body: bytes) -> list[Outline]:
    """Every outline with a feed URL, in document order; ParseError when it is no OPML."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not an OPML file: {exc}") from None
    if getattr(root.getroottree().docinfo, "doctype", ""):  # lxml-stubs lack it
        # OPML has no DTD; a DOCTYPE in one is there to declare entities (a bomb, or XXE).
        raise ParseError("not an OPML file: it declares a DOCTYPE, which OPML never needs")
    outlines = root.find("body") if root.tag == "opml" else None
    if outlines is None:
        raise ParseError(f"not an OPML file: its root is <{root.tag}>, not <opml> with a <body>")
    return list(_outlines(outlines, ()))


def _outlines(parent: etree._Element, folders: tuple[str, ...]) -> Iterator[Outline]:
    for outline in parent.iterfind("outline"):
        text = _attr(outline, "title") or _attr(outline, "text")
        url = _attr(outline, "xmlUrl") or (_attr(outline, "url") if outline.get(_KIND) else None)
        if url:
            yield Outline(
                url=url,
                title=text,
                folder=" / ".join(folders) or None,
                kind=_attr(outline, _KIND),
                source_id=_attr(outline, _ID),
                line=_line(outline),
            )
        else:  # a folder (OPML 2.0 2.3: outlines nest)
            yield from _outlines(outline, (*folders, text) if text else folders)


def _line(element: etree._Element) -> int | None:
    line = getattr(element, "sourceline", None)  # lxml-stubs leave it untyped
    return line if isinstance(line, int) else None


def _attr(element: etree._Element, name: str) -> str | None:
    value = element.get(name)
    return " ".join(value.split()) or None if value else None


def write_opml(sources: Sequence[SourceConfig], title: str = "postwatch sources") -> bytes:
    """An OPML 2.0 subscription list of `sources`: feeds as type="rss" outlines any reader
    takes, every kind with its postwatch kind and id so it imports back the same."""
    root = etree.Element("opml", version="2.0", nsmap={"postwatch": NAMESPACE})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for source in sources:
        outline = etree.SubElement(body, "outline", text=source.name or source.id)
        outline.set("type", "rss" if source.kind == "rss" else "link")
        outline.set("xmlUrl" if source.kind == "rss" else "url", _address(source))
        outline.set(_KIND, source.kind)
        outline.set(_ID, source.id)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _address(source: SourceConfig) -> str:
    """The URL that names a source: its feed, profile, or (Bluesky) the actor's profile page."""
    if source.kind == "bluesky" and source.actor:
        return f"https://bsky.app/profile/{source.actor}"
    return source.url
