"""The delivery settings and per-channel options in the config: defaults, parsing, and every
problem reported with its key path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config.build import build_config
from bot.config.delivery import parse_rate
from bot.config.load import load_config
from bot.config.settings import DeliverySettings, RateLimit
from bot.errors import ConfigError

EXAMPLE = Path(__file__).parents[1] / "config" / "example.yaml"


def document(**extra: Any) -> dict[str, Any]:
    channel = {"id": "news", "chat_id": "-1001234567890", **extra.pop("channel", {})}
    return {
        "channels": [channel],
        "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        "topics": [{"id": "t1", "query": "ceasefire"}],
        **extra,
    }


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_config(doc, {})
    return caught.value.problems


def test_defaults_are_telegrams_published_limits() -> None:
    config = build_config(document(), {})
    assert config.delivery == DeliverySettings()
    assert config.delivery.burst == 10
    assert config.delivery.max_delay == timedelta(hours=2)
    assert config.delivery.overall == RateLimit(30, timedelta(seconds=1))
    assert config.delivery.per_chat == RateLimit(1, timedelta(seconds=1))
    assert config.delivery.per_group == RateLimit(20, timedelta(minutes=1))
    (channel,) = config.channels
    assert (channel.thread_id, channel.silent, channel.link_preview) == (None, False, True)
    assert (channel.digest, channel.media) == (None, False)


def test_delivery_section_and_channel_options_are_read() -> None:
    config = build_config(
        document(
            delivery={
                "burst": 25,
                "max_delay": "30m",
                "limits": {"overall": "300/1s", "per_chat": "10/s", "per_group": "200/m"},
            },
            channel={
                "thread_id": 42,
                "silent": True,
                "link_preview": False,
                "digest": "1h",
                "media": True,
            },
        ),
        {},
    )
    assert (config.delivery.burst, config.delivery.max_delay) == (25, timedelta(minutes=30))
    assert config.delivery.overall == RateLimit(300, timedelta(seconds=1))
    assert config.delivery.per_chat == RateLimit(10, timedelta(seconds=1))
    assert config.delivery.per_group == RateLimit(200, timedelta(minutes=1))
    (channel,) = config.channels
    assert (channel.thread_id, channel.silent, channel.link_preview) == (42, True, False)
    assert (channel.digest, channel.media) == (timedelta(hours=1), True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30/1s", (30, 1)), ("20/1m", (20, 60)), ("20/m", (20, 60)), (" 5 / 90s ", (5, 90))],
)
def test_rates_are_messages_per_window(text: str, expected: tuple[int, int]) -> None:
    rate = parse_rate(text)
    assert (rate.count, rate.per.total_seconds()) == expected


def test_every_delivery_problem_is_reported_with_its_key_path() -> None:
    found = problems(
        document(
            delivery={
                "burst": 0,
                "max_delay": "soon",
                "limits": {"overall": "fast", "per_group": "0/1m", "per_chat": "1/2h"},
                "bursts": 3,
            },
            channel={"thread_id": "general", "silent": "yes", "digest": "10s", "media": 1},
        )
    )
    for key in (
        "delivery.burst",
        "delivery.max_delay",
        "delivery.limits.overall",
        "delivery.limits.per_group",
        "delivery.limits.per_chat",
        "delivery.bursts: unknown key (did you mean 'burst'?)",
        "channels[0].thread_id",
        "channels[0].silent",
        "channels[0].digest",
        "channels[0].media",
    ):
        assert any(p.startswith(key) for p in found), (key, found)


def test_the_example_config_documents_the_delivery_keys() -> None:
    config = load_config(EXAMPLE, {})
    assert config.delivery == DeliverySettings()
    text = EXAMPLE.read_text()
    for key in ("burst:", "max_delay:", "per_group:", "thread_id:", "silent:", "link_preview:"):
        assert key in text
    for key in ("digest:", "media:"):
        assert key in text
