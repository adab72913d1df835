"""The whole path through the `postwatch` CLI: local feed servers in their real wire formats,
a real database, real python-telegram-bot talking to the fake Bot API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import export_rows, postwatch, write_config
from fakes.feed_server import FeedServer
from fakes.telegram_api import FakeTelegram

CEASEFIRE_QUERY = '(ceasefire OR "cease-fire" OR перемири*) AND (Ukraine OR Putin OR Zelensky)'
CEASEFIRE_CHAT = "@ukraine_ceasefire_alerts"
MARKETS_CHAT = "-1001111111111"
ACCOUNT = {
    "id": "1077",
    "username": "realDonaldTrump",
    "acct": "realDonaldTrump",
    "display_name": "Donald J. Trump",
    "url": "https://truthsocial.example/@realDonaldTrump",
}


def status(status_id: str, html: str, created_at: str) -> dict[str, Any]:
    return {
        "id": status_id,
        "created_at": created_at,
        "in_reply_to_id": None,
        "spoiler_text": "",
        "language": "en",
        "url": f"https://truthsocial.example/@realDonaldTrump/{status_id}",
        "content": html,
        "reblog": None,
        "account": ACCOUNT,
        "media_attachments": [],
    }


def rss(*items: tuple[str, str, str]) -> str:
    body = "".join(
        f"<item><title>{title}</title><description>{text}</description><guid>{guid}</guid>"
        f"<link>https://x.example/PressSec/status/{guid}</link>"
        "<pubDate>Wed, 18 Mar 2026 14:06:40 GMT</pubDate></item>"
        for guid, title, text in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>X</title>{body}</channel></rss>'
    )


OLD_STATUS = status(
    "100", "<p>Jobs, jobs, jobs! The economy is booming.</p>", "2026-03-18T11:00:00Z"
)
CEASEFIRE_STATUS = status(
    "101",
    "<p>Productive call with President Putin. We agreed to an immediate <b>CEASEFIRE</b> on "
    "all Energy and Infrastructure, ending the war between Russia and Ukraine!</p>",
    "2026-03-18T14:02:11Z",
)
MIRROR = (
    "m1",
    "Productive call with President Putin…",
    "Productive call with President Putin. We agreed to an immediate CEASEFIRE on all "
    "Energy and Infrastructure, ending the war between Russia and Ukraine…",
)
UNRELATED = ("u1", "Stocks rally", "Markets closed higher on strong earnings; no ceasefire news.")


@pytest.fixture
def world(tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram):
    """Three sources and two channels, as an operator would configure them."""
    feed_server.route(
        "/api/v1/accounts/lookup", json.dumps(ACCOUNT), content_type="application/json"
    )
    feed_server.route(
        "/api/v1/accounts/1077/statuses", json.dumps([OLD_STATUS]), content_type="application/json"
    )
    feed_server.route("/mirror/rss", rss())
    feed_server.route("/news/rss", rss(("n0", "Old news", "Yesterday's ceasefire talk in Ukraine")))
    config = write_config(
        tmp_path / "postwatch.yaml",
        {
            "database_url": db_url,
            "telegram": {"token": "${TELEGRAM_BOT_TOKEN}", "base_url": fake_telegram.base_url},
            "network": {"allow_private_addresses": True, "timeout": "5s"},
            "defaults": {"every": "1m", "max_age": "36500d"},
            "channels": [
                {"id": "ceasefire", "chat_id": CEASEFIRE_CHAT, "topics": ["ukraine-ceasefire"]},
                {"id": "markets", "chat_id": MARKETS_CHAT, "topics": ["markets"]},
            ],
            "sources": [
                {
                    "id": "trump-truth",
                    "kind": "mastodon",
                    "url": feed_server.url("/@realDonaldTrump"),
                },
                {"id": "mirror-x", "kind": "rss", "url": feed_server.url("/mirror/rss")},
                {"id": "news", "kind": "rss", "url": feed_server.url("/news/rss")},
            ],
            "topics": [
                {
                    "id": "ukraine-ceasefire",
                    "name": "Ukraine ceasefire",
                    "query": CEASEFIRE_QUERY,
                },
                {"id": "markets", "name": "Markets", "query": "dow OR nasdaq OR bond*"},
            ],
        },
    )
    env = {"TELEGRAM_BOT_TOKEN": fake_telegram.token}
    return config, env, feed_server, fake_telegram


def run_once(config: Path, env: dict[str, str]) -> str:
    result = postwatch("--config", str(config), "run", "--once", env=env)
    assert result.code == 0, result.stderr
    output = result.stdout + result.stderr
    assert env["TELEGRAM_BOT_TOKEN"] not in output
    return output


def test_baseline_then_new_posts_alert_once_to_the_right_channel(world) -> None:
    config, env, feeds, telegram = world

    run_once(config, env)  # the first poll of every source is a silent baseline
    assert telegram.sent_messages() == []
    assert {r["id"] for r in export_rows(config)} == {"100", "n0"}

    feeds.set_body("/api/v1/accounts/1077/statuses", json.dumps([CEASEFIRE_STATUS, OLD_STATUS]))
    feeds.set_body("/mirror/rss", rss(MIRROR))
    feeds.set_body(
        "/news/rss", rss(UNRELATED, ("n0", "Old news", "Yesterday's ceasefire talk in Ukraine"))
    )
    run_once(config, env)

    sent = telegram.sent_messages()
    assert [m.chat_id for m in sent] == [CEASEFIRE_CHAT, CEASEFIRE_CHAT]
    texts = sorted(m.text or "" for m in sent)
    assert any("truthsocial.example/@realDonaldTrump/101" in t for t in texts)
    assert any("x.example/PressSec/status/m1" in t for t in texts)
    assert all(m.params.get("parse_mode") == "HTML" for m in sent)
    assert not any("Stocks rally" in t for t in texts)  # unrelated posts never alert
    assert telegram.sent_messages(MARKETS_CHAT) == []

    run_once(config, env)  # nothing new: nothing alerts twice
    assert len(telegram.sent_messages()) == 2
    # Conditional GET: the unchanged feed was asked with its validators and answered 304.
    assert feeds.requests("/news/rss")[-1].get("if-none-match")

    rows = {r["id"]: r for r in export_rows(config)}
    assert rows["101"]["topics"] == ["ukraine-ceasefire"]
    assert rows["u1"]["topics"] == []
    assert set(rows) == {"100", "101", "m1", "n0", "u1"}  # stored once each


def test_a_failed_send_stays_pending_and_goes_out_on_the_next_run(world) -> None:
    config, env, feeds, telegram = world
    run_once(config, env)
    feeds.set_body("/mirror/rss", rss(MIRROR))
    telegram.fail_next("sendMessage", 1, error_code=502)
    run_once(config, env)
    assert telegram.sent_messages() == []
    assert len(telegram.calls("sendMessage")) == 1  # tried once, answered 502

    run_once(config, env)
    sent = telegram.sent_messages()
    assert len(sent) == 1 and "x.example/PressSec/status/m1" in (sent[0].text or "")
    run_once(config, env)
    assert len(telegram.sent_messages()) == 1


def test_a_broken_source_is_reported_and_the_others_go_on(world) -> None:
    config, env, feeds, telegram = world
    run_once(config, env)
    feeds.route(
        "/news/rss", "<rss><channel><item><title>broken", content_type="application/rss+xml"
    )
    feeds.route(
        "/api/v1/accounts/1077/statuses",
        "<html><title>Just a moment...</title></html>",
        content_type="text/html",
    )
    feeds.set_body("/mirror/rss", rss(MIRROR))
    output = run_once(config, env)
    assert "trump-truth" in output and "expected" in output  # the HTML challenge, named
    assert len(telegram.sent_messages()) == 1  # the healthy source still alerted
    assert {r["id"] for r in export_rows(config)} >= {"100", "n0", "m1"}


def test_check_reports_every_problem_with_its_key(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.yaml",
        {
            "database_url": "sqlite:///x.db",
            "sources": [
                {"id": "a", "kind": "rsss", "url": "https://example.org/rss"},
                {"id": "a", "kind": "rss", "url": "https://example.org/rss", "evry": "5m"},
            ],
            "topics": [{"id": "t", "name": "T", "query": "(ceasefire AND"}],
            "channels": [{"id": "c", "chat_id": "@c", "topics": ["nope"]}],
        },
    )
    result = postwatch("--config", str(config), "check")
    assert result.code == 2
    problems = result.stderr.splitlines()
    assert any("sources[0].kind" in p for p in problems)
    assert any("sources[1].id" in p and "duplicate" in p for p in problems)
    assert any("sources[1].evry" in p for p in problems)
    assert any("topics[0].query" in p for p in problems)
    assert any("channels[0].topics[0]" in p for p in problems)


def test_run_once_cannot_start_without_its_database(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "pg.yaml",
        {
            "database_url": "postgresql+psycopg://postwatch:hunter2@127.0.0.1:1/nowhere",
            "sources": [{"id": "a", "kind": "rss", "url": "https://example.org/rss"}],
        },
    )
    result = postwatch("--config", str(config), "run", "--once")
    assert result.code == 3
    assert "cannot open the database" in result.stderr
    assert "hunter2" not in result.stderr


def test_demo_prints_alerts_without_network_or_token() -> None:
    result = postwatch("demo", env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.code == 0, result.stderr
    assert "Ukraine ceasefire" in result.stdout
    assert "truthsocial.com/@realDonaldTrump/114186233912040211" in result.stdout
    assert "Central bank holds rates" not in result.stdout  # unrelated posts stay quiet
