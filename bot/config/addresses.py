"""What a source's configured address names: shared by the config checks (bot.config.sources),
which refuse a bad address at load time, and the adapters, which use it at fetch time; one
definition for both.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.errors import ParseError

# Bluesky's public AppView: getAuthorFeed without a login.
BLUESKY_API_URL = "https://public.api.bsky.app"
_PROFILE_PATH = re.compile(r"^/(?:@|users/)(?P<acct>[A-Za-z0-9_.-]+(?:@[A-Za-z0-9.-]+)?)/?$")


def mastodon_account(url: str) -> tuple[str, str]:
    """(origin, acct) of a profile URL; ParseError when it is not one."""
    parts = urlsplit(url.strip())
    match = _PROFILE_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or match is None:
        raise ParseError(
            f"not a Mastodon profile URL: {url!r} (expected https://host/@name or /users/name)"
        )
    return f"{parts.scheme}://{parts.netloc}", match["acct"]
