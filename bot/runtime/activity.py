"""What the running bot did lately, for one summary line every `log_every`: at INFO a daemon
otherwise says nothing while nothing is new, and "is it alive?" deserves an answer in the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.log import counted
from bot.poll import PollReport


@dataclass
class Activity:
    """Counters since the last summary; the runtime records every poll."""

    polls: int = 0
    failed: int = 0
    waiting: int = 0  # skipped: backing off
    new_posts: int = 0
    matched: int = 0
    alerts: int = 0

    def record(self, report: PollReport) -> None:
        if report.skipped:
            self.waiting += 1
            return
        self.polls += 1
        self.failed += report.error is not None
        self.new_posts += report.stored
        self.matched += report.matched
        self.alerts += report.alerts

    def summary(self, period: str, backlog: int) -> str:
        """The line for the period just ended; the counters start again."""
        line = (
            f"last {period}: {counted(self.polls, 'poll')} ({self.failed} failed, "
            f"{self.waiting} backing off), {counted(self.new_posts, 'new post')}, "
            f"{self.matched} matched, {counted(self.alerts, 'alert')} queued; "
            f"{counted(backlog, 'alert')} waiting in the outbox"
        )
        self.polls = self.failed = self.waiting = self.new_posts = self.matched = 0
        self.alerts = 0
        return line
