"""Mastodon-compatible accounts (Mastodon, Truth Social, Pleroma/Akkoma, GoToSocial, Misskey's
Mastodon API) through the public REST API.

A profile URL (https://host/@name, https://host/@name@elsewhere, https://host/users/name) is
resolved once with /api/v1/accounts/lookup; the account id is cached in the source's cursor. Each
poll then asks /api/v1/accounts/:id/statuses for what is newer than the last status seen.

A post's text, in blocks a blank line apart: the content warning, the content, the poll's options
("• option"), the media descriptions, then as context (lines marked "> ") the link card and the
quoted post. Context the text already holds is not repeated, and a quote of the author's own
post is left out: that post is one of this source's, and repeating it would match a topic twice
and fold the new post into the old one's story.

Reblogs: the post carries the original's text, author, URL and language, but keeps the id and
time of the timeline entry (the reblog status): its id is what since_id pages by, and its time is
when the account shared it. A reblog with text of its own (a Misskey quote renote) is a quote.
Servers differ (any field may be missing, null or a number), so every field is read defensively;
a status that still cannot be read is skipped with a warning naming it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lxml import etree, html

from bot.config.addresses import mastodon_account
from bot.config.settings import SourceConfig
from bot.errors import ParseError
from bot.model import Fetched, Post, SourceState
from bot.sources.html import Reduced, reduce_html
from bot.sources.post_text import (
    NOT_XML_CHAR,
    as_dict,
    context_lines,
    http_url,
    join_blocks,
    link_unless_in,
    text_or_none,
)
from bot.sources.sniff import load_json
from bot.sources.timestamps import parse_timestamp

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient

log = logging.getLogger(__name__)

PAGE_LIMIT = 40  # the API's maximum for account statuses
# Pages read after a gap (200 statuses): more than a watched account posts between two polls,
# yet bounded so a firehose account cannot hold a poll (beyond it, the oldest are skipped). The
# first poll reads one page: it is a baseline.
MAX_PAGES = 5
_ACCEPT = "application/json"
# Characters lxml refuses (XML 1.0 §2.2 Char) or silently cuts text at (lone surrogates).
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));?")  # "&#8;", "&#xFFFE;"
# Mastodon 4.4 prepends `<p class="quote-inline">RE: <a>…</a></p>` for clients without quote
# support; clients showing the quote hide it (docs.joinmastodon.org/client/quotes). Pleroma,
# Akkoma and Misskey mark their "RE:" fallback the same way.
_QUOTE_INLINE = "//*[contains(concat(' ', normalize-space(@class), ' '), ' quote-inline ')]"


def parse_account_id(body: bytes) -> str:
    """The account id from an /api/v1/accounts/lookup answer."""
    account = load_json(body, "a Mastodon account (JSON)")
    account_id = _id(account.get("id")) if isinstance(account, dict) else None
    if account_id is None:
        raise ParseError("Mastodon account lookup answered JSON without an account id")
    return account_id


def parse_statuses(source_id: str, body: bytes) -> list[Post]:
    """Posts from an /api/v1/accounts/:id/statuses answer, newest first as the API sends them."""
    return _read_page(source_id, body)[0]


def _read_page(source_id: str, body: bytes) -> tuple[list[Post], int]:
    """The page's posts and how many statuses it held, skipped ones included (paging needs to
    know a page was full even when one of its statuses could not be read)."""
    statuses = load_json(body, "a list of Mastodon statuses (JSON)")
    if not isinstance(statuses, list):
        raise ParseError("expected a list of Mastodon statuses, got another JSON value")
    posts = [_contained(source_id, index, status) for index, status in enumerate(statuses)]
    return [post for post in posts if post is not None], len(statuses)


def newest_status_id(posts: list[Post], previous: str | None) -> str | None:
    """The largest status id. Ids are snowflakes: numeric strings, longer is newer."""
    ids = [post.post_id for post in posts]
    if previous:
        ids.append(previous)
    return max(ids, key=lambda i: (len(i), i), default=None)


def _contained(source_id: str, index: int, status: object) -> Post | None:
    """One status as a Post, or None with a warning: a bad status costs itself, not the page."""
    if not isinstance(status, dict):
        log.warning("source %s: item %d of the page is not a status; skipped", source_id, index)
        return None
    status_id = _id(status.get("id"))
    if status_id is None:
        log.warning("source %s: status at position %d has no id; skipped", source_id, index)
        return None
    try:
        return _post(source_id, status_id, status)
    except Exception:  # our bug on one status must not cost the page (issue 9): logged, skipped
        log.warning("source %s: status %s unreadable; skipped", source_id, status_id, exc_info=True)
        return None


def _post(source_id: str, status_id: str, status: dict[str, Any]) -> Post:
    reblog, own = as_dict(status.get("reblog")), _body(status)
    if reblog and not own.text:  # a plain reblog: the original speaks
        shown, quoted, reduced = reblog, _quoted(reblog), _body(reblog)
    else:  # a status, or a renote with its own text: the reblogged post is what it quotes
        shown, quoted, reduced = status, reblog or _quoted(status), own
    poll = [f"• {option}" for option in _each(shown.get("poll"), "options", "title")]
    text = join_blocks(
        _spoiler(shown),
        reduced.text,
        _lines(poll),
        _lines(_each(shown, "media_attachments", "description")),
    )
    card = as_dict(shown.get("card"))
    card_lines = [text_or_none(card.get(k)) for k in ("provider_name", "title", "description")]
    text = join_blocks(
        text, context_lines(text, [*card_lines, link_unless_in(text, card.get("url"))])
    )
    if quoted and not _same_account(shown.get("account"), quoted.get("account")):
        text = join_blocks(
            text, context_lines(text, [join_blocks(_spoiler(quoted), _body(quoted).text)])
        )
    return Post(
        source_id=source_id,
        post_id=status_id,
        text=text,
        url=http_url(shown.get("url")) or http_url(shown.get("uri")),
        author=_account_name(shown.get("account")),
        published_at=parse_timestamp(status.get("created_at"))
        or parse_timestamp(shown.get("created_at")),
        lang=text_or_none(shown.get("language")),
        image_url=_first_image(shown.get("media_attachments")) or http_url(reduced.image_url),
    )


def _quoted(status: dict[str, Any]) -> dict[str, Any]:
    """The status a status quotes, when the server shows it ({} when none).

    Mastodon 4.4+: `quote` is a Quote ({state, quoted_status}) or a ShallowQuote (an id only);
    only an `accepted` quote may be shown (docs.joinmastodon.org/entities/Quote: unknown states
    count as unauthorized). Truth Social, Akkoma and Misskey's API put the Status itself in
    `quote`; Pleroma in `pleroma.quote`.
    """
    quote = as_dict(status.get("quote"))
    if "state" in quote or "quoted_status" in quote:
        return as_dict(quote.get("quoted_status")) if quote.get("state") == "accepted" else {}
    return quote or as_dict(as_dict(status.get("pleroma")).get("quote"))


def _body(status: dict[str, Any]) -> Reduced:
    """The content as text; Pleroma's plain-text copy or `text` (the source a deleted status
    carries instead) when the HTML content is empty."""
    content, pleroma = text_or_none(status.get("content")) or "", as_dict(status.get("pleroma"))
    if "&#" in content:  # references to those characters: lxml decodes them, then refuses them
        content = _CHAR_REF.sub(_harmless_reference, content)
    keys = ("quote", "quote_id", "quote_url", "reblog")  # a renote with text quotes its reblog
    if "quote-inline" in content and any(status.get(k) or pleroma.get(k) for k in keys):
        content = _without_quote_inline(content)
    reduced = reduce_html(content) if content else Reduced("", None)
    plain = text_or_none(as_dict(pleroma.get("content")).get("text/plain")) or text_or_none(
        status.get("text")
    )
    if reduced.text or not plain:
        return reduced
    return Reduced(" ".join(plain.split()), None)


def _harmless_reference(ref: re.Match[str]) -> str:
    code = int(ref[1], 16) if ref[1] else int(ref[2])
    return " " if code < 0x110000 and NOT_XML_CHAR.match(chr(code)) else ref[0]


def _without_quote_inline(content: str) -> str:
    parser = html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = html.document_fromstring(content, parser=parser)
    except etree.ParserError:  # nothing but whitespace
        return content
    found = root.xpath(_QUOTE_INLINE)
    for element in found if isinstance(found, list) else []:
        if isinstance(element, html.HtmlElement) and element is not root:
            element.drop_tree()  # the element and its content; the text after it stays
    return str(html.tostring(root, encoding="unicode"))


def _spoiler(status: dict[str, Any]) -> str:
    # Pleroma's spoiler_text is HTML-escaped; its plain-text copy is what was typed.
    plain = text_or_none(
        as_dict(as_dict(status.get("pleroma")).get("spoiler_text")).get("text/plain")
    )
    return " ".join((plain or text_or_none(status.get("spoiler_text")) or "").split())


def _account_name(account: object) -> str | None:
    account = as_dict(account)
    acct = text_or_none(account.get("acct")) or text_or_none(account.get("username"))
    display = " ".join((text_or_none(account.get("display_name")) or "").split())
    if display and acct:
        return f"{display} (@{acct})"
    return display or (f"@{acct}" if acct else None)


def _same_account(one: object, other: object) -> bool:
    one, other = as_dict(one), as_dict(other)
    return any(
        text_or_none(one.get(k)) and text_or_none(one.get(k)) == text_or_none(other.get(k))
        for k in ("url", "acct")
    )


def _first_image(attachments: object) -> str | None:
    for media in attachments if isinstance(attachments, list) else []:
        if as_dict(media).get("type") == "image":
            url = http_url(media.get("url")) or http_url(media.get("preview_url"))
            if url:
                return url
    return None


def _each(container: object, key: str, field: str) -> list[str]:
    """`container[key][i][field]`, whitespace collapsed, for every item where it is text."""
    items = as_dict(container).get(key)
    values = (
        [text_or_none(as_dict(item).get(field)) for item in items]
        if isinstance(items, list)
        else []
    )
    return [" ".join(value.split()) for value in values if value]


def _lines(values: list[str]) -> str:
    return "\n".join(dict.fromkeys(values))  # an alt text given to four pictures is said once


def _id(value: object) -> str | None:
    """A status or account id: a string, or an integer as its digits (some servers send those)."""
    return (
        str(value)
        if isinstance(value, int) and not isinstance(value, bool)
        else text_or_none(value)
    )


class MastodonAdapter:
    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        origin, acct = mastodon_account(source.url)
        cursor = dict(state.cursor)
        # The cached id belongs to one profile; a changed URL in the config must look up again.
        if cursor.get("account") != f"{origin}/@{acct}" or not cursor.get("account_id"):
            lookup = await http.get(
                f"{origin}/api/v1/accounts/lookup", params={"acct": acct}, accept=_ACCEPT
            )
            cursor = {"account": f"{origin}/@{acct}", "account_id": parse_account_id(lookup.body)}
        params = {"exclude_replies": "true", "limit": str(PAGE_LIMIT)}
        since_id = cursor.get("since_id")
        if since_id:
            params["since_id"] = since_id
        posts: list[Post] = []
        for _ in range(MAX_PAGES if since_id else 1):
            response = await http.get(
                f"{origin}/api/v1/accounts/{cursor['account_id']}/statuses",
                params=params,
                accept=_ACCEPT,
            )
            page, read = _read_page(source.id, response.body)
            posts += page
            # since_id answers with the NEWEST statuses after it: a full page may leave a gap
            # before it, read by paging back with max_id (still bounded by since_id).
            if read < PAGE_LIMIT or not page:
                break
            params["max_id"] = min((p.post_id for p in page), key=lambda i: (len(i), i))
        newest = newest_status_id(posts, cursor.get("since_id"))
        if newest is not None:
            cursor["since_id"] = newest
        return Fetched(posts=posts, state=replace(state, cursor=cursor))
