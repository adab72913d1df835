"""An in-memory story index: the lookup the SQL store mirrors, for tests and benchmarks.

Rows are what the store keeps, one per (key, story): `(key, story_id, post, seen_at)`, upserted
to the story's latest post with that key. `lookup` is `SELECT ... WHERE key IN (:keys) AND
seen_at >= :now - :window`, keeping the newest MAX_STORIES_PER_KEY rows of each key; rows older
than the window are dropped as time passes, so memory and lookup cost follow the window, not the
history.
"""

from __future__ import annotations

import heapq
from itertools import islice
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.model import Post
from bot.stories import (
    DEFAULT_THRESHOLD,
    MAX_STORIES_PER_KEY,
    DEFAULT_WINDOW,
    StoryCandidate,
    StoryFingerprint,
    choose_stories,
    fingerprint,
)


class MemoryStoryIndex:
    """Keys → the latest post of each story with that key, within the window."""

    def __init__(
        self, *, window: timedelta = DEFAULT_WINDOW, threshold: float = DEFAULT_THRESHOLD
    ) -> None:
        self.window = window
        self.threshold = threshold
        # key -> {story_id: candidate}; a bare candidate while only one story has the key,
        # which is nearly always (a dict per key would triple the memory).
        self._rows: dict[int, StoryCandidate | dict[int, StoryCandidate]] = {}
        self._expiry: list[tuple[datetime, int, StoryCandidate]] = []  # (seen_at, seq, row)
        self._seq = 0
        self._next_story = 1

    def __len__(self) -> int:
        """Rows held: (key, story) pairs within the window."""
        return sum(1 if isinstance(v, StoryCandidate) else len(v) for v in self._rows.values())

    def lookup(self, keys: Iterable[int], *, now: datetime) -> list[StoryCandidate]:
        """Distinct rows with any of `keys` seen within the window, by (story_id, seen_at)."""
        self._expire(now)
        start = now - self.window
        found: dict[int, StoryCandidate] = {}
        for key in keys:
            row = self._rows.get(key)
            if isinstance(row, StoryCandidate):
                if row.seen_at >= start:
                    found[id(row)] = row
            elif row is not None:
                # Dict order is upsert order, so the newest rows are last (a refreshed story
                # moves to the end: it is deleted and re-added).
                newest = islice(reversed(row.values()), MAX_STORIES_PER_KEY)
                found.update((id(c), c) for c in newest if c.seen_at >= start)
        return sorted(found.values(), key=lambda c: (c.story_id, c.seen_at))

    def record(self, fp: StoryFingerprint, story_id: int, seen_at: datetime) -> None:
        """Upsert the rows of one stored post: each of its keys now points at it for its story."""
        candidate = StoryCandidate(story_id, fp, seen_at)
        for key in fp.keys:
            row = self._rows.get(key)
            if row is None or (isinstance(row, StoryCandidate) and row.story_id == story_id):
                self._rows[key] = candidate
            elif isinstance(row, StoryCandidate):
                self._rows[key] = {row.story_id: row, story_id: candidate}
            else:
                row.pop(story_id, None)  # re-insert: dict order stays newest-last
                row[story_id] = candidate
        self._seq += 1
        heapq.heappush(self._expiry, (seen_at, self._seq, candidate))
        self._next_story = max(self._next_story, story_id + 1)

    def assign(self, post: Post, now: datetime) -> int:
        """The story of a new post, recording it: an existing one, or a new number."""
        return self.assign_batch([post], now)[0]

    def assign_batch(self, posts: Sequence[Post], now: datetime) -> list[int]:
        """Stories of one poll's posts, deduplicated among themselves too, recording them."""
        fps = [fingerprint(post) for post in posts]
        keys = {key for fp in fps for key in fp.keys}
        candidates = self.lookup(keys, now=now)
        choices = choose_stories(
            fps, candidates, now=now, window=self.window, threshold=self.threshold
        )
        stories: list[int] = []
        for fp, choice in zip(fps, choices, strict=True):
            if choice.story_id is not None:
                story = choice.story_id
            elif choice.new_story == len(stories):  # this post starts a new story
                story = self._next_story
                self._next_story += 1
            else:
                story = stories[choice.new_story or 0]
            self.record(fp, story, now)
            stories.append(story)
        return stories

    def _expire(self, now: datetime) -> None:
        start = now - self.window
        while self._expiry and self._expiry[0][0] < start:
            _, _, old = heapq.heappop(self._expiry)
            for key in old.fingerprint.keys:
                row = self._rows.get(key)
                if row is old:
                    del self._rows[key]
                elif isinstance(row, dict) and row.get(old.story_id) is old:
                    del row[old.story_id]
                    if len(row) == 1:
                        self._rows[key] = next(iter(row.values()))
