"""The `sources:` list → SourceConfig values: common keys, then what each kind needs.

rss       url (RSS, Atom or JSON Feed)
mastodon  url (a profile: https://host/@name; Truth Social is Mastodon-compatible)
bluesky   actor (handle or DID), api_url (default: the public AppView)
telegram  channel (public username) and/or url (https://t.me/s/NAME, the default)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from bot.config.addresses import BLUESKY_API_URL, mastodon_account
from bot.config.section import Section, entries, entry_id
from bot.config.settings import Defaults, SourceConfig
from bot.config.values import describe, http_url_problem
from bot.errors import ParseError
from bot.model import SOURCE_KINDS, SourceKind

MIN_EVERY = timedelta(seconds=10)  # polling more often burdens the servers and gains nothing
MIN_MAX_AGE = timedelta(minutes=1)
COMMON_KEYS = ("id", "kind", "name", "every", "max_age", "enabled", "alert_backlog")
MAX_NAME = 64  # characters of a source's display name: it heads every alert
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "rss": ("url",),
    "mastodon": ("url",),
    "bluesky": ("actor", "api_url"),
    "telegram": ("channel", "url"),
}
TELEGRAM_HOSTS = ("t.me", "telegram.me")
# atproto handles are domain names; DIDs are did:<method>:<id> (atproto.com/specs/handle, /did).
_HANDLE = re.compile(r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]{0,62}")
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]+")
_TG_CHANNEL = re.compile(r"[A-Za-z0-9_]{4,32}")  # public usernames: 5-32 chars, a few legacy 4

# (url, actor, channel) of a source, or None after recording why it cannot be built.
Target = tuple[str, str | None, str | None]


def build_sources(root: Section, defaults: Defaults) -> tuple[tuple[SourceConfig, ...], set[str]]:
    """The sources, and every id written (valid or not) so queries can check `source:` filters."""
    if root.data.get("sources") is None:
        root.problem(
            "sources", "missing: list the feeds and accounts to watch (see config/example.yaml)"
        )
    elif root.data["sources"] == []:
        root.problem("sources", "empty list: add at least one feed or account to watch")
    sources: list[SourceConfig] = []
    seen: dict[str, str] = {}
    for section in entries(root, "sources", "id:, kind:, url: ..."):
        ident = entry_id(section, seen, "trump-truth")
        kind = _kind(section)
        every = section.duration("every", defaults.every, MIN_EVERY)
        max_age = section.duration("max_age", defaults.max_age, MIN_MAX_AGE)
        enabled = section.boolean("enabled", True)
        alert_backlog = section.boolean("alert_backlog", False)
        name = _name(section)
        target = _TARGETS[kind](section) if kind else None
        if ident and kind and target:
            url, actor, channel = target
            sources.append(
                SourceConfig(
                    ident, kind, url, every, max_age, enabled, alert_backlog, actor, channel, name
                )
            )
    return tuple(sources), set(seen)


def _name(section: Section) -> str | None:
    name = section.text("name")
    if name is None:
        return None
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        section.problem("name", f"is too long: {len(name)} characters (at most {MAX_NAME})")
        return None
    return name or None


def _kind(section: Section) -> SourceKind | None:
    """The source's kind, after checking its keys against what that kind takes."""
    kind = section.text("kind", required=f"one of {', '.join(SOURCE_KINDS)}")
    all_keys = {k for keys in KIND_KEYS.values() for k in keys}
    if kind not in SOURCE_KINDS:
        if kind is not None:
            expected = ", ".join(SOURCE_KINDS)
            section.problem("kind", f"unknown kind '{kind}' (expected one of {expected})")
        section.check_keys((*COMMON_KEYS, *sorted(all_keys)))
        return None
    own = KIND_KEYS[kind]
    takes = f"not used by {kind} sources (they take {', '.join(own)})"
    section.check_keys((*COMMON_KEYS, *own), {key: takes for key in all_keys - set(own)})
    return next(k for k in SOURCE_KINDS if k == kind)  # narrowed to SourceKind for mypy


def _url(section: Section, required: str) -> str | None:
    url = section.text("url", required=required)
    if url is not None and (why := http_url_problem(url)) is not None:
        section.problem("url", why)
        return None
    return url


def _rss(section: Section) -> Target | None:
    url = _url(section, "the feed's URL (RSS, Atom or JSON Feed)")
    return (url, None, None) if url else None


def _mastodon(section: Section) -> Target | None:
    url = _url(section, "the profile URL, e.g. https://truthsocial.com/@realDonaldTrump")
    if url is None:
        return None
    try:
        mastodon_account(url)
    except ParseError as exc:
        section.problem("url", str(exc))
        return None
    return url, None, None


def _bluesky(section: Section) -> Target | None:
    actor = section.text("actor", required="the account's handle (e.g. kyivindependent.com) or DID")
    if actor is not None:
        actor = actor.removeprefix("@")
        if not (_HANDLE.fullmatch(actor) or _DID.fullmatch(actor)):
            section.problem(
                "actor",
                f"{describe(actor)} is not a Bluesky handle or DID "
                "(e.g. kyivindependent.com or did:plc:...)",
            )
            actor = None
    api_url = section.text("api_url", BLUESKY_API_URL) or BLUESKY_API_URL
    if (why := http_url_problem(api_url)) is not None:
        section.problem("api_url", why)
        return None
    return (api_url, actor, None) if actor else None


def _telegram(section: Section) -> Target | None:
    channel = _telegram_channel(section)
    if not section.has("url"):
        if channel is None and not section.has("channel"):
            section.problem(
                "channel", "missing: the public channel's username (or url: https://t.me/s/NAME)"
            )
        return (f"https://t.me/s/{channel}", None, channel) if channel else None
    url = _url(section, "")
    if url is None:
        return None
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in TELEGRAM_HOSTS:
        return url, None, channel  # a mirror or a test double serving the same page
    name = parts.path.strip("/").removeprefix("s/")
    if not _TG_CHANNEL.fullmatch(name):
        section.problem(
            "url", f"{describe(url)} is not a public channel link (expected https://t.me/s/NAME)"
        )
        return None
    return f"https://t.me/s/{name}", None, channel or name


def _telegram_channel(section: Section) -> str | None:
    channel = section.text("channel")
    if channel is None:
        return None
    channel = channel.removeprefix("@")
    if not _TG_CHANNEL.fullmatch(channel):
        hint = " (put links in url)" if "/" in channel else ""
        section.problem(
            "channel",
            f"{describe(channel)} is not a public channel username "
            f"(e.g. V_Zelenskiy_official){hint}",
        )
        return None
    return channel


_TARGETS: dict[str, Callable[[Section], Target | None]] = {
    "rss": _rss,
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "telegram": _telegram,
}
