"""An in-memory story index: the lookup the SQL store mirrors, for tests and benchmarks.

The store keeps one row per (key, post): `(key BIGINT, story_id, post, seen_at)`, plain inserts
in the poll's transaction. A lookup is
    SELECT story_id, post, seen_at FROM story_keys
    WHERE key IN (:keys) AND seen_at >= :now - :window
keeping the newest MAX_POSTS_PER_KEY rows of each key (PostgreSQL: a LATERAL subquery per key
with ORDER BY seen_at DESC LIMIT; SQLite: ROW_NUMBER() OVER (PARTITION BY key ORDER BY seen_at
DESC)), with an index on (key, seen_at). Rows older than the window can be deleted. Memory and
lookup cost follow the posts in the window that share a key with the new one, never the history.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import islice

from bot.model import Post
from bot.stories.keys import StoryFingerprint, fingerprint
from bot.stories.match import DEFAULT_THRESHOLD, DEFAULT_WINDOW, StoryCandidate, choose_stories

# A key held by more posts than this within the window is a stock phrase or a story relayed
# very often; only its newest rows are returned, so no phrase can make every lookup slow. A real
# copy shares many keys and is found through the others. On the bench (20,000 posts) 64 joined
# exactly what 16 joins, 1.6x slower.
MAX_POSTS_PER_KEY = 16


class MemoryStoryIndex:
    """Keys → the posts with that key seen within the window, in the order they were recorded."""

    def __init__(
        self, *, window: timedelta = DEFAULT_WINDOW, threshold: float = DEFAULT_THRESHOLD
    ) -> None:
        self.window = window
        self.threshold = threshold
        # A bare row while only one post has the key, which is nearly always: a deque per key
        # would triple the memory.
        self._rows: dict[int, StoryCandidate | deque[StoryCandidate]] = {}
        self._expiry: deque[StoryCandidate] = deque()
        self._next_story = 1
        # Whether rows were recorded in time order, so that `_expire` leaves only rows within the
        # window and a lookup need not check each row's time.
        self._in_order = True

    def __len__(self) -> int:
        """Rows held: (key, post) pairs within the window."""
        return sum(1 if isinstance(v, StoryCandidate) else len(v) for v in self._rows.values())

    def lookup(self, keys: Iterable[int], *, now: datetime) -> list[StoryCandidate]:
        """Distinct stored posts holding any of `keys`, seen within the window."""
        self._expire(now)
        start = now - self.window
        found: dict[int, StoryCandidate] = {}  # by id(): a candidate's own hash is its fields'
        rows = self._rows
        for key in keys:
            row = rows.get(key)
            if row is None:
                continue
            if isinstance(row, StoryCandidate):
                found[id(row)] = row
                continue
            newest = list(islice(reversed(row), MAX_POSTS_PER_KEY))
            found.update(zip(map(id, newest), newest, strict=True))
        if self._in_order:
            return list(found.values())  # all within the window: `_expire` dropped the others
        return [c for c in found.values() if c.seen_at >= start]

    def record(self, fp: StoryFingerprint, story_id: int, seen_at: datetime) -> None:
        """Store one post's rows. Times should not go backwards, as in a poller."""
        row = StoryCandidate(story_id, fp, seen_at)
        if self._expiry and seen_at < self._expiry[-1].seen_at:
            self._in_order = False
        added: dict[int, StoryCandidate | deque[StoryCandidate]] = dict.fromkeys(fp.keys, row)
        rows = self._rows
        for key in rows.keys() & added.keys():  # most keys are new: those go in at C speed
            held = rows[key]
            if isinstance(held, StoryCandidate):
                added[key] = deque((held, row))
            else:
                held.append(row)
                added[key] = held
        rows.update(added)
        self._expiry.append(row)
        self._next_story = max(self._next_story, story_id + 1)

    def assign(self, post: Post, now: datetime) -> int:
        """The story of a new post, recorded: an existing one, or the next new number."""
        return self.assign_batch([post], now)[0]

    def assign_batch(self, posts: Sequence[Post], now: datetime) -> list[int]:
        """Stories of one poll's posts, deduplicated among themselves too, recorded."""
        fps = [fingerprint(post) for post in posts]
        candidates = self.lookup({key for fp in fps for key in fp.keys}, now=now)
        choices = choose_stories(
            fps, candidates, now=now, window=self.window, threshold=self.threshold
        )
        stories: list[int] = []
        for index, (fp, choice) in enumerate(zip(fps, choices, strict=True)):
            if choice.story_id is not None:
                story = choice.story_id
            elif choice.new_story is None or choice.new_story == index:
                story = self._next_story
            else:
                story = stories[choice.new_story]
            self.record(fp, story, now)
            stories.append(story)
        return stories

    def _expire(self, now: datetime) -> None:
        start = now - self.window
        while self._expiry and self._expiry[0].seen_at < start:
            old = self._expiry.popleft()
            for key in old.fingerprint.keys:
                held = self._rows.get(key)
                if held is old:
                    del self._rows[key]
                elif isinstance(held, deque):
                    held.popleft()  # a key's rows are in recording order, so `old` is first
                    if len(held) == 1:
                        self._rows[key] = held[0]
