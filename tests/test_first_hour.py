"""What a new operator tripped over in the first hour, each reproduced through the real CLI."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_helpers import postwatch, write_config
from deliver_helpers import T0, FakeClock, delivering, make_config
from fakes.feed_server import FeedServer
from fakes.telegram_api import FakeTelegram

from bot.store.database import Store

MINIMAL = {
    "database_url": "sqlite:///{db}",
    "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
    "topics": [{"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire"}],
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config whose database exists (as after a first `run`)."""
    document = {**MINIMAL, "database_url": f"sqlite:///{tmp_path / 'postwatch.db'}"}
    Store.open(document["database_url"]).close()
    return write_config(tmp_path / "postwatch.yaml", document)


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{config}", "check"],
        ["check", "--config", "{config}"],
        ["--log-level", "debug", "check", "--config", "{config}"],
        ["check", "--config", "{config}", "--log-level", "WARNING"],
    ],
)
def test_global_options_go_before_or_after_the_command(config: Path, argv: list[str]) -> None:
    result = postwatch(*(a.replace("{config}", str(config)) for a in argv))
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("config OK: 1 source")


def test_a_global_option_after_the_command_wins(tmp_path: Path, config: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = postwatch("--config", str(missing), "check", "--config", str(config))
    assert result.code == 0, result.stderr


def test_log_format_json_switches_the_json_formatter_on(tmp_path: Path) -> None:
    quiet = {**MINIMAL, "sources": [{**MINIMAL["sources"][0], "enabled": False}]}
    config = write_config(tmp_path / "postwatch.yaml", quiet)
    result = postwatch("run", "--once", "--config", str(config), "--log-format", "json")
    assert result.code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any("run complete" in line for line in lines)
    for line in lines:
        entry = json.loads(line)
        assert {"level", "logger", "message"} <= entry.keys()


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--since", "24h"],
        ["export", "--since", "2026-12-01"],
        ["stats", "--since", "2026-12-01T00:00:00Z"],
        ["stats", "--since", "90m"],
        ["stories", "--since", "2026-12-01"],
        ["topics", "test", "ceasefire", "--since", "2026-12-01T08:00"],
    ],
)
def test_every_since_takes_a_span_or_a_date(config: Path, argv: list[str]) -> None:
    result = postwatch("--config", str(config), *argv)
    assert result.code == 0, result.stderr


def test_a_bad_since_names_both_forms(config: Path) -> None:
    result = postwatch("--config", str(config), "export", "--since", "yesterday")
    assert result.code == 2
    assert "neither a span such as 24h or 7d nor an ISO date" in result.stderr


@pytest.mark.parametrize("command", ["run", "check", "export", "stats", "stories", "demo"])
def test_every_command_has_a_description_an_example_and_the_exit_codes(command: str) -> None:
    result = postwatch(command, "--help")
    assert result.code == 0
    assert "example:\n  postwatch" in result.stdout
    assert "exit codes:" in result.stdout
    assert "--config" in result.stdout and "--log-format" in result.stdout


def online_config(tmp_path: Path, telegram: FakeTelegram) -> Path:
    document = {
        **MINIMAL,
        "database_url": f"sqlite:///{tmp_path / 'postwatch.db'}",
        "telegram": {"token": "${TELEGRAM_BOT_TOKEN}", "base_url": telegram.base_url},
    }
    return write_config(tmp_path / "postwatch.yaml", document)


def test_check_online_refuses_a_token_telegram_rejects(
    tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    config = online_config(tmp_path, fake_telegram)
    wrong = {"TELEGRAM_BOT_TOKEN": "987654321:AAH-this-is-not-the-token-000000000"}
    offline = postwatch("check", "--config", str(config), env=wrong)
    assert offline.code == 0 and not fake_telegram.calls()  # never touches the network
    result = postwatch("check", "--config", str(config), "--online", env=wrong)
    assert result.code == 2
    assert "rejected the bot token (telegram.token)" in result.stderr
    assert "AAH-this-is-not" not in result.stderr + result.stdout


def test_check_online_names_the_bot(tmp_path: Path, fake_telegram: FakeTelegram) -> None:
    config = online_config(tmp_path, fake_telegram)
    env = {"TELEGRAM_BOT_TOKEN": fake_telegram.token}
    result = postwatch("check", "--config", str(config), "--online", env=env)
    assert result.code == 0, result.stderr
    assert "Telegram accepts the token: the bot is @postwatch_fake_bot" in result.stdout
    assert [c.method for c in fake_telegram.calls()] == ["getMe"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/rss",
        "http://[::1]/rss",
        "http://app.localhost/feed",
        "http://10.1.2.3/",
    ],
)
def test_check_warns_about_sources_the_guard_will_refuse(tmp_path: Path, url: str) -> None:
    document = {**MINIMAL, "sources": [{"id": "lan", "kind": "rss", "url": url}]}
    config = write_config(tmp_path / "postwatch.yaml", document)
    result = postwatch("check", "--config", str(config))
    assert result.code == 0  # a warning, not a failure
    assert "warning: source lan:" in result.stderr
    assert "network.allow_private_addresses" in result.stderr
    allowed = {**document, "network": {"allow_private_addresses": True}}
    write_config(config, allowed)
    assert "warning" not in postwatch("check", "--config", str(config)).stderr


def test_a_key_in_the_wrong_section_says_where_it_belongs(tmp_path: Path) -> None:
    document = {**MINIMAL, "allow_private_addresses": True, "network": {"every": "5m"}}
    config = write_config(tmp_path / "postwatch.yaml", document)
    result = postwatch("check", "--config", str(config))
    assert result.code == 2
    hint = "(did you mean 'network.allow_private_addresses'?)"
    assert f"allow_private_addresses: unknown key here {hint}" in result.stderr
    assert "network.every: unknown key here (did you mean 'defaults.every'?)" in result.stderr


def test_counts_have_the_right_plural(tmp_path: Path, config: Path) -> None:
    result = postwatch("check", "--config", str(config))
    assert "1 source (1 enabled), 1 topic, 0 channels" in result.stdout


def test_topics_test_runs_while_another_topic_is_broken(tmp_path: Path, config: Path) -> None:
    broken = {
        **MINIMAL,
        "database_url": f"sqlite:///{tmp_path / 'postwatch.db'}",
        "topics": [{"id": "bad", "name": "Bad", "query": "(ceasefire"}],
    }
    write_config(config, broken)
    assert postwatch("--config", str(config), "check").code == 2
    result = postwatch("--config", str(config), "topics", "test", "truce")
    assert result.code == 0, result.stderr
    assert "0 of 0 posts matched in the last 7d" in result.stdout
    assert "warning: 1 problem in" in result.stderr


def test_topics_test_hints_at_lowercase_operators(config: Path) -> None:
    result = postwatch("--config", str(config), "topics", "test", "ceasefire and ukraine")
    assert result.code == 0
    assert "'and' at column 11 is searched as a word" in result.stderr
    quiet = postwatch("--config", str(config), "topics", "test", 'ceasefire AND "war and peace"')
    assert "searched as a word" not in quiet.stderr


def test_a_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    home = tmp_path / "deploy"
    home.mkdir()
    config = write_config(
        home / "postwatch.yaml", {**MINIMAL, "database_url": "sqlite:///db/pw.db"}
    )
    Store.open(f"sqlite:///{home / 'db' / 'pw.db'}").close()  # as `run` made it, from home
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd in (home, elsewhere):
        result = postwatch("--config", str(config), "stats", cwd=cwd)
        assert result.code == 0, result.stderr
    assert not (elsewhere / "db").exists()


@pytest.mark.parametrize(
    "command", [["stats"], ["export"], ["stories"], ["topics", "list"], ["topics", "test", "x"]]
)
def test_commands_that_only_read_never_create_a_database(
    tmp_path: Path, command: list[str]
) -> None:
    config = write_config(
        tmp_path / "postwatch.yaml", {**MINIMAL, "database_url": "sqlite:///pw.db"}
    )
    result = postwatch("--config", str(config), *command)
    assert result.code == 3
    assert f"no database at {tmp_path / 'pw.db'}" in result.stderr
    assert not (tmp_path / "pw.db").exists()


async def test_no_log_line_about_a_channel_no_longer_configured(
    store: Store, db_url: str, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    # Both were configured once, and the bot was kicked from both; "gone" left the config.
    store.channel_states({"gone": "-1001111111111", "kept": "-1002222222222"})
    store.disable_channel("gone", "-1001111111111", "kicked", T0)
    store.disable_channel("kept", "-1002222222222", "kicked", T0)
    config = make_config(db_url, fake_telegram, [{"id": "kept", "chat_id": "-1002222222222"}])
    caplog.set_level(logging.INFO, logger="bot.deliver")
    async with delivering(store, fake_telegram, config, FakeClock()) as deliverer:
        await deliverer.drain()
    enabled = [r.getMessage() for r in caplog.records if "enabled again" in r.getMessage()]
    assert enabled == ["channel kept: enabled again at start (it was disabled)"]


def test_a_source_name_is_checked(tmp_path: Path) -> None:
    named = {**MINIMAL, "sources": [{**MINIMAL["sources"][0], "name": "  Wire   desk "}]}
    config = write_config(tmp_path / "postwatch.yaml", named)
    assert postwatch("check", "--config", str(config)).code == 0
    long = {**MINIMAL, "sources": [{**MINIMAL["sources"][0], "name": "W" * 65}]}
    write_config(config, long)
    result = postwatch("check", "--config", str(config))
    assert result.code == 2
    assert "sources[0].name: is too long: 65 characters (at most 64)" in result.stderr


def test_alerts_name_the_author_and_platform_not_the_slug(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/rss",
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>W</title><item><guid>1</guid><dc:creator>Jane Doe</dc:creator>"
        "<link>https://www.whitehouse.gov/briefings/1</link>"
        "<description>Ceasefire agreed</description></item>"
        "<item><guid>2</guid><link>https://www.whitehouse.gov/briefings/2</link>"
        "<description>Ceasefire holds</description></item></channel></rss>",
    )
    document = {
        **MINIMAL,
        "database_url": f"sqlite:///{tmp_path / 'postwatch.db'}",
        "network": {"allow_private_addresses": True},
        "channels": [{"id": "alerts", "chat_id": "@ceasefire_alerts"}],
        "sources": [
            {"id": "wh-feed", "kind": "rss", "url": feed_server.url("/rss"), "alert_backlog": True}
        ],
    }
    config = write_config(tmp_path / "postwatch.yaml", document)
    result = postwatch("--config", str(config), "run", "--once")
    assert result.code == 0, result.stderr
    assert "\nJane Doe · whitehouse.gov\n" in result.stdout
    assert "\nwh-feed · whitehouse.gov\n" in result.stdout  # no author: the source's id
    assert "(rss)" not in result.stdout


def test_the_daemon_says_what_it_did_every_log_every(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/rss",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>'
        "<item><guid>1</guid><description>Ceasefire agreed</description></item>"
        "</channel></rss>",
    )
    document = {
        **MINIMAL,
        "database_url": f"sqlite:///{tmp_path / 'postwatch.db'}",
        "network": {"allow_private_addresses": True},
        "log_every": "10s",
        "defaults": {"every": "1m"},
        "sources": [{"id": "wire", "kind": "rss", "url": feed_server.url("/rss")}],
    }
    config = write_config(tmp_path / "postwatch.yaml", document)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config), "--log-level", "DEBUG"],
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("POSTWATCH_", "TELEGRAM"))},
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        for line in process.stderr:
            seen.append(line)
            if "last 10s:" in line:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    summary = seen[-1]
    assert "last 10s: 1 poll (0 failed, 0 backing off), 1 new post, 1 matched" in summary, seen
    assert "0 alerts waiting in the outbox" in summary
    assert any("source wire: 1 new post" in line for line in seen)


@pytest.mark.parametrize("command", ["export", "stories"])
def test_an_unknown_topic_is_an_error_with_a_suggestion(config: Path, command: str) -> None:
    result = postwatch("--config", str(config), command, "--topic", "cesefire")
    assert result.code == 2
    assert "--topic 'cesefire': no such topic (did you mean 'ceasefire'?)" in result.stderr
    assert postwatch("--config", str(config), command, "--topic", "ceasefire").code == 0


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["postwatch", "st"], {"stats", "stories"}),
        (["postwatch", "export", "--f"], {"--format"}),
        (["postwatch", "export", "--format", "j"], {"jsonl", "json"}),
        (["postwatch", "topics", "l"], {"list"}),
        (["postwatch", "check", "--on"], {"--online"}),
    ],
)
def test_bash_completion_completes_commands_and_options(
    words: list[str], expected: set[str]
) -> None:
    script = postwatch("completion", "bash").stdout
    probe = (
        f"{script}\nCOMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}; "
        '_postwatch; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert set(done.stdout.split()) == expected


def test_run_stops_at_once_when_telegram_refuses_the_token(
    tmp_path: Path, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    feed_server.route("/rss", "<rss/>")
    config = online_config(tmp_path, fake_telegram)
    document = yaml.safe_load(config.read_text())
    document["sources"] = [{"id": "wire", "kind": "rss", "url": feed_server.url("/rss")}]
    document["network"] = {"allow_private_addresses": True}
    write_config(config, document)
    wrong = {"TELEGRAM_BOT_TOKEN": "987654321:AAH-this-is-not-the-token-000000000"}
    for command in (["run", "--once"], ["run"]):
        result = postwatch("--config", str(config), *command, env=wrong, timeout=60)
        assert result.code == 2
        assert "rejected the bot token (telegram.token)" in result.stderr
    assert feed_server.hits("/rss") == 0  # nothing polled


def test_a_second_run_says_who_delivers_and_what_it_does(tmp_path: Path, config: Path) -> None:
    quiet = yaml.safe_load(config.read_text())
    quiet["sources"][0]["enabled"] = False
    write_config(config, quiet)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("POSTWATCH_", "TELEGRAM"))},
    )
    assert daemon.stderr is not None
    try:
        for line in daemon.stderr:
            if "postwatch running" in line:
                break
        second = postwatch("--config", str(config), "run", "--once")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=60)
    assert second.code == 0, second.stderr  # nothing was waiting
    assert "another postwatch process (" in second.stderr
    assert "is delivering for this database; this run leaves the waiting alerts to it" in (
        second.stderr
    )


def test_make_test_says_where_the_postgresql_half_runs() -> None:
    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "POSTWATCH_TEST_PG_URL"}
    env.pop("MAKEFLAGS", None)
    done = subprocess.run(
        ["make", "-s", "pytest", "PYTEST_ARGS=--collect-only -q tests/test_layout.py"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = [
        line
        for line in done.stdout.splitlines()
        if line.startswith(("make: the storage tests", "make: no PostgreSQL"))
    ]
    assert said in (
        [
            "make: the storage tests run on SQLite and on PostgreSQL "
            "(postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        ],
        [
            "make: no PostgreSQL at 127.0.0.1:5432 and POSTWATCH_TEST_PG_URL unset: its tests are "
            "skipped"
        ],
    ), done.stdout + done.stderr
