"""The whole path through the `postwatch` CLI: local feed servers in their real wire formats,
a real database, real python-telegram-bot talking to the fake Bot API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
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


def run_once(config: Path, env: dict[str, str], code: int = 0) -> str:
    result = postwatch("--config", str(config), "run", "--once", env=env)
    assert result.code == code, result.stderr
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

    # The post and its mirror are one story: one alert, naming the account that carried the copy.
    sent = telegram.sent_messages()
    assert [m.chat_id for m in sent] == [CEASEFIRE_CHAT]
    text = sent[0].text or ""
    assert "Also posted by" in text
    assert ("truthsocial.example/@realDonaldTrump/101" in text) != ("PressSec/status/m1" in text)
    assert sent[0].params.get("parse_mode") == "HTML"
    assert "Stocks rally" not in text  # unrelated posts never alert
    assert telegram.sent_messages(MARKETS_CHAT) == []

    run_once(config, env)  # nothing new: nothing alerts twice
    assert len(telegram.sent_messages()) == 1
    # Conditional GET: the unchanged feed was asked with its validators and answered 304.
    assert feeds.requests("/news/rss")[-1].get("if-none-match")

    rows = {r["id"]: r for r in export_rows(config)}
    assert rows["101"]["topics"] == ["ukraine-ceasefire"]
    assert rows["u1"]["topics"] == []
    assert set(rows) == {"100", "101", "m1", "n0", "u1"}  # stored once each
    assert rows["101"]["story"] == rows["m1"]["story"] != rows["u1"]["story"]


def test_a_failed_send_stays_pending_and_goes_out_on_the_next_run(world) -> None:
    config, env, feeds, telegram = world
    run_once(config, env)
    feeds.set_body("/mirror/rss", rss(MIRROR))
    telegram.fail_next("sendMessage", 1, error_code=502)
    run_once(config, env, code=5)  # an alert still waits: cron and CI can tell
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
    output = run_once(config, env, code=4)  # sources failed; every alert went out
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
    # The Truth Social post and its X mirror are one story: whichever of the two concurrent
    # polls stored first heads the alert, and the other is named in "Also posted by".
    assert (
        "truthsocial.com/@realDonaldTrump/114186233912040211" in result.stdout
        or "Also posted by: @realDonaldTrump (Truth Social)" in result.stdout
    )
    assert "Central bank holds rates" not in result.stdout  # unrelated posts stay quiet


def x_item(guid: str, handle: str, text: str) -> str:
    """An X post through an RSS bridge: its author in dc:creator, its link on x.com."""
    return (
        f"<item><title>{text[:40]}</title><description>{text}</description><guid>{guid}</guid>"
        f"<dc:creator>@{handle}</dc:creator><link>https://x.com/{handle}/status/{guid}</link>"
        "<pubDate>Wed, 18 Mar 2026 14:09:00 GMT</pubDate></item>"
    )


def x_feed(*items: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>X</title>{''.join(items)}</channel></rss>"
    )


def test_the_original_its_mirror_and_a_relay_make_one_alert_edited_once(world) -> None:
    config, env, feeds, telegram = world
    feeds.route("/relay/rss", x_feed())
    document = yaml.safe_load(config.read_text())
    document["sources"].append({"id": "relay-x", "kind": "rss", "url": feeds.url("/relay/rss")})
    config.write_text(yaml.safe_dump(document))
    feeds.set_body("/mirror/rss", x_feed())
    run_once(config, env)  # baseline

    feeds.set_body("/api/v1/accounts/1077/statuses", json.dumps([CEASEFIRE_STATUS, OLD_STATUS]))
    run_once(config, env)
    [alert] = telegram.sent_messages()
    assert "truthsocial.example/@realDonaldTrump/101" in (alert.text or "")
    assert "Also posted by" not in (alert.text or "")

    # Minutes later: the mirror account's truncated copy with its byline, and a "JUST IN" relay
    # with emoji, a tracking link and changed case.
    mirror = (
        "Productive call with President Putin. We agreed to an immediate CEASEFIRE on all "
        "Energy and Infrastructure, ending the war between… — Donald J. Trump Posts From His "
        "Truth Social"
    )
    relay = (
        "🚨 JUST IN: Trump: productive call with President Putin. We agreed to an immediate "
        "ceasefire on all energy and infrastructure, ending the war between Russia and "
        "Ukraine! https://truthsocial.example/@realDonaldTrump/101?utm_source=tw"
    )
    feeds.set_body("/mirror/rss", x_feed(x_item("m7", "TrumpDailyPosts", mirror)))
    feeds.set_body("/relay/rss", x_feed(x_item("r9", "WarMonitor", relay)))
    run_once(config, env)

    assert len(telegram.sent_messages()) == 1  # no new alert
    [edit] = telegram.calls("editMessageText")
    assert edit.status == 200 and int(edit.params["message_id"]) == alert.message_id
    assert "Also posted by: @TrumpDailyPosts (X), @WarMonitor (X)" in (edit.text or "") or (
        "Also posted by: @WarMonitor (X), @TrumpDailyPosts (X)" in (edit.text or "")
    )
    assert "truthsocial.example/@realDonaldTrump/101" in (edit.text or "")

    run_once(config, env)  # nothing new: no second edit, no second alert
    assert len(telegram.calls("editMessageText")) == 1
    assert len(telegram.sent_messages()) == 1

    rows = {r["id"]: r for r in export_rows(config)}
    assert rows["101"]["story"] == rows["m7"]["story"] == rows["r9"]["story"]
    assert rows["100"]["story"] != rows["101"]["story"]
    listing = postwatch("--config", str(config), "stories", "--min-posts", "2", env=env)
    assert listing.code == 0, listing.stderr
    assert f"story {rows['101']['story']} " in listing.stdout
    assert "3 posts from 3 sources" in listing.stdout
    assert "@TrumpDailyPosts (X)" in listing.stdout and "@WarMonitor (X)" in listing.stdout
    assert "1 story\n" in listing.stdout


def test_unrelated_posts_sharing_boilerplate_alert_separately(world) -> None:
    config, env, feeds, telegram = world
    feeds.set_body("/mirror/rss", x_feed())
    run_once(config, env)
    footer = " Read more at kyivindependent.com. Follow us on Telegram: t.me/kyivindependent"
    first = "Zelensky says Ukraine is ready for a ceasefire on energy strikes." + footer
    second = "Putin rejects the ceasefire proposal and orders new strikes on Ukraine." + footer
    feeds.set_body(
        "/mirror/rss",
        x_feed(x_item("k1", "KyivIndependent", first), x_item("k2", "KyivIndependent", second)),
    )
    run_once(config, env)
    sent = telegram.sent_messages(CEASEFIRE_CHAT)
    assert len(sent) == 2
    assert not telegram.calls("editMessageText")
    rows = {r["id"]: r for r in export_rows(config)}
    assert rows["k1"]["story"] != rows["k2"]["story"]
