"""`postwatch run --once` over sources that break in every way issue 9 found, as a real
subprocess against a local feed server and a real database; and the summary it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Result, write_config
from fakes.feed_server import FeedServer

from bot.cli.exit_codes import EXIT_ALERTS, EXIT_OK, EXIT_SOURCES
from bot.cli.run import exit_code
from bot.deliver.loop import DeliveryReport
from bot.poll import PollReport
from bot.runtime.summary import describe_failures, summarize_polls
from bot.store.database import Store

LAUNCHER = Path(__file__).resolve().parent / "contain_launcher.py"


def rss(*items: tuple[str, str, str | None]) -> str:
    body = "".join(
        f"<item><guid>{guid}</guid><description>{text}</description>"
        + (f"<link>{link}</link>" if link else "")
        + "<pubDate>Wed, 18 Mar 2026 14:00:00 GMT</pubDate></item>"
        for guid, text, link in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )


def launch(config: Path, *args: str) -> Result:
    """The real command line, with a bug planted for sources named "buggy…"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWATCH_")}
    done = subprocess.run(
        [sys.executable, str(LAUNCHER), "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def configure(path: Path, db_url: str, sources: list[dict[str, Any]]) -> Path:
    return write_config(
        path,
        {
            "database_url": db_url,
            "network": {"allow_private_addresses": True, "timeout": "5s"},
            "defaults": {"every": "1m", "max_age": "36500d"},
            "channels": [{"id": "all", "chat_id": "@ceasefire_alerts"}],
            "sources": sources,
            "topics": [{"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire"}],
        },
    )


def test_run_once_contains_every_kind_of_failure_and_says_so(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/news.xml", rss(("n1", "Ceasefire agreed", None), ("n2", "Talks go on", None))
    )
    # The original crash: a link urlsplit refuses, here inside the text, where fingerprinting
    # finds it whatever the feed parser does with links.
    feed_server.route(
        "/ipv6-text.xml",
        rss(("t1", "Ceasefire: details at http://[::1 soon", None), ("t2", "Calm night", None)),
    )
    feed_server.route(
        "/ipv6-link.xml",
        rss(("l1", "Ceasefire holds", "http://[::1"), ("l2", "Markets up", "https://ok.example/a")),
    )
    feed_server.route("/buggy.xml", rss(("b1", "Never stored", None)))
    feed_server.route("/gone.xml", "maintenance", status=503, retry_after="3600")
    db_url = f"sqlite:///{tmp_path / 'postwatch.db'}"
    sources = [
        {"id": name, "kind": "rss", "url": feed_server.url(f"/{name}.xml")}
        for name in ("news", "ipv6-text", "ipv6-link", "buggy", "gone")
    ]
    config = configure(tmp_path / "postwatch.yaml", db_url, sources)

    first = launch(config, "run", "--once")

    with Store.open(db_url) as store:
        states = store.load_states()
    assert (states["buggy"].failures, states["buggy"].last_error) == (
        1,
        "internal error KeyError: 'guid'",
    )
    assert not states["buggy"].baseline_done  # never advanced past its failure
    gone = states["gone"].last_error or ""
    assert states["gone"].failures == 1 and gone.startswith("HTTP 503 from ")
    assert "run complete: 5 sources polled (2 failed), 0 waiting out a backoff" in first.stderr
    assert (
        f"2 sources failed: 1 HttpStatusError (gone: {gone}), "
        "1 bug: KeyError (buggy: internal error KeyError: 'guid')"
    ) in first.stderr
    assert first.stderr.count("Traceback (most recent call last)") == 1  # the bug's, once
    with Store.open(db_url) as store:
        stored = {(row.source, row.id) for row in store.export_posts()}
    assert stored == {
        ("news", "n1"),
        ("news", "n2"),
        ("ipv6-text", "t1"),
        ("ipv6-text", "t2"),
        ("ipv6-link", "l1"),
        ("ipv6-link", "l2"),
    }
    # Exactly what a fetch error alone gets; `exit_code` is the one path for all kinds.
    assert first.code == EXIT_SOURCES

    # The 503's Retry-After parks "gone": waiting, not polled. The bug fails again.
    second = launch(config, "run", "--once")
    assert "run complete: 4 sources polled (1 failed), 1 waiting out a backoff" in second.stderr
    assert "1 source failed: 1 bug: KeyError (buggy: " in second.stderr
    assert second.code == EXIT_SOURCES
    with Store.open(db_url) as store:
        assert store.load_states()["buggy"].failures == 2


def report(source_id: str, **fields: Any) -> PollReport:
    return PollReport(source_id, **fields)


def test_the_summary_groups_failures_and_counts_only_sources_actually_polled() -> None:
    reports = [
        report("a", stored=3, joined=1, damaged=1),
        report("z", error="HTTP 404 from https://z.example/rss", error_kind="HttpStatusError"),
        report("b", error="HTTP 410 from https://b.example/rss", error_kind="HttpStatusError"),
        report(
            "c", error="internal error ValueError: Invalid IPv6 URL", error_kind="bug: ValueError"
        ),
        report("d", skipped=True),
        report("e", not_modified=True),
    ]
    summary = summarize_polls(reports, examples=1)

    assert (summary.polled, summary.waiting, summary.failed) == (5, 1, 3)
    assert (summary.stored, summary.joined, summary.damaged) == (3, 1, 1)
    assert describe_failures(summary.failures) == (
        "2 HttpStatusError (b: HTTP 410 from https://b.example/rss; 1 more), "
        "1 bug: ValueError (c: internal error ValueError: Invalid IPv6 URL)"
    )
    assert describe_failures(summary.failures, kinds=1) == (
        "2 HttpStatusError (b: HTTP 410 from https://b.example/rss; 1 more), 1 of 1 other kinds"
    )


def test_long_errors_are_clipped_to_one_line() -> None:
    long = report("x", error="HTTP 500\n" + "y" * 400, error_kind="HttpStatusError")
    [group] = summarize_polls([long]).failures
    [(_, error)] = group.examples
    assert "\n" not in error and len(error) == 160 and error.endswith("…")


@pytest.mark.parametrize("kind", ["HttpStatusError", "ParseError", "StoreError", "bug: KeyError"])
def test_every_kind_of_failure_takes_the_same_exit_code_path(kind: str) -> None:
    failed = summarize_polls([report("s", error="e", error_kind=kind)])
    fine = summarize_polls([report("s")])
    delivered = DeliveryReport(sent=1)
    assert exit_code(failed, delivered, 0) == EXIT_SOURCES
    assert exit_code(fine, delivered, 0) == EXIT_OK
    waiting = summarize_polls([report("s", skipped=True)])
    assert exit_code(waiting, delivered, 0) == EXIT_SOURCES
    assert exit_code(failed, DeliveryReport(failed=1), 0) == EXIT_ALERTS  # before sources
    assert exit_code(fine, DeliveryReport(), 3) == EXIT_ALERTS  # still waiting after the run
