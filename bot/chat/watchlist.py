"""One source of truth: the config file is the seed, chat edits are layered on top.

The effective watchlist is file ∪ chat. Items the file defines can be paused and resumed from
chat but never edited or removed there (the reply names the file); items made in chat can be
edited in chat. A chat item never takes an id the file uses; when a later file edit starts
using one, the file's wins and the chat item is left out (and said to be). Pure: the stored
chat edits and the loaded config in, the effective config out.

    effective = merged(config, edits)           # what polling, matching and routing use
    edits, reply = apply(edits, config, parsed, file=path)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from bot.chat.commands import Named, Parsed, Problem, Route, Watch
from bot.config.settings import ChannelConfig, Config, SourceConfig
from bot.model import TopicConfig


@dataclass(frozen=True, slots=True)
class ChatEdits:
    """What operators changed from chat (stored; this is its plain value)."""

    topics: tuple[TopicConfig, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()  # channels routed to from chat
    paused: frozenset[str] = frozenset()  # source ids, the file's or chat's


@dataclass(frozen=True, slots=True)
class Outcome:
    edits: ChatEdits
    reply: str
    changed: bool  # whether the effective watchlist changed (a reload is due)


def merged(config: Config, edits: ChatEdits) -> Config:
    """The effective watchlist: the file's items, then chat's whose ids the file leaves free;
    paused sources are kept but not polled."""
    topics = (*config.topics, *_free(edits.topics, {t.id for t in config.topics}))
    sources = (*config.sources, *_free(edits.sources, {s.id for s in config.sources}))
    channels = (*config.channels, *_free(edits.channels, {c.id for c in config.channels}))
    sources = tuple(replace(s, enabled=False) if s.id in edits.paused else s for s in sources)
    return replace(config, topics=topics, sources=sources, channels=channels)


def shadowed(config: Config, edits: ChatEdits) -> list[str]:
    """Chat items the file has since taken the ids of (left out of the watchlist)."""
    topics = [t.id for t in edits.topics if t.id in {t.id for t in config.topics}]
    return topics + [s.id for s in edits.sources if s.id in {s.id for s in config.sources}]


def apply(edits: ChatEdits, config: Config, command: str, parsed: Parsed, file: Path) -> Outcome:
    """The chat edits after `/command`, and the reply. `config` is the file's, unmerged."""
    if isinstance(parsed, Problem):
        return Outcome(edits, parsed.message, changed=False)
    if command == "watch" and isinstance(parsed, Watch):
        return _watch(edits, config, parsed, file)
    if command == "unwatch" and isinstance(parsed, Named):
        return _unwatch(edits, config, parsed.ident, file)
    if command in ("pause", "resume") and isinstance(parsed, Named):
        return _pause(edits, config, parsed.ident, pause=command == "pause")
    if command == "unroute" and isinstance(parsed, Route):
        return _unroute(edits, config, parsed, file)
    return Outcome(edits, f"/{command} is not a watchlist edit", changed=False)


def _watch(edits: ChatEdits, config: Config, watch: Watch, file: Path) -> Outcome:
    if any(t.id == watch.topic_id for t in config.topics):
        return Outcome(edits, f"topic {watch.topic_id} is defined in {file}: edit it there", False)
    kept = tuple(t for t in edits.topics if t.id != watch.topic_id)
    verb = "changed" if len(kept) < len(edits.topics) else "added"
    topic = TopicConfig(watch.topic_id, watch.topic_id, watch.query)
    return Outcome(
        replace(edits, topics=(*kept, topic)), f"topic {watch.topic_id} {verb}: {watch.query}", True
    )


def _unwatch(edits: ChatEdits, config: Config, topic_id: str, file: Path) -> Outcome:
    if any(t.id == topic_id for t in config.topics):
        return Outcome(edits, f"topic {topic_id} is defined in {file}: remove it there", False)
    kept = tuple(t for t in edits.topics if t.id != topic_id)
    if len(kept) == len(edits.topics):
        return Outcome(edits, f"there is no topic {topic_id}", False)
    channels = tuple(
        replace(c, topics=tuple(t for t in c.topics or () if t != topic_id)) for c in edits.channels
    )
    channels = tuple(c for c in channels if c.topics)
    return Outcome(
        replace(edits, topics=kept, channels=channels), f"topic {topic_id} removed", True
    )


def _pause(edits: ChatEdits, config: Config, source_id: str, *, pause: bool) -> Outcome:
    known = {s.id for s in (*config.sources, *edits.sources)}
    if source_id not in known:
        return Outcome(edits, f"there is no source {source_id}", False)
    if pause == (source_id in edits.paused):
        state = "paused" if pause else "not paused"
        return Outcome(edits, f"source {source_id} is {state} already", False)
    paused = edits.paused | {source_id} if pause else edits.paused - {source_id}
    verb = "paused: not polled until /resume" if pause else "resumed"
    return Outcome(replace(edits, paused=frozenset(paused)), f"source {source_id} {verb}", True)


def route(edits: ChatEdits, config: Config, wanted: Route, file: Path) -> Outcome:
    """Send a topic to a channel (the runtime checks with Telegram first that the channel
    exists, the bot may post there and the operator administers it)."""
    topic_ids = {t.id for t in (*config.topics, *edits.topics)}
    if wanted.topic_id not in topic_ids:
        return Outcome(edits, f"there is no topic {wanted.topic_id}", False)
    if any(c.chat_id == wanted.channel for c in config.channels):
        return Outcome(
            edits, f"channel {wanted.channel} is defined in {file}: route it there", False
        )
    existing = next((c for c in edits.channels if c.chat_id == wanted.channel), None)
    if existing is not None and wanted.topic_id in (existing.topics or ()):
        return Outcome(edits, f"{wanted.topic_id} already goes to {wanted.channel}", False)
    if existing is None:
        channel = ChannelConfig(_channel_id(wanted.channel), wanted.channel, (wanted.topic_id,))
    else:
        channel = replace(existing, topics=(*(existing.topics or ()), wanted.topic_id))
    others = tuple(c for c in edits.channels if c.chat_id != wanted.channel)
    return Outcome(
        replace(edits, channels=(*others, channel)),
        f"{wanted.topic_id} now goes to {wanted.channel}",
        True,
    )


def _unroute(edits: ChatEdits, config: Config, wanted: Route, file: Path) -> Outcome:
    if any(c.chat_id == wanted.channel for c in config.channels):
        return Outcome(
            edits, f"channel {wanted.channel} is defined in {file}: edit it there", False
        )
    existing = next((c for c in edits.channels if c.chat_id == wanted.channel), None)
    if existing is None or wanted.topic_id not in (existing.topics or ()):
        return Outcome(edits, f"{wanted.topic_id} does not go to {wanted.channel}", False)
    left = tuple(t for t in existing.topics or () if t != wanted.topic_id)
    others = tuple(c for c in edits.channels if c.chat_id != wanted.channel)
    channels = (*others, replace(existing, topics=left)) if left else others
    return Outcome(
        replace(edits, channels=channels),
        f"{wanted.topic_id} no longer goes to {wanted.channel}",
        True,
    )


def _channel_id(chat: str) -> str:
    """A channel id for a chat routed from chat: "chat-" and the chat, as a slug."""
    return "chat-" + "".join(c if c.isalnum() else "-" for c in chat.lower().lstrip("@")).strip("-")


_Item = TypeVar("_Item", TopicConfig, SourceConfig, ChannelConfig)


def _free(items: tuple[_Item, ...], taken: set[str]) -> tuple[_Item, ...]:
    return tuple(item for item in items if item.id not in taken)
