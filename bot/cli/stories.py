"""`postwatch stories`: the stories stored recently, each with the posts and sources that
carried it, so an operator can see what was merged and why alerts were edited.

Formatting is pure (`format_story`, `story_record`); `list_stories` streams from the store.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import IO, Literal

from bot.cli.args import moment_at
from bot.cli.exit_codes import EXIT_CONFIG, EXIT_OK
from bot.cli.terminal import clean_for_terminal
from bot.cli.topics import unknown_topic
from bot.config.settings import Config
from bot.log import counted
from bot.model import StorySummary
from bot.store.database import Store
from bot.stories.carrier import carrier_label

StoriesFormat = Literal["text", "jsonl"]
EXCERPT_CHARS = 160  # of each post's text in the text listing: enough to tell copies apart


def list_stories(
    store: Store,
    *,
    since: datetime,
    topic_id: str | None,
    min_posts: int,
    limit: int,
    fmt: StoriesFormat,
    out: IO[str],
) -> int:
    """Write the stories; returns how many."""
    found = store.stories(since, topic_id=topic_id, min_posts=min_posts, limit=limit)
    for story in found:
        if fmt == "jsonl":
            out.write(json.dumps(story_record(story), ensure_ascii=False) + "\n")
        else:
            out.write(format_story(story) + "\n\n")
    if fmt == "text":
        shown = counted(len(found), "story", "stories") + (
            f" (newest {limit}; --limit shows more)" if len(found) == limit else ""
        )
        out.write(shown + "\n")
    return len(found)


def format_story(story: StorySummary) -> str:
    """A header (id, first seen, posts, sources, topics), then one block per post."""
    first = story.members[0]
    sources = list(dict.fromkeys(m.post.source_id for m in story.members))
    topics = sorted({t for m in story.members for t in m.topics})
    header = (
        f"story {story.story_id}  first seen {first.seen_at:%Y-%m-%d %H:%M} UTC  "
        f"{len(story.members)} post{'s' if len(story.members) != 1 else ''} from "
        f"{len(sources)} source{'s' if len(sources) != 1 else ''}"
    )
    if topics:
        header += f"  topics: {', '.join(topics)}"
    lines = [header]
    for member in story.members:
        post = member.post
        who = clean_for_terminal(carrier_label(post))
        lines.append(f"  {member.seen_at:%Y-%m-%d %H:%M}  {post.source_id}  {who}")
        if post.url:
            lines.append(f"    {clean_for_terminal(post.url)}")
        text = " ".join(clean_for_terminal(post.text).split())
        if len(text) > EXCERPT_CHARS:
            text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
        lines.append(f"    {text}")
    return "\n".join(lines)


def story_record(story: StorySummary) -> dict[str, object]:
    """A story as one JSON object: its id, first sight and every post in full."""
    return {
        "story": story.story_id,
        "first_seen": story.members[0].seen_at.isoformat(),
        "posts": [
            {
                "source": m.post.source_id,
                "id": m.post.post_id,
                "url": m.post.url,
                "author": m.post.author,
                "text": m.post.text,
                "published_at": m.post.published_at.isoformat() if m.post.published_at else None,
                "seen_at": m.seen_at.isoformat(),
                "topics": list(m.topics),
            }
            for m in story.members
        ],
    }


def stories(config: Config, args: argparse.Namespace) -> int:
    """`postwatch stories [--since ...] [--topic ID] [--min-posts N] [--limit N] [--format ...]`."""
    since = moment_at(args.since, datetime.now(UTC))
    with Store.open(config.database_url, create=False) as store:
        if args.topic is not None and (problem := unknown_topic(args.topic, config, store)):
            print(f"postwatch: {problem}", file=sys.stderr)
            return EXIT_CONFIG
        list_stories(
            store,
            since=since,
            topic_id=args.topic,
            min_posts=args.min_posts,
            limit=args.limit,
            fmt="jsonl" if args.format == "jsonl" else "text",
            out=sys.stdout,
        )
    return EXIT_OK
