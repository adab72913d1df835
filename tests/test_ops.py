"""Metrics and probes: the names a deployment scrapes, and probes answered over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.deliver.loop import DeliveryReport
from bot.ops.metrics import Metrics
from bot.ops.probes import Probes, Readiness
from bot.poll import PollReport

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_polls_and_deliveries_count_under_bounded_labels() -> None:
    metrics = Metrics()
    metrics.record_poll(PollReport("secret-source-id", stored=3, matched=2), "rss", 0.2, NOW)
    metrics.record_poll(PollReport("a", not_modified=True), "rss", 0.1, NOW)
    metrics.record_poll(
        PollReport("b", error="HTTP 404", error_kind="HttpStatusError"), "mastodon", 1.0, NOW
    )
    metrics.record_poll(PollReport("c", error="boom", error_kind="bug: KeyError"), "rss", 1.0, NOW)
    metrics.record_poll(PollReport("d", skipped=True), "rss", 0.0, NOW)  # not a fetch
    metrics.record_delivery(DeliveryReport(sent=4, failed=1))
    metrics.record_latency(12.5)
    text = metrics.exposition().decode()
    assert 'postwatch_fetches_total{kind="rss",outcome="ok"} 1.0' in text
    assert 'postwatch_fetches_total{kind="rss",outcome="not_modified"} 1.0' in text
    assert 'postwatch_fetches_total{kind="mastodon",outcome="HttpStatusError"} 1.0' in text
    assert 'postwatch_fetches_total{kind="rss",outcome="bug"} 1.0' in text
    assert "postwatch_posts_stored_total 3.0" in text
    assert 'postwatch_alerts_total{status="sent"} 4.0' in text
    assert 'postwatch_delivery_latency_seconds_bucket{le="30.0"} 1.0' in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (last,) = families["postwatch_last_successful_poll_timestamp_seconds"].samples
    assert last.value == NOW.timestamp()
    assert "secret-source-id" not in text and "KeyError" not in text  # no ids, no bug classes


async def test_probes_answer_over_http_and_readiness_follows_the_runtime() -> None:
    metrics = Metrics()
    state = [Readiness()]
    probes = Probes(metrics, lambda: state[0])
    port = await probes.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/livez")).status_code == 200
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.text) == (200, "ready\n")
            state[0] = Readiness(telegram=False)
            degraded = await client.get("/readyz")
            assert degraded.status_code == 200 and "degraded" in degraded.text
            state[0] = Readiness(database=False)
            assert (await client.get("/readyz")).status_code == 503
            scraped = await client.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert "postwatch_outbox_backlog" in scraped.text
    finally:
        await probes.stop()
