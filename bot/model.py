"""Plain typed values passed between pipeline stages.

Every stage takes and returns these; table classes stay inside `bot.store`. All datetimes are
timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SourceKind = Literal["rss", "mastodon", "bluesky", "telegram"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("rss", "mastodon", "bluesky", "telegram")


@dataclass(frozen=True, slots=True)
class Post:
    """One post as every source adapter produces it."""

    source_id: str
    post_id: str  # unique within the source: guid, status id, AT-URI record key, message id
    text: str  # plain text, HTML already reduced
    url: str | None = None
    author: str | None = None
    title: str | None = None  # RSS/Atom items have one; social posts do not
    published_at: datetime | None = None
    lang: str | None = None  # as the source declares it (Mastodon `language`, Bluesky `langs`)
    image_url: str | None = None  # first attached image, if any

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_id, self.post_id)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a source remembers between polls; stored per source."""

    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    # Adapter-specific resume point: Mastodon account id and since_id, Bluesky newest URI, ...
    cursor: Mapping[str, str] = field(default_factory=dict)
    baseline_done: bool = False  # the first successful poll has happened
    failures: int = 0  # consecutive failed polls
    last_error: str | None = None
    next_poll_at: datetime | None = None  # set by Retry-After or backoff


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one adapter fetch returns: new posts (possibly already known) and the next state."""

    posts: list[Post]
    state: SourceState
    not_modified: bool = False  # 304: nothing was parsed


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic_id: str
    terms: tuple[str, ...]  # the query terms that fired, as written in the query


@dataclass(frozen=True, slots=True)
class AlertIntent:
    """One alert to deliver: a post to a channel, decided by routing, before it is stored."""

    source_id: str
    post_id: str
    channel_id: str
    topic_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SavedPoll:
    """What one poll stored: the new posts (input order), the alerts created, and how many
    existing alerts gained an "Also posted by" name from a copy of their story."""

    posts: list[Post]
    alerts: int = 0
    joined: int = 0


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A pending outbox row as the store returns it, joined with its post and matched terms."""

    alert_id: int
    channel_id: str
    post: Post
    topic_ids: tuple[str, ...]
    terms: tuple[str, ...]  # terms that fired across the alert's topics, for highlighting
    attempts: int
    created_at: datetime
    # Other accounts that carried the same story, e.g. "@TrumpDailyPosts (X)" (Store.request_edit)
    also_posted_by: tuple[str, ...] = ()
    ambiguous: int = 0  # sends that may or may not have arrived (timeouts after sending)
    strikes: int = 0  # refusals and interrupted sends; bounded (bot.deliver)


@dataclass(frozen=True, slots=True)
class Alert:
    """Everything rendering needs: an outbox item resolved against the current config."""

    alert_id: int
    chat_id: str
    post: Post
    source_kind: str
    topic_names: tuple[str, ...]
    terms: tuple[str, ...]
    also_posted_by: tuple[str, ...] = ()  # shown as "Also posted by: ..."
    source_name: str | None = None  # the source's configured `name:`


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What a notifier returns once the recipient acknowledged the message."""

    message_id: int | None  # None for the console notifier
    chat_id: str
    # Details of the answer, not the message's identity (which is the id in that chat).
    chat_number: int | None = field(default=None, compare=False)  # the chat's numeric id
    photo: bool = field(default=False, compare=False)  # sent as a photo: edits change the caption


@dataclass(frozen=True, slots=True)
class ExportRow:
    source: str
    id: str
    url: str | None
    author: str | None
    title: str | None
    text: str
    published_at: datetime | None
    topics: tuple[str, ...]
    # topic id -> the query terms that fired for it, as written in the query
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    story: int | None = None  # the story's id: the database id of the post that started it


@dataclass(frozen=True, slots=True)
class StoryMember:
    """One post of a story, when postwatch first saw it, and the topics it matched."""

    post: Post
    seen_at: datetime
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StorySummary:
    """A story as `postwatch stories` lists it: its posts in the order they were seen."""

    story_id: int
    members: tuple[StoryMember, ...]


@dataclass(frozen=True, slots=True)
class EditItem:
    """A sent alert whose message is due an edit (new names for "Also posted by")."""

    item: OutboxItem
    chat_number: int  # where the message went
    message_id: int
    caption: bool  # sent as a photo: the caption is what gets edited
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What delivery learned about a configured channel, for the chat id configured now."""

    channel_id: str
    config_chat: str  # the chat_id in the config these facts are about
    chat_number: int | None = None  # resolved 64-bit chat id (after a send or a migration)
    disabled_reason: str | None = None  # 403 / chat not found: nothing is sent until restart
    disabled_at: datetime | None = None
    admins_told_at: datetime | None = None
    last_digest_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """The one-deliverer-per-database lease as a claim on it left it."""

    held: bool  # the claimant holds it now
    holder: str  # who holds it
    expires_at: datetime
    previous: str | None = None  # the holder taken over from (expired or known dead)


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    channel_id: str
    sent: int = 0  # in the stats window
    failed: int = 0  # in the stats window
    uncertain: int = 0  # in the stats window
    pending: int = 0  # now, whatever their age (pending or being sent)
    oldest_pending: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What `postwatch stats` reports, read in one transaction."""

    since: datetime
    latencies: tuple[float, ...]  # seconds from first seen to sent, alerts sent since `since`
    channels: tuple[ChannelCounts, ...]
    statuses: Mapping[str, int]  # every outbox row by status, all time
    channel_states: tuple[ChannelState, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """A tracked topic as configured. Here, not in bot.config: the watchlist (bot.classify)
    compiles it, and the config checks its query with bot.classify's parser."""

    id: str
    name: str
    query: str
