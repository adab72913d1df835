"""Alert → Telegram message text. Pure: no I/O, no clock (`now` is a parameter).

An alert reads, top to bottom:

    🔔 <b>Ukraine ceasefire</b>
    <i>whitehouse</i> (rss) · Jane Doe

    <b>Post title</b>
    Post text, with the matched <b>terms</b> in bold…

    Also posted by: @TrumpDailyPosts (X), whitehouse (rss)
    2026-03-18 14:05 UTC · <a href="https://…">Open original</a>

Telegram counts its limits (4096 for a message, 1024 for a media caption) in UTF-16 code units
of the text left after entity parsing (https://core.telegram.org/bots/api#sendmessage and
#formatting-options). Fitting works on the raw strings, before escaping, so a cut can never
land inside a tag or an entity; cutting at a code point boundary never splits a surrogate pair.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser

from bot.model import Alert

__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "Highlighter",
    "render_alert",
    "render_plain",
    "utf16_len",
    "visible_length",
]

MESSAGE_LIMIT = 4096  # sendMessage `text`, after entity parsing
CAPTION_LIMIT = 1024  # sendPhoto `caption`, after entity parsing
# The time and link lines are never trimmed; below this a message cannot hold them.
_MIN_LIMIT = 64
ELLIPSIS = "…"
_LINK_TEXT = "Open original"
_ALSO = "Also posted by: "
_WORD_BACKOFF = 40  # a cut mid-word moves back to a space at most this far
# Longest run of joined code points kept whole (a ZWJ family emoji with skin tones is ~11).
_CLUSTER_MAX = 16

Highlighter = Callable[[str, Sequence[str]], list[tuple[int, int]]]
Span = tuple[int, int]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts: astral characters (emoji) count 2."""
    return len(text.encode("utf-16-le")) // 2


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_length(html: str) -> int:
    """UTF-16 length of what Telegram shows for `html`: tags removed, entities decoded."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return utf16_len("".join(collector.parts))


@dataclass(frozen=True, slots=True)
class _Fields:
    """The variable strings of an alert, raw (unescaped); fitting swaps in shorter ones."""

    topics: str
    source_id: str
    kind: str
    author: str
    title: str
    text: str
    also: str = ""  # "Also posted by" names, joined


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    tag: str | None = None  # b, i: wraps the whole piece
    href: str | None = None  # an <a> link; plain output shows the URL instead of the text
    spans: Sequence[Span] = ()  # highlighted ranges of `text`, in <b>


def render_alert(
    alert: Alert,
    now: datetime | None = None,
    highlight: Highlighter | None = None,
    *,
    limit: int = MESSAGE_LIMIT,
) -> str:
    """Telegram HTML (parse_mode=HTML) for `alert`, whose visible text fits `limit`.

    `now` stands in for the post time when the source gave none. `highlight(text, terms)` returns
    [start, end) offsets into the post text to show in bold.
    """
    fields = _fit(_fields(alert), alert, now, limit, plain=False)
    spans: list[Span] = []
    if highlight is not None and alert.terms and fields.text:
        # Offsets are into the original text; a trimmed text keeps a prefix of it plus "…".
        kept = len(fields.text) if fields.text == alert.post.text else len(fields.text) - 1
        spans = [(start, min(end, kept)) for start, end in highlight(alert.post.text, alert.terms)]
    return "\n".join(
        "".join(_html_piece(p) for p in line) for line in _lines(fields, alert, now, spans)
    )


def render_plain(alert: Alert, now: datetime | None = None, *, limit: int = MESSAGE_LIMIT) -> str:
    """The same alert without markup (link as a bare URL): the fallback when Telegram cannot
    parse our entities, and the console output."""
    fields = _fit(_fields(alert), alert, now, limit, plain=True)
    text = _visible(fields, alert, now, plain=True)
    if utf16_len(text) > limit:  # only an absurdly long URL gets here
        text = _cut(text, limit - 1) + ELLIPSIS
    return text


def _fields(alert: Alert) -> _Fields:
    post = alert.post
    return _Fields(
        topics=" · ".join(alert.topic_names),
        source_id=post.source_id,
        kind=alert.source_kind,
        author=post.author or "",
        title=post.title or "",
        text=post.text,
        also=", ".join(alert.also_posted_by),
    )


def _lines(
    fields: _Fields, alert: Alert, now: datetime | None, spans: Sequence[Span] = ()
) -> Iterator[list[_Piece]]:
    """The message as lines of pieces; empty fields drop their line or separator."""
    if fields.topics:
        yield [_Piece("🔔 "), _Piece(fields.topics, "b")]
    source = [_Piece(fields.source_id, "i")] if fields.source_id else []
    if fields.kind:
        source.append(_Piece(f" ({fields.kind})" if source else fields.kind))
    if fields.author:
        source += [_Piece(" · "), _Piece(fields.author)] if source else [_Piece(fields.author)]
    if source:
        yield source
    body: list[list[_Piece]] = []
    if fields.title:
        body.append([_Piece(fields.title, "b")])
    if fields.text:
        body.append([_Piece(fields.text, spans=spans)])
    if body:
        yield []  # blank line
        yield from body
    yield from _footer(fields, alert, now)


def _footer(fields: _Fields, alert: Alert, now: datetime | None) -> Iterator[list[_Piece]]:
    """'Also posted by' (when any), then the time and the link, after a blank line."""
    if fields.also:
        yield []
        yield [_Piece(f"{_ALSO}{fields.also}")]
    footer: list[_Piece] = []
    when = alert.post.published_at or now
    if when is not None:
        footer.append(_Piece(_timestamp(when)))
    url = alert.post.url
    if url and url.lower().startswith(("https://", "http://")):  # Telegram links only http(s)
        if footer:
            footer.append(_Piece(" · "))
        footer.append(_Piece(_LINK_TEXT, href=url))
    if footer:
        if not fields.also:
            yield []
        yield footer


def _timestamp(when: datetime) -> str:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _visible(fields: _Fields, alert: Alert, now: datetime | None, *, plain: bool) -> str:
    lines = _lines(fields, alert, now)
    return "\n".join(
        "".join(p.href if plain and p.href else p.text for p in line) for line in lines
    )


# Shortened first to last: the post text, then what identifies it less and less.
_TRIM_ORDER = ("text", "title", "also", "author", "topics", "source_id", "kind")


def _fit(
    fields: _Fields, alert: Alert, now: datetime | None, limit: int, *, plain: bool
) -> _Fields:
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit {limit} is too small for an alert (minimum {_MIN_LIMIT})")
    for name in _TRIM_ORDER:
        over = utf16_len(_visible(fields, alert, now, plain=plain)) - limit
        if over <= 0:
            break
        value: str = getattr(fields, name)
        keep = utf16_len(value) - over - utf16_len(ELLIPSIS)
        prefix = _cut(value, keep) if keep > 0 else ""
        # Nothing left worth showing: drop the field (and its line) rather than show "…" alone.
        fields = replace(fields, **{name: prefix + ELLIPSIS if prefix else ""})
    return fields


def _cut(text: str, units: int) -> str:
    """The longest prefix of `text` within `units` UTF-16 code units that does not split a
    character from its combining marks or a ZWJ sequence, preferring a word boundary."""
    encoded = text.encode("utf-16-le")[: 2 * max(units, 0)]
    if len(encoded) >= 2 and 0xD800 <= int.from_bytes(encoded[-2:], "little") <= 0xDBFF:
        encoded = encoded[:-2]  # never half a surrogate pair
    end = len(encoded.decode("utf-16-le"))
    start = end
    while 0 < end < len(text) and _joins_previous(text, end) and start - end < _CLUSTER_MAX:
        end -= 1
    if start - end == _CLUSTER_MAX:  # not a character cluster but a run of marks: cut it
        end = start
    if 0 < end < len(text) and not text[end].isspace():
        space = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end))
        if space > 0 and end - space <= _WORD_BACKOFF:
            end = space
    return text[:end].rstrip()


def _joins_previous(text: str, index: int) -> bool:
    """Whether text[index] belongs to the grapheme of the character before it."""
    char = text[index]
    return (
        unicodedata.category(char).startswith("M")  # combining marks, variation selectors
        or char == "\u200d"
        or text[index - 1] == "\u200d"
        or 0x1F3FB <= ord(char) <= 0x1F3FF  # emoji skin-tone modifiers
        or (_is_regional(char) and _is_regional(text[index - 1]))  # flags are letter pairs
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _html_piece(piece: _Piece) -> str:
    if piece.href is not None:
        return f'<a href="{escape(piece.href, quote=True)}">{escape(piece.text, quote=False)}</a>'
    body = _highlighted(piece.text, piece.spans) if piece.spans else escape(piece.text, quote=False)
    return f"<{piece.tag}>{body}</{piece.tag}>" if piece.tag else body


def _highlighted(text: str, spans: Sequence[Span]) -> str:
    """`text` escaped, with each [start, end) span in <b>. Spans past a trimmed end are cut."""
    out: list[str] = []
    position = 0
    for span_start, span_end in sorted(spans):
        start, end = max(span_start, position), min(span_end, len(text))
        if end <= start:
            continue
        out += [_text(text[position:start]), "<b>", _text(text[start:end]), "</b>"]
        position = end
    out.append(_text(text[position:]))
    return "".join(out)


def _text(raw: str) -> str:
    # Text nodes need only &, < and > escaped; Telegram supports just &lt; &gt; &amp; &quot;
    # and numeric entities.
    return escape(raw, quote=False)
