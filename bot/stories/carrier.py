"""Who carried a post, named for readers: the account and the platform."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.model import Post

# Hosts whose platform has a better-known name than the host itself.
_PLATFORMS = {
    "x.com": "X",
    "twitter.com": "X",
    "truthsocial.com": "Truth Social",
    "bsky.app": "Bluesky",
    "t.me": "Telegram",
    "reddit.com": "Reddit",
    "facebook.com": "Facebook",
    "instagram.com": "Instagram",
    "youtube.com": "YouTube",
}
_HANDLE = re.compile(r"\((@[^\s()]+)\)$")  # "Donald J. Trump (@realDonaldTrump)"


def carrier_label(post: Post) -> str:
    """Who carried a post, for "Also posted by: …": "@TrumpDailyPosts (X)". The handle when
    the author has one, else the author's name, else the source id; then the platform."""
    author = (post.author or "").strip()
    handle = _HANDLE.search(author)
    who = handle.group(1) if handle else author or post.source_id
    platform = platform_of(post)
    return f"{who} ({platform})" if platform else who


def platform_of(post: Post) -> str:
    """Where a post was published, for readers: "Truth Social", "X", "whitehouse.gov"; the
    link's host, by its better-known name where it has one; "" without a usable link."""
    try:
        host = urlsplit(post.url or "").hostname or ""
    except ValueError:  # "http://[::1" and the like name no platform
        host = ""
    host = host.removeprefix("www.").removeprefix("mobile.").removeprefix("m.")
    return "X" if "nitter" in host else _PLATFORMS.get(host, host)  # X's RSS bridges
