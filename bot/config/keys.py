"""Every key the config file knows, by section, and where a key put in the wrong place belongs:
`allow_private_addresses` at the top level gets "did you mean 'network.allow_private_addresses'?"
rather than a bare "unknown key"."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.config.delivery import DELIVERY_KEYS

TOP_KEYS = (
    "database_url",
    "telegram",
    "network",
    "defaults",
    "delivery",
    "stories",
    "log_every",
    "channels",
    "sources",
    "topics",
)
SECTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "telegram": ("token", "base_url", "admins"),
    "network": (
        "allow_private_addresses",
        "timeout",
        "max_bytes",
        "user_agent",
        "max_redirects",
        "concurrency",
    ),
    "defaults": ("every", "max_age"),
    "delivery": DELIVERY_KEYS,
    "stories": ("window", "threshold"),
}


def misplaced(here: str, allowed: Collection[str]) -> dict[str, str]:
    """key -> the problem to report when a key of another section turns up in `here` ("" for the
    top level): where it belongs. Keys `here` allows itself are left out."""
    hints: dict[str, str] = {}
    for section, keys in SECTION_KEYS.items():
        if section == here:
            continue
        for key in keys:
            if key not in allowed and key not in hints:
                hints[key] = f"unknown key here (did you mean '{section}.{key}'?)"
    for key in TOP_KEYS:
        if here and key not in allowed:
            hints[key] = f"unknown key here ({key}: goes at the top level of the file)"
    return hints
