"""Public Telegram channels through their web preview, https://t.me/s/CHANNEL.

The preview page lists the latest ~20 messages as `.tgme_widget_message` blocks; when none of
them was seen before, older pages are read with ?before=ID (the cursor keeps the newest id).
It is HTML meant for browsers, read with lxml's HTML parser (no network, no entity expansion).
A channel without a public preview redirects to its t.me/CHANNEL landing page, which has no
messages: that is a ParseError, not a quiet channel.

A post's text, in blocks a blank line apart: the message text (or an album's caption), a poll's
question and options ("• option"), then as context (lines marked "> ") the link preview (site,
title, description) and the message it replies to when that is another chat's (a reply within
the channel repeats one of this source's posts: it would match a topic twice and fold the
answer into the old message's story). Views, vote counts, "edited" and the poll's type are
page furniture and never part of it. A forwarded message's author is whom it was forwarded
from. Service messages (channel created, renamed, photo changed, message pinned) are skipped:
Telegram writes them, not the channel, and a pin repeats a message already stored. Stickers,
voice notes and files without caption have nothing to read or match and are skipped too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree, html

from bot.config.settings import SourceConfig
from bot.errors import ParseError
from bot.model import Fetched, Post, SourceState
from bot.sources.html import element_to_text
from bot.sources.post_text import NOT_XML_CHAR, context_lines, join_blocks, link_unless_in
from bot.sources.timestamps import parse_timestamp

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient

log = logging.getLogger(__name__)

_ACCEPT = "text/html"
# Pages read when a poll finds only unseen messages (about 100): bounded, so a channel posting
# in bursts cannot hold a poll. The first poll reads one page: it is a baseline.
MAX_PAGES = 5
_TELEGRAM_HOSTS = ("t.me", "telegram.me")


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Compiled once; lxml serialises evaluations of one XPath object with a lock, so the parse
# threads may share them.
_MESSAGES = etree.XPath(f"//div[{_has_class('tgme_widget_message')} and @data-post]")
_REPLY = _has_class("tgme_widget_message_reply")
# The message's own text, not the quoted text of the message it replies to.
_TEXT = etree.XPath(
    f".//div[{_has_class('tgme_widget_message_text')} and not(ancestor::*[{_REPLY}])]"
)
# An album's pictures are photo wraps too; a video (or an album of them) shows its poster frame.
_PICTURE = etree.XPath(
    f".//*[({_has_class('tgme_widget_message_photo_wrap')} or "
    f"{_has_class('tgme_widget_message_video_thumb')}) and not(ancestor::*[{_REPLY}])]/@style"
)
_POLL_QUESTION = etree.XPath(f".//*[{_has_class('tgme_widget_message_poll_question')}]")
_POLL_OPTION = etree.XPath(f".//*[{_has_class('tgme_widget_message_poll_option_text')}]")
_PREVIEW = etree.XPath(f".//a[{_has_class('tgme_widget_message_link_preview')}]")
_PREVIEW_PARTS = tuple(
    etree.XPath(f".//*[{_has_class(name)}]")
    for name in ("link_preview_site_name", "link_preview_title", "link_preview_description")
)
_REPLY_TO = etree.XPath(f".//a[{_REPLY}]")
_REPLY_TEXT = etree.XPath(
    f".//*[{_has_class('tgme_widget_message_metatext')} or "
    f"{_has_class('tgme_widget_message_text')}]"
)
_FORWARDED_FROM = etree.XPath(f".//*[{_has_class('tgme_widget_message_forwarded_from_name')}]")
_DATE = etree.XPath(f".//a[{_has_class('tgme_widget_message_date')}]/time/@datetime")
_SIGNATURE = etree.XPath(f".//*[{_has_class('tgme_widget_message_from_author')}]")
_OWNER = etree.XPath(f".//*[{_has_class('tgme_widget_message_owner_name')}]")
_CHANNEL_TITLE = etree.XPath(f"//*[{_has_class('tgme_channel_info_header_title')}]")
_OG_TITLE = etree.XPath("//meta[@property='og:title']/@content")
_BACKGROUND_URL = re.compile(r"background-image:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
_DATA_POST = re.compile(r"^(?P<channel>[A-Za-z0-9_]+)/(?P<id>\d+)$")
_MESSAGE_LINK = re.compile(r"^https?://(?:t|telegram)\.me/(?:s/)?(?P<channel>[A-Za-z0-9_]+)/\d+")
_CHANNEL = re.compile(r"^[A-Za-z0-9_]{4,32}$")  # Telegram usernames: 5-32, a few legacy 4
# Characters outside XML 1.0 §2.2 Char: lxml's HTML parser keeps them (raw or as "&#8;") but
# refuses to have them written back, which reducing an element to text does.


def preview_url(source: SourceConfig) -> str:
    """The t.me/s/ page of a source: its url (t.me/NAME is turned into t.me/s/NAME) or channel."""
    if source.url:
        parts = urlsplit(source.url)
        path = parts.path.strip("/")
        if parts.netloc in _TELEGRAM_HOSTS and path and not path.startswith("s/"):
            return f"https://t.me/s/{path}"
        return source.url
    if source.channel and _CHANNEL.match(source.channel.lstrip("@")):
        return f"https://t.me/s/{source.channel.lstrip('@')}"
    raise ParseError(f"source {source.id}: a Telegram source needs a url or a channel name")


def parse_channel_page(source_id: str, body: bytes) -> list[Post]:
    """Posts of a t.me/s/CHANNEL page, oldest first as the page lists them."""
    parser = html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True
    )
    try:
        root = html.document_fromstring(body, parser=parser)
    except etree.ParserError as exc:  # an empty or whitespace-only document
        raise ParseError(f"expected a Telegram channel page, got {exc}") from exc
    _drop_non_xml_chars(root)
    messages = _elements(_MESSAGES, root)
    channel_titles = _elements(_CHANNEL_TITLE, root)
    if not messages:
        if not channel_titles:
            raise ParseError(
                "expected a Telegram channel preview, got a page without messages "
                "(no such public channel, or its preview is disabled)"
            )
        return []  # a channel page with no messages yet
    channel_title = _first_text(channel_titles) or _first(_strings(_OG_TITLE, root))
    posts = [_contained(source_id, message, channel_title) for message in messages]
    return [post for post in posts if post is not None]


def _contained(source_id: str, message: etree._Element, title: str | None) -> Post | None:
    """One message as a Post, or None: a bad message costs itself, never the page."""
    name = message.get("data-post") or "without data-post"
    try:
        return _post(source_id, name, message, title)
    except Exception:  # our bug on one message must not cost the page (issue 9): logged, skipped
        log.warning("source %s: message %s unreadable; skipped", source_id, name, exc_info=True)
        return None


def _post(source_id: str, name: str, message: etree._Element, title: str | None) -> Post | None:
    if "service_message" in (message.get("class") or "").split():
        log.debug("source %s: service message %s skipped", source_id, name)
        return None
    match = _DATA_POST.match(name)
    if match is None:
        log.warning("source %s: message %s has no channel/id; skipped", source_id, name)
        return None
    texts = _elements(_TEXT, message)
    question = _first_text(_elements(_POLL_QUESTION, message))
    options = [f"• {option}" for option in _texts(_elements(_POLL_OPTION, message))]
    text = join_blocks(
        element_to_text(texts[0]) if texts else "", question or "", "\n".join(options)
    )
    image = _background_image(_strings(_PICTURE, message))
    if not text and image is None:
        log.debug(
            "source %s: message %s has nothing to read (sticker, voice, file)", source_id, name
        )
        return None
    for preview in _elements(_PREVIEW, message)[:1]:
        parts = [_first_text(_elements(part, preview)) for part in _PREVIEW_PARTS]
        text = join_blocks(
            text, context_lines(text, [*parts, link_unless_in(text, preview.get("href"))])
        )
    for reply in _elements(_REPLY_TO, message)[:1]:
        replied = _MESSAGE_LINK.match(reply.get("href") or "")
        if replied is None or replied["channel"].lower() != match["channel"].lower():
            quoted = _elements(_REPLY_TEXT, reply)
            text = join_blocks(
                text, context_lines(text, [element_to_text(quoted[0]) if quoted else None])
            )
    author = (
        _first_text(_elements(_FORWARDED_FROM, message))
        or _first_text(_elements(_SIGNATURE, message))
        or _first_text(_elements(_OWNER, message))
    )
    return Post(
        source_id=source_id,
        post_id=match["id"],
        text=text,
        url=f"https://t.me/{match['channel']}/{match['id']}",
        author=author or title,
        published_at=parse_timestamp(_first(_strings(_DATE, message))),
        image_url=image,
    )


def _drop_non_xml_chars(root: etree._Element) -> None:
    for el in root.iter():
        if el.text and NOT_XML_CHAR.search(el.text):
            el.text = NOT_XML_CHAR.sub(" ", el.text)
        if el.tail and NOT_XML_CHAR.search(el.tail):
            el.tail = NOT_XML_CHAR.sub(" ", el.tail)


def _elements(xpath: etree.XPath, node: etree._Element) -> list[etree._Element]:
    result = xpath(node)
    return (
        [el for el in result if isinstance(el, etree._Element)] if isinstance(result, list) else []
    )


def _strings(xpath: etree.XPath, node: etree._Element) -> list[str]:
    result = xpath(node)
    return [str(v) for v in result if isinstance(v, str)] if isinstance(result, list) else []


def _background_image(styles: list[str]) -> str | None:
    """The first picture's URL (http or https; a scheme-relative one made https)."""
    for style in styles:
        match = _BACKGROUND_URL.search(style)
        url = match[1].strip() if match else ""
        url = f"https:{url}" if url.startswith("//") else url
        if url.startswith(("https://", "http://")) and " " not in url:
            return url
    return None


def _first_text(elements: list[etree._Element]) -> str | None:
    return next(iter(_texts(elements)), None)


def _texts(elements: list[etree._Element]) -> list[str]:
    """Each element's text on one line, the empty ones left out."""
    texts = (" ".join(element_to_text(el).split()) for el in elements)
    return [text for text in texts if text]


def _first(values: list[str]) -> str | None:
    """The first non-blank attribute value (attributes are not cleaned with the tree's text)."""
    return next((NOT_XML_CHAR.sub(" ", v).strip() for v in values if v.strip()), None)


class TelegramAdapter:
    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        url = preview_url(source)
        seen = _message_number(state.cursor.get("newest_id"))
        posts = await _read_page(url, source.id, http, None)
        numbers = _numbers(posts)
        # The page holds the latest ~20 messages: when none of them was seen before, older ones
        # may be missing, read with ?before= (message ids count up within a channel).
        for _ in range(MAX_PAGES - 1):
            if seen is None or not numbers or min(numbers) <= seen:
                break
            page = await _read_page(url, source.id, http, min(numbers))
            posts += page
            numbers = _numbers(page)
        newest = max([*_numbers(posts), seen or 0])
        cursor = {**state.cursor, "newest_id": str(newest)} if newest else dict(state.cursor)
        return Fetched(posts=posts, state=replace(state, cursor=cursor))


async def _read_page(url: str, source_id: str, http: HttpClient, before: int | None) -> list[Post]:
    response = await http.get(
        url, params={"before": str(before)} if before else None, accept=_ACCEPT
    )
    final = urlsplit(response.url)
    if final.netloc in _TELEGRAM_HOSTS and not final.path.startswith("/s/"):
        raise ParseError(f"{url} redirected to {response.url}: the channel has no public preview")
    # A preview page is ~100 kB of HTML: parse it off the event loop.
    return await asyncio.to_thread(parse_channel_page, source_id, response.body)


def _numbers(posts: list[Post]) -> list[int]:
    return [n for n in map(_message_number, (p.post_id for p in posts)) if n]


def _message_number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
