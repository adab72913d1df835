"""Mastodon-compatible accounts (Mastodon, Truth Social, ...) through the public REST API.

A profile URL (https://host/@name, https://host/@name@elsewhere, https://host/users/name) is
resolved once with /api/v1/accounts/lookup; the account id is cached in the source's cursor. Each
poll then asks /api/v1/accounts/:id/statuses for what is newer than the last status seen.

Reblogs: the post carries the original's text, author, URL and language, but keeps the id and
time of the timeline entry (the reblog status). The reblog is the event on the watched account:
its id is what since_id pages by, and its time is when the account shared it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.addresses import mastodon_account
from bot.config.settings import SourceConfig
from bot.errors import ParseError
from bot.model import Fetched, Post, SourceState
from bot.sources.html import reduce_html
from bot.sources.sniff import load_json
from bot.sources.timestamps import parse_timestamp

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient

PAGE_LIMIT = 40  # the API's maximum for account statuses
# Pages read after a gap (200 statuses): more than a watched account posts between two polls,
# yet bounded so a firehose account cannot hold a poll (beyond it, the oldest are skipped). The
# first poll reads one page: it is a baseline.
MAX_PAGES = 5
_ACCEPT = "application/json"


def parse_account_id(body: bytes) -> str:
    """The account id from an /api/v1/accounts/lookup answer."""
    account = load_json(body, "a Mastodon account (JSON)")
    account_id = account.get("id") if isinstance(account, dict) else None
    if isinstance(account_id, int) and not isinstance(account_id, bool):
        account_id = str(account_id)
    if not isinstance(account_id, str) or not account_id:
        raise ParseError("Mastodon account lookup answered JSON without an account id")
    return account_id


def parse_statuses(source_id: str, body: bytes) -> list[Post]:
    """Posts from an /api/v1/accounts/:id/statuses answer, newest first as the API sends them."""
    statuses = load_json(body, "a list of Mastodon statuses (JSON)")
    if not isinstance(statuses, list):
        raise ParseError("expected a list of Mastodon statuses, got another JSON value")
    posts = [_post(source_id, s) for s in statuses if isinstance(s, dict)]
    return [post for post in posts if post is not None]


def newest_status_id(posts: list[Post], previous: str | None) -> str | None:
    """The largest status id. Ids are snowflakes: numeric strings, longer is newer."""
    ids = [post.post_id for post in posts]
    if previous:
        ids.append(previous)
    return max(ids, key=lambda i: (len(i), i), default=None)


def _post(source_id: str, status: Mapping[str, Any]) -> Post | None:
    status_id = _str(status.get("id"))
    if status_id is None:
        return None
    reblog = status.get("reblog")
    shown: Mapping[str, Any] = reblog if isinstance(reblog, dict) else status
    reduced = reduce_html(_str(shown.get("content")) or "")
    text = reduced.text
    spoiler = " ".join((_str(shown.get("spoiler_text")) or "").split())
    if spoiler:  # the content warning is what readers see first
        text = f"{spoiler}\n\n{text}" if text else spoiler
    return Post(
        source_id=source_id,
        post_id=status_id,
        text=text,
        url=_str(shown.get("url")) or _str(shown.get("uri")),
        author=_account_name(shown.get("account")),
        published_at=parse_timestamp(status.get("created_at")),
        lang=_str(shown.get("language")),
        image_url=_first_image(shown.get("media_attachments")) or reduced.image_url,
    )


def _account_name(account: object) -> str | None:
    if not isinstance(account, dict):
        return None
    acct = _str(account.get("acct")) or _str(account.get("username"))
    display = " ".join((_str(account.get("display_name")) or "").split())
    if display and acct:
        return f"{display} (@{acct})"
    return display or (f"@{acct}" if acct else None)


def _first_image(attachments: object) -> str | None:
    if not isinstance(attachments, list):
        return None
    for media in attachments:
        if isinstance(media, dict) and media.get("type") == "image":
            return _str(media.get("url")) or _str(media.get("preview_url"))
    return None


def _str(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


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
            page = parse_statuses(source.id, response.body)
            posts += page
            # since_id answers with the NEWEST statuses after it: a full page may leave a gap
            # before it, read by paging back with max_id (still bounded by since_id).
            if len(page) < PAGE_LIMIT:
                break
            params["max_id"] = min((p.post_id for p in page), key=lambda i: (len(i), i))
        newest = newest_status_id(posts, cursor.get("since_id"))
        if newest is not None:
            cursor["since_id"] = newest
        return Fetched(posts=posts, state=replace(state, cursor=cursor))
