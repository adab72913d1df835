"""The bot's Prometheus metrics, named `postwatch_*` (counters `_total`, durations `_seconds`).

Labels are bounded: a source kind, an outcome, an alert status, a source state. Never a source
id, a chat id or anything a post says: one label value per source would grow without bound,
and post text does not belong in a metrics system.

    metrics = Metrics()                       # its own registry (tests run several runtimes)
    metrics.record_poll(report, kind, seconds)
    metrics.exposition()                      # the text /metrics serves
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.deliver.loop import DeliveryReport
from bot.poll import PollReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus text format 0.0.4
# First seen → sent, up to the 2 h after which the flood guard makes a digest of what waits.
LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.fetches = Counter(
            "postwatch_fetches", "Source polls by kind and outcome", ["kind", "outcome"], registry=r
        )
        self.fetch_seconds = Histogram(
            "postwatch_fetch_seconds",
            "Time one poll took",
            ["kind"],
            buckets=FETCH_BUCKETS,
            registry=r,
        )
        self.posts_stored = Counter("postwatch_posts_stored", "New posts stored", registry=r)
        self.matched_posts = Counter(
            "postwatch_matched_posts", "New posts matching a topic", registry=r
        )
        self.stories_joined = Counter(
            "postwatch_stories_joined", "Posts that joined a story already alerted", registry=r
        )
        self.alerts = Counter(
            "postwatch_alerts", "Alerts by what became of them", ["status"], registry=r
        )
        self.throttled = Counter("postwatch_telegram_429", "429 answers from Telegram", registry=r)
        self.backlog = Gauge("postwatch_outbox_backlog", "Alerts waiting to be sent", registry=r)
        self.oldest_waiting = Gauge(
            "postwatch_outbox_oldest_age_seconds", "Age of the oldest waiting alert", registry=r
        )
        self.latency = Histogram(
            "postwatch_delivery_latency_seconds",
            "First seen to sent, per alert",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sources = Gauge("postwatch_sources", "Sources by state", ["state"], registry=r)
        self.last_success = Gauge(
            "postwatch_last_successful_poll_timestamp_seconds",
            "When any source was last polled without error (Unix time)",
            registry=r,
        )
        self.missed_jobs = Counter(
            "postwatch_scheduler_missed_jobs", "Scheduler runs missed or coalesced", registry=r
        )

    def record_poll(self, report: PollReport, kind: str, seconds: float, now: datetime) -> None:
        if report.skipped:
            return
        if report.error is None:
            outcome = "not_modified" if report.not_modified else "ok"
            self.last_success.set(now.timestamp())
        elif (report.error_kind or "").startswith("bug"):
            outcome = "bug"  # the class of our own bug stays in the log, not in a label
        else:
            outcome = report.error_kind or "error"  # one of bot.errors' classes: a bounded set
        self.fetches.labels(kind, outcome).inc()
        self.fetch_seconds.labels(kind).observe(seconds)
        self.posts_stored.inc(report.stored)
        self.matched_posts.inc(report.matched)
        self.stories_joined.inc(report.joined)

    def record_delivery(self, report: DeliveryReport) -> None:
        for status, count in (
            ("sent", report.sent),
            ("failed", report.failed),
            ("uncertain", report.uncertain),
            ("retried", report.retrying),
        ):
            if count:
                self.alerts.labels(status).inc(count)

    def record_latency(self, seconds: float) -> None:
        self.latency.observe(max(seconds, 0.0))

    def set_backlog(self, waiting: int, oldest_age: float) -> None:
        self.backlog.set(waiting)
        self.oldest_waiting.set(oldest_age)

    def set_sources(self, by_state: dict[str, int]) -> None:
        for state, count in by_state.items():
            self.sources.labels(state).set(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
