"""Alert → Telegram message text. Pure: no I/O, no clock (`now` is a parameter).

An alert reads, top to bottom:

    🔔 <b>Ukraine ceasefire</b>
    <i>Jane Doe</i> · whitehouse.gov

The second line names who posted it and where, as readers know them: the source's `name:`
when the config gives one (then the author too), else the author, else the source id; then the
platform (the link's site by its better-known name, else the source's kind).

    <b>Post title</b>
    Post text, with the matched <b>terms</b> in bold…

    Also posted by: @TrumpDailyPosts (X), whitehouse (rss)
    2026-03-18 14:05 UTC · <a href="https://…">Open original</a>

The message fits Telegram's limits as bot.deliver.measure counts them. Fitting works on the raw
strings, before escaping, so a cut can never land inside a tag or an entity; cutting at a code
point boundary never splits a surrogate pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html import escape

from bot.deliver.measure import (
    ELLIPSIS,
    MAX_ENTITIES,
    MESSAGE_LIMIT,
    auto_entities,
    cut,
    sendable,
    utf16_len,
)
from bot.model import Alert
from bot.stories.carrier import platform_of

# The time and link lines are never trimmed; below this a message cannot hold them.
_MIN_LIMIT = 64
_LINK_TEXT = "Open original"
_ALSO = "Also posted by: "
# What a carrier's name may take: a relay copy may be signed with anything, 5,000 characters
# included, and the names must never crowd out the post they vouch for.
MAX_ALSO_NAMES = 5  # then "and N more"
MAX_NAME = 64  # UTF-16 units of one name, and of the post's author
# A long post gives way first, down to this much; then the other fields; then the rest of it.
_TEXT_FLOOR = 280
_OWN_TAGS = 4  # topics <b>, source <i>, title <b>, the link <a>
# Where a post without a usable link was published, by its source's kind.
_KIND_PLATFORMS = {"mastodon": "Mastodon", "bluesky": "Bluesky", "telegram": "Telegram"}

Highlighter = Callable[[str, Sequence[str]], list[tuple[int, int]]]
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Fields:
    """The variable strings of an alert, raw (unescaped); fitting swaps in shorter ones."""

    topics: str
    who: str  # the source's name, else the author, else the source id
    platform: str
    author: str  # shown beside a source's name; "" when `who` is the author already
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
        # Bold matches are entities too: what Telegram finds itself and our 4 tags come first.
        room = MAX_ENTITIES - _OWN_TAGS - auto_entities(_visible(fields, alert, now, plain=False))
        spans = sorted(spans)[: max(room, 0)]
    return "\n".join(
        "".join(_html_piece(p) for p in line) for line in _lines(fields, alert, now, spans)
    )


def render_plain(alert: Alert, now: datetime | None = None, *, limit: int = MESSAGE_LIMIT) -> str:
    """The same alert without markup (link as a bare URL): the fallback when Telegram cannot
    parse our entities, and the console output."""
    fields = _fit(_fields(alert), alert, now, limit, plain=True)
    text = _visible(fields, alert, now, plain=True)
    if utf16_len(text) > limit:  # only an absurdly long URL gets here
        text = cut(text, limit - 1) + ELLIPSIS
    return text


def _fields(alert: Alert) -> _Fields:
    post = alert.post
    return _Fields(
        topics=sendable(" · ".join(alert.topic_names)),
        who=_capped(sendable(alert.source_name or post.author or post.source_id)),
        platform=sendable(platform_of(post) or _KIND_PLATFORMS.get(alert.source_kind, "")),
        author=_capped(sendable(post.author or "")) if alert.source_name else "",
        title=sendable(post.title or ""),
        text=sendable(post.text),
        also=_names([sendable(name) for name in alert.also_posted_by]),
    )


def _names(names: Sequence[str]) -> str:
    """'a, b, c and 12 more': at most MAX_ALSO_NAMES, each at most MAX_NAME units long."""
    shown = [_capped(" ".join(name.split())) for name in names[:MAX_ALSO_NAMES]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _capped(text: str, units: int = MAX_NAME) -> str:
    return text if utf16_len(text) <= units else cut(text, units - 1) + ELLIPSIS


def _lines(
    fields: _Fields, alert: Alert, now: datetime | None, spans: Sequence[Span] = ()
) -> Iterator[list[_Piece]]:
    """The message as lines of pieces; empty fields drop their line or separator."""
    if fields.topics:
        yield [_Piece("🔔 "), _Piece(fields.topics, "b")]
    source = [_Piece(fields.who, "i")] if fields.who else []
    for extra in (fields.author, fields.platform):
        if extra:
            source += [_Piece(" · "), _Piece(extra)] if source else [_Piece(extra)]
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
    url = sendable(alert.post.url or "")
    if url.lower().startswith(("https://", "http://")):  # Telegram links only http(s)
        if footer:
            footer.append(_Piece(" · "))
        footer.append(_Piece(_LINK_TEXT, href=url))
    if footer:
        if not fields.also:
            yield []
        yield footer


def _timestamp(when: datetime) -> str:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except OverflowError:  # year 1 east of UTC, 9999 west of it: shown as given
        return aware.strftime("%Y-%m-%d %H:%M UTC%z")


def _visible(fields: _Fields, alert: Alert, now: datetime | None, *, plain: bool) -> str:
    lines = _lines(fields, alert, now)
    return "\n".join(
        "".join(p.href if plain and p.href else p.text for p in line) for line in lines
    )


# After a long text's first cut: shortened first to last, what tells the post least.
_TRIM_ORDER = ("also", "author", "title", "topics", "platform", "who")


def _fit(
    fields: _Fields, alert: Alert, now: datetime | None, limit: int, *, plain: bool
) -> _Fields:
    """Fields whose message fits `limit`: a long post text gives way first, down to
    _TEXT_FLOOR; then the other fields in _TRIM_ORDER; the post's own text is the last to go."""
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit {limit} is too small for an alert (minimum {_MIN_LIMIT})")
    fields = _shortened(fields, "text", alert, now, limit, plain=plain, floor=_TEXT_FLOOR)
    for name in (*_TRIM_ORDER, "text"):
        fields = _shortened(fields, name, alert, now, limit, plain=plain)
    return fields


def _shortened(
    fields: _Fields,
    name: str,
    alert: Alert,
    now: datetime | None,
    limit: int,
    *,
    plain: bool,
    floor: int = 0,
) -> _Fields:
    """`fields` with field `name` cut (not below `floor` units) by what the message is over."""
    over = utf16_len(_visible(fields, alert, now, plain=plain)) - limit
    value: str = getattr(fields, name)
    if over <= 0 or utf16_len(value) <= floor:
        return fields
    keep = max(utf16_len(value) - over - utf16_len(ELLIPSIS), floor)
    prefix = cut(value, keep) if keep > 0 else ""
    # Nothing left worth showing: drop the field (and its line) rather than show "…" alone.
    return replace(fields, **{name: prefix + ELLIPSIS if prefix else ""})


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
