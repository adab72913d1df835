"""Routing: which channels get an alert for which new post. Pure; `now` is a parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.config.settings import ChannelConfig
from bot.model import AlertIntent, Post, TopicMatch


def route_alerts(
    posts: Sequence[Post],
    matches: Mapping[tuple[str, str], Sequence[TopicMatch]],
    channels: Sequence[ChannelConfig],
    *,
    now: datetime,
    max_age: timedelta,
    baseline: bool,
) -> list[AlertIntent]:
    """One intent per (post, channel) whose topics the post matched.

    A baseline poll (the first of a source, unless it sets alert_backlog) and posts older than
    `max_age` produce nothing: they are stored and matched, never alerted.
    """
    if baseline:
        return []
    intents: list[AlertIntent] = []
    for post in posts:
        matched = matches.get(post.key, ())
        if not matched or _too_old(post, now, max_age):
            continue
        for channel in channels:
            topic_ids = tuple(
                m.topic_id
                for m in matched
                if channel.topics is None or m.topic_id in channel.topics
            )
            if topic_ids:
                intents.append(AlertIntent(post.source_id, post.post_id, channel.id, topic_ids))
    return intents


def _too_old(post: Post, now: datetime, max_age: timedelta) -> bool:
    # A post without a date is judged by when we first saw it: now.
    return post.published_at is not None and now - post.published_at > max_age
