"""The delivery side of the config: the `delivery:` section and each channel's sending options.

    delivery:
      burst: 10            # more pending alerts than this in one channel → one digest
      max_delay: 2h        # alerts waiting longer than this → one digest
      limits:
        overall: 30/1s     # messages in any window, all chats together
        per_chat: 1/1s     # to any one chat
        per_group: 20/1m   # to one group or channel

Telegram's figures are from its bot FAQ (https://core.telegram.org/bots/faq, "My bot is hitting
limits"); they are unpublished estimates, so they are settings.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.config.section import Section
from bot.config.settings import DeliverySettings, RateLimit
from bot.config.values import describe, format_duration, parse_duration

DELIVERY_KEYS = ("burst", "max_delay", "limits")
LIMIT_KEYS = ("overall", "per_chat", "per_group")
CHANNEL_OPTION_KEYS = ("thread_id", "silent", "link_preview", "digest", "media")
RATE_HELP = "write messages/window, e.g. 30/1s or 20/1m"
MIN_DIGEST, MAX_DIGEST = timedelta(minutes=1), timedelta(days=7)
# message_thread_id is a message id inside the supergroup: a positive 32-bit integer.
MAX_THREAD_ID = 2**31 - 1

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\S.*?)\s*")
_BARE_UNIT = re.compile(r"[smhd]", re.IGNORECASE)


def parse_rate(value: object) -> RateLimit:
    """'30/1s', '20/1m', '20/m' → RateLimit; ValueError says why not."""
    match = _RATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{describe(value)} is not a rate ({RATE_HELP})")
    window = match.group(2)
    per = parse_duration(f"1{window}" if _BARE_UNIT.fullmatch(window) else window)
    return RateLimit(int(match.group(1)), per)


def format_rate(rate: RateLimit) -> str:
    return f"{rate.count}/{format_duration(rate.per)}"


def build_delivery(section: Section) -> DeliverySettings:
    d = DeliverySettings()
    section.check_keys(DELIVERY_KEYS)
    value = section.data.get("limits")
    limits = (
        None
        if value is None
        else Section.of(value, section.at("limits"), section.problems, "overall:, per_chat:, ...")
    )
    rates = {name: getattr(d, name) for name in LIMIT_KEYS}
    if limits is not None:
        limits.check_keys(LIMIT_KEYS)
        for name in LIMIT_KEYS:
            rates[name] = _rate(limits, name, rates[name])
    return DeliverySettings(
        burst=section.integer("burst", d.burst, 1, 10_000),
        max_delay=section.duration(
            "max_delay", d.max_delay, timedelta(minutes=1), timedelta(days=7)
        ),
        **rates,
    )


def _rate(section: Section, key: str, default: RateLimit) -> RateLimit:
    rate = section.parsed(key, parse_rate)
    if rate is None:
        return default
    if not 1 <= rate.count <= 100_000 or not timedelta(seconds=1) <= rate.per <= timedelta(hours=1):
        section.problem(
            key, f"{format_rate(rate)} is out of range (1 to 100000 messages per 1s to 1h)"
        )
        return default
    return rate


def channel_options(section: Section) -> dict[str, Any]:
    """The sending options of one `channels[i]` entry, as ChannelConfig keyword arguments."""
    options: dict[str, Any] = {
        "silent": section.boolean("silent", False),
        "link_preview": section.boolean("link_preview", True),
        "media": section.boolean("media", False),
    }
    if section.has("thread_id"):
        thread = section.integer("thread_id", 0, 1, MAX_THREAD_ID)
        options["thread_id"] = thread or None
    if section.has("digest") and section.data.get("digest") is not False:
        digest = section.duration("digest", timedelta(0), MIN_DIGEST, MAX_DIGEST)
        options["digest"] = digest or None
    return options


# https://core.telegram.org/bots/api#chat: a chat id "has at most 52 significant bits". Users
# are positive; basic groups are -1 to -999999999999; channels and supergroups are -100
# followed by the channel's own id, which stays below 10^12 - 2^31 (TDLib's DialogId ranges).
MAX_USER_ID = 2**52 - 1
MAX_GROUP_ID = 999_999_999_999
CHANNEL_IDS = range(-1_000_000_000_000 - (10**12 - 2**31), -1_000_000_000_000)
_NUMBER = re.compile(r"-?[1-9][0-9]{0,18}")


def chat_number_problem(text: str) -> str | None:
    """Why a numeric chat id cannot exist in Telegram, or None when it can."""
    if not _NUMBER.fullmatch(text):
        return "is not a Telegram chat id (no leading zeros, at most 19 digits, not 0)"
    number = int(text)
    if number > MAX_USER_ID:
        return f"is beyond Telegram's ids (a user id is at most {MAX_USER_ID})"
    if number >= -MAX_GROUP_ID or number in CHANNEL_IDS:
        return None
    return (
        "is not a group id (-1 to -999999999999) nor a channel or supergroup id "
        "(-100 followed by 12 digits, such as -1001234567890)"
    )
