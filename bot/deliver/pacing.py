"""Pacing: keep sends under Telegram's flood limits before Telegram has to answer 429.

Telegram words its limits as counts per window (https://core.telegram.org/bots/faq): about 30
messages a second overall, about one a second in any one chat, 20 a minute in a group or
channel. The pacer keeps exactly that promise with a sliding log per window: a message may go
when, counting it, no window of that length holds more than the limit. A token bucket of the
same long-run rate cannot: a bucket of capacity b admits b + rate × window messages in one
window, so it either exceeds "20 a minute" after a burst or, with b near 0, never allows the
burst of 20 the limit does.

Times are seconds on any steady clock (the deliverer passes its injected clock). Sends are
recorded when Telegram's answer arrives, which is never earlier than when Telegram counted
them, so the gaps Telegram sees are at least the gaps kept here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

# A little room for clocks that tick differently (ours vs Telegram's): 1% of each window.
SLACK = 0.01


@dataclass(frozen=True, slots=True)
class Window:
    count: int
    seconds: float


def is_group(chat: str) -> bool:
    """Groups, supergroups and channels have negative ids or are addressed by @username."""
    return chat.startswith(("-", "@"))


class Pacer:
    """When the next message to a chat may go. Not thread-safe: one delivery loop owns it."""

    def __init__(
        self, overall: Window, per_chat: Window, per_group: Window, *, enabled: bool = True
    ) -> None:
        self.overall, self.per_chat, self.per_group = overall, per_chat, per_group
        self.enabled = enabled  # off: only holds (a 429) delay anything
        self._logs: dict[tuple[str, str], deque[float]] = {}
        self._hold_until = 0.0
        self._chat_holds: dict[str, float] = {}

    def set_limits(self, overall: Window, per_chat: Window, per_group: Window) -> None:
        """New limits (a config reload); what was sent stays counted."""
        self.overall, self.per_chat, self.per_group = overall, per_chat, per_group

    def _windows(self, chat: str) -> list[tuple[tuple[str, str], Window]]:
        windows = [(("*", "overall"), self.overall), ((chat, "chat"), self.per_chat)]
        if is_group(chat):
            windows.append(((chat, "group"), self.per_group))
        return windows

    def ready_at(self, chat: str, now: float) -> float:
        """The earliest time, `now` or later, a message to `chat` keeps every limit."""
        ready = max(now, self.held_until(chat))
        if not self.enabled:
            return ready
        for key, window in self._windows(chat):
            log = self._logs.get(key)
            if log is None:
                continue
            span = window.seconds * (1 + SLACK)
            while log and log[0] <= now - span:
                log.popleft()
            if len(log) >= window.count:
                # The (count)-th newest send must leave the window first.
                ready = max(ready, log[len(log) - window.count] + span)
        return ready

    def record(self, chat: str, at: float) -> None:
        """A message to `chat` was accepted at `at`."""
        for key, window in self._windows(chat):
            log = self._logs.setdefault(key, deque())
            log.append(at)
            while len(log) > window.count:
                log.popleft()

    def hold(self, until: float, chat: str | None = None) -> None:
        """Nothing goes before `until` (Telegram answered 429 with retry_after): to `chat`,
        or to any chat when None."""
        if chat is None:
            self._hold_until = max(self._hold_until, until)
        else:
            self._chat_holds[chat] = max(self._chat_holds.get(chat, 0.0), until)

    def held_until(self, chat: str | None = None) -> float:
        """Until when a hold keeps everything (chat None), or `chat`, waiting."""
        if chat is None:
            return self._hold_until
        return max(self._hold_until, self._chat_holds.get(chat, 0.0))
