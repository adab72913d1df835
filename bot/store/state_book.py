"""Every source's poll state held in memory, read in O(1), written behind in batches.

A poll used to read the whole `source_state` table and write one row in its own transaction:
one cycle over N sources cost N² reads and N commits, so 1,000 sources that all answered 304
took 24 s (issue 12). The book reads the table once at start; a poll reads its source's state
from memory, and what a poll that stored nothing records (a 304, a failure) is written behind,
STATE_ROWS per transaction, when FLUSH_ROWS are waiting or FLUSH_EVERY has passed, and at stop.

Losing the states not yet written (a crash) loses no post: they say only that a source answered
304 or failed; the next start polls those sources again and drops the posts it already stored.
A poll that stores posts writes its state in its own transaction, with the posts (`committed`).

Methods are thread-safe: polls call them from the event loop, `flush` runs in a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.errors import StoreError
from bot.model import SourceState
from bot.store.database import Store

log = logging.getLogger(__name__)

FLUSH_ROWS = 1000  # states waiting that make a flush due
FLUSH_EVERY = 1.0  # seconds after which waiting states are due anyway


class StateBook:
    def __init__(self, store: Store, states: dict[str, SourceState]) -> None:
        """Use `StateBook.load`; this takes the states as loaded."""
        self._store = store
        self._states = states
        self._waiting: dict[str, tuple[SourceState, datetime]] = {}
        self._flushed_at = time.monotonic()
        self._lock = threading.Lock()  # the dicts
        self._flushing = threading.Lock()  # one flush at a time: batches land in order

    @classmethod
    def load(cls, store: Store) -> StateBook:
        """Every state, read once (StoreError when the database is in trouble)."""
        return cls(store, store.load_states())

    @classmethod
    def of_source(cls, store: Store, source_id: str) -> StateBook:
        """A book of one source's state, read alone (StoreError as above)."""
        return cls(store, {source_id: store.load_state(source_id)})

    def get(self, source_id: str) -> SourceState:
        """The source's state: a blank one before its first poll."""
        with self._lock:
            return self._states.get(source_id) or SourceState(source_id)

    def record(self, state: SourceState, polled_at: datetime) -> None:
        """A poll that stored nothing: remembered now, written at the next flush."""
        with self._lock:
            self._states[state.source_id] = state
            self._waiting[state.source_id] = (state, polled_at)

    def committed(self, state: SourceState) -> None:
        """A poll transaction wrote this state with its posts: nothing older is to be written."""
        with self._lock:
            self._states[state.source_id] = state
            self._waiting.pop(state.source_id, None)

    def reset_backoff(self, source_ids: Sequence[str]) -> None:
        """`Store.reset_backoff` happened: the states in memory and waiting follow it."""
        with self._lock:
            for source_id in source_ids:
                state = self._states.get(source_id)
                if state is not None:
                    self._states[source_id] = replace(state, failures=0, next_poll_at=None)
                if source_id in self._waiting:
                    waiting, at = self._waiting[source_id]
                    self._waiting[source_id] = (
                        replace(waiting, failures=0, next_poll_at=None),
                        at,
                    )

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def due(self) -> bool:
        """Whether enough states wait, or long enough, for a flush to be worth it now."""
        if not self._waiting:
            return False
        return (
            len(self._waiting) >= FLUSH_ROWS or time.monotonic() - self._flushed_at >= FLUSH_EVERY
        )

    def flush(self) -> int:
        """Write the waiting states (short transactions); how many. A batch the database
        refuses goes back to wait for the next flush, unless a newer state replaced it:
        StoreError is logged, never raised, since a poll that stored nothing lost nothing."""
        with self._flushing:
            with self._lock:
                batch, self._waiting = self._waiting, {}
                self._flushed_at = time.monotonic()
            if not batch:
                return 0
            try:
                self._store.save_states(list(batch.values()))
            except StoreError as exc:
                with self._lock:
                    for source_id, entry in batch.items():
                        self._waiting.setdefault(source_id, entry)
                log.warning(
                    "%d source states not written yet, trying again shortly: %s", len(batch), exc
                )
                return 0
            return len(batch)
