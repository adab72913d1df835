"""Config loading: the documented contract, every class of problem with its key path, secrets."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config.load import load_config, resolve_config_path
from bot.config.settings import (
    ChannelConfig,
    Config,
    Defaults,
    NetworkSettings,
    Secret,
    SourceConfig,
    TelegramSettings,
)
from bot.config.values import parse_duration, parse_size
from bot.errors import ConfigError
from bot.model import TopicConfig

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

BRIEF_EXAMPLE = """\
database_url: sqlite:///data/postwatch.db        # or postgresql+psycopg://user@host/db
telegram:
  token: ${TELEGRAM_BOT_TOKEN}     # unset or empty: alerts are printed to the console instead
  base_url: https://api.telegram.org/bot
  admins: [123456789]
network:
  allow_private_addresses: false
  timeout: 20s
  max_bytes: 10MB
defaults:
  every: 5m
  max_age: 24h
channels:
  - id: ceasefire
    chat_id: "@ukraine_ceasefire_alerts"
    topics: [ukraine-ceasefire]
sources:
  - id: trump-truth
    kind: mastodon
    url: https://truthsocial.com/@realDonaldTrump
    every: 2m
  - id: pressec-x
    kind: rss
    url: https://example.org/PressSec/rss
  - id: kyivindependent-bsky
    kind: bluesky
    actor: kyivindependent.com
    api_url: https://public.api.bsky.app
  - id: zelensky-tg
    kind: telegram
    channel: V_Zelenskiy_official
    url: https://t.me/s/V_Zelenskiy_official
topics:
  - id: ukraine-ceasefire
    name: Ukraine ceasefire
    query: '(ceasefire OR "cease-fire" OR перемири*) AND (Ukraine OR Putin OR Zelensky)'
"""

# A small valid document; tests copy it and break one thing.
BASE: dict[str, Any] = {
    "channels": [{"id": "alerts", "chat_id": "@my_alerts", "topics": ["ceasefire"]}],
    "sources": [
        {"id": "feed", "kind": "rss", "url": "https://example.org/rss"},
        {"id": "truth", "kind": "mastodon", "url": "https://truthsocial.com/@realDonaldTrump"},
    ],
    "topics": [{"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire AND Ukraine"}],
}


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "postwatch.yaml"
    text = document if isinstance(document, str) else yaml.safe_dump(document, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, document: object, env: dict[str, str] | None = None) -> Config:
    return load_config(write(tmp_path, document), env or {})


def problems(tmp_path: Path, document: object, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, document, env)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def base(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document.update(changes)
    return document


def with_source(index: int, **changes: Any) -> dict[str, Any]:
    document = base()
    document["sources"][index].update(changes)
    for key, value in changes.items():
        if value is None:
            del document["sources"][index][key]
    return document


# --- the contract ------------------------------------------------------------------------


def test_brief_example_loads_into_the_documented_values(tmp_path: Path) -> None:
    config = load(tmp_path, BRIEF_EXAMPLE, {"TELEGRAM_BOT_TOKEN": TOKEN})
    five_min, day = timedelta(minutes=5), timedelta(hours=24)
    # Relative to the config file's directory, not the working directory.
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'postwatch.db'}"
    assert config.telegram == TelegramSettings(
        Secret(TOKEN), "https://api.telegram.org/bot", (123456789,)
    )
    assert config.network == NetworkSettings(timeout=timedelta(seconds=20), max_bytes=10 << 20)
    assert config.defaults == Defaults(five_min, day)
    assert config.channels == (
        ChannelConfig("ceasefire", "@ukraine_ceasefire_alerts", ("ukraine-ceasefire",)),
    )
    assert config.sources == (
        SourceConfig(
            "trump-truth",
            "mastodon",
            "https://truthsocial.com/@realDonaldTrump",
            timedelta(minutes=2),
            day,
        ),
        SourceConfig("pressec-x", "rss", "https://example.org/PressSec/rss", five_min, day),
        SourceConfig(
            "kyivindependent-bsky",
            "bluesky",
            "https://public.api.bsky.app",
            five_min,
            day,
            actor="kyivindependent.com",
        ),
        SourceConfig(
            "zelensky-tg",
            "telegram",
            "https://t.me/s/V_Zelenskiy_official",
            five_min,
            day,
            channel="V_Zelenskiy_official",
        ),
    )
    assert config.topics == (
        TopicConfig(
            "ukraine-ceasefire",
            "Ukraine ceasefire",
            '(ceasefire OR "cease-fire" OR перемири*) AND (Ukraine OR Putin OR Zelensky)',
        ),
    )


@pytest.mark.parametrize("name", ["postwatch.yaml", "example.yaml"])
def test_shipped_configs_load_with_and_without_a_token(name: str) -> None:
    path = REPO / "config" / name
    without = load_config(path, {})
    assert not without.telegram.token  # alerts go to the console
    assert without.sources
    assert without.topics
    assert without.channels
    with_token = load_config(path, {"TELEGRAM_BOT_TOKEN": TOKEN})
    assert with_token.telegram.token.reveal() == TOKEN


def test_example_documents_every_key_and_its_default() -> None:
    text = (REPO / "config" / "example.yaml").read_text(encoding="utf-8")
    config = load_config(REPO / "config" / "example.yaml", {})
    for section in (NetworkSettings(), TelegramSettings(), Defaults()):
        for key in section.__slots__:
            assert f"  {key}:" in text, key
    for key in ("every", "max_age", "enabled", "alert_backlog", "actor", "api_url", "channel"):
        assert f"    {key}:" in text, key
    # The values written out in the example are the defaults.
    assert config.network == NetworkSettings()
    assert config.defaults == Defaults()
    assert config.telegram == TelegramSettings()


def test_bundled_demo_config_loads(tmp_path: Path) -> None:
    config = load_config(
        REPO / "bot" / "cli" / "demo_data" / "demo.yaml",
        {"POSTWATCH_DEMO_DB": str(tmp_path / "d.db")},
    )
    assert config.database_url == f"sqlite:///{tmp_path / 'd.db'}"


def test_config_path_comes_from_cli_then_environment_then_default() -> None:
    env = {"POSTWATCH_CONFIG": "/etc/postwatch.yaml"}
    assert resolve_config_path("mine.yaml", env) == Path("mine.yaml")
    assert resolve_config_path(None, env) == Path("/etc/postwatch.yaml")
    assert resolve_config_path(None, {}) == Path("config/postwatch.yaml")
    assert resolve_config_path("", {"POSTWATCH_CONFIG": ""}) == Path("config/postwatch.yaml")


def test_sources_inherit_defaults_unless_they_set_their_own(tmp_path: Path) -> None:
    document = base(defaults={"every": "90s", "max_age": "7d"})
    document["sources"][1].update(every="1h30m", max_age=3600)
    feed, truth = load(tmp_path, document).sources
    assert (feed.every, feed.max_age) == (timedelta(seconds=90), timedelta(days=7))
    assert (truth.every, truth.max_age) == (timedelta(minutes=90), timedelta(hours=1))
    assert (feed.enabled, feed.alert_backlog) == (True, False)


def test_optional_sections_take_their_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, {"sources": BASE["sources"]})
    # Relative to the config file's directory, not the working directory.
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'postwatch.db'}"
    assert config.telegram == TelegramSettings()
    assert config.network == NetworkSettings()
    assert config.defaults == Defaults()
    assert (config.channels, config.topics) == ((), ())


def test_source_flags_and_numeric_chat_ids(tmp_path: Path) -> None:
    document = with_source(0, enabled=False, alert_backlog=True)
    document["channels"] = [
        {"id": "private", "chat_id": -1001234567890},
        {"id": "quoted", "chat_id": "-1009876543210", "topics": ["ceasefire"]},
    ]
    config = load(tmp_path, document)
    assert (config.sources[0].enabled, config.sources[0].alert_backlog) == (False, True)
    assert config.channels[0] == ChannelConfig("private", "-1001234567890", None)
    assert config.channels[1].chat_id == "-1009876543210"


@pytest.mark.parametrize(
    ("fields", "url", "channel"),
    [
        ({"channel": "@V_Zelenskiy_official"}, "https://t.me/s/V_Zelenskiy_official", None),
        ({"url": "https://t.me/V_Zelenskiy_official"}, "https://t.me/s/V_Zelenskiy_official", None),
        (
            {"url": "https://t.me/s/V_Zelenskiy_official/"},
            "https://t.me/s/V_Zelenskiy_official",
            None,
        ),
        # A mirror or a local test double serving the same page is taken as written.
        ({"url": "http://127.0.0.1:8080/s/chan"}, "http://127.0.0.1:8080/s/chan", ""),
    ],
)
def test_telegram_sources_need_a_channel_or_a_link(
    tmp_path: Path, fields: dict[str, str], url: str, channel: str | None
) -> None:
    document = base(sources=[{"id": "tg", "kind": "telegram", **fields}])
    source = load(tmp_path, document).sources[0]
    assert source.url == url
    assert source.channel == (None if channel == "" else "V_Zelenskiy_official")


def test_bluesky_actor_may_be_a_did_and_api_url_defaults(tmp_path: Path) -> None:
    document = base(sources=[{"id": "b", "kind": "bluesky", "actor": "did:plc:abc123xyz"}])
    source = load(tmp_path, document).sources[0]
    assert (source.actor, source.url) == ("did:plc:abc123xyz", "https://public.api.bsky.app")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h 30m", timedelta(minutes=90)),
        ("45", timedelta(seconds=45)),
        (600, timedelta(minutes=10)),
    ],
)
def test_durations(written: object, expected: timedelta) -> None:
    assert parse_duration(written) == expected


@pytest.mark.parametrize("written", ["5 minutes", "m5", "-5s", "1.5h", -5, True, [], ""])
def test_not_durations(written: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(written)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("10MB", 10 << 20),
        ("512KB", 512 << 10),
        ("1GiB", 1 << 30),
        ("1.5 mb", 3 << 19),
        (4096, 4096),
    ],
)
def test_sizes(written: object, expected: int) -> None:
    assert parse_size(written) == expected


# --- ${VAR} substitution -------------------------------------------------------------------


def test_environment_substitution(tmp_path: Path) -> None:
    document = base(database_url="postgresql+psycopg://app:${PGPASS}@${PGHOST:-localhost}/pw")
    document["topics"][0]["name"] = "Costs $${HIDDEN} and ${EMPTY:-fallback}, ${EMPTY-kept}."
    document["telegram"] = {"token": "${TELEGRAM_BOT_TOKEN}"}
    config = load(tmp_path, document, {"PGPASS": "s3cret", "EMPTY": ""})
    assert config.database_url == "postgresql+psycopg://app:s3cret@localhost/pw"
    assert config.topics[0].name == "Costs ${HIDDEN} and fallback, ."
    assert config.telegram.token == Secret("")  # unset token: console alerts, not a problem


def test_unset_variable_is_one_problem_naming_the_key_and_variable(tmp_path: Path) -> None:
    document = with_source(0, url="${FEED_URL}")
    assert problems(tmp_path, document) == [
        "sources[0].url: environment variable FEED_URL is not set "
        "(set it, or write ${FEED_URL:-default})"
    ]


def test_malformed_reference_is_a_problem(tmp_path: Path) -> None:
    assert problems(tmp_path, base(database_url="sqlite:///${data dir}/x.db")) == [
        "database_url: '${' must start ${NAME} or ${NAME:-default} ($${ is a literal ${)"
    ]


# --- every class of problem, with its key path ---------------------------------------------


def _unknown_kind() -> dict[str, Any]:
    document = base()
    document["sources"].append({"id": "extra", "kind": "rsss", "url": "https://e.org/rss"})
    return document


def _duplicate_source() -> dict[str, Any]:
    document = base()
    document["sources"][1]["id"] = "feed"
    return document


def _channel_topics(*topics: object) -> dict[str, Any]:
    document = base()
    document["channels"][0]["topics"] = list(topics)
    return document


def _network(**values: object) -> dict[str, Any]:
    return base(network=values)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            _unknown_kind(),
            "sources[2].kind: unknown kind 'rsss' "
            "(expected one of rss, mastodon, bluesky, telegram)",
        ),
        (_duplicate_source(), "sources[1].id: duplicate id 'feed' (also sources[0])"),
        (_channel_topics("ceasefire", "foo"), "channels[0].topics[1]: unknown topic 'foo'"),
        (
            _channel_topics("ceasfire"),
            "channels[0].topics[0]: unknown topic 'ceasfire' (did you mean 'ceasefire'?)",
        ),
        (
            _channel_topics(),
            "channels[0].topics: empty list: this channel would get no alerts "
            "(omit topics for every topic)",
        ),
        (
            base(defaults={"every": "5 minutes"}),
            "defaults.every: '5 minutes' is not a duration (use e.g. 90s, 5m, 24h)",
        ),
        (_network(timout="20s"), "network.timout: unknown key (did you mean 'timeout'?)"),
        (base(sourcs=[]), "sourcs: unknown key (did you mean 'sources'?)"),
        (
            _network(max_bytes="ten megs"),
            "network.max_bytes: 'ten megs' is not a size (use e.g. 512KB, 10MB, 1GiB)",
        ),
        (_network(max_bytes="2GiB"), "network.max_bytes: '2GiB' is out of range (1KiB to 1GiB)"),
        (_network(timeout="1h"), "network.timeout: 1h is too long (at most 10m)"),
        (_network(concurrency=0), "network.concurrency: 0 is out of range (expected 1 to 1000)"),
        (
            _network(allow_private_addresses="yes please"),
            "network.allow_private_addresses: expected true or false, got 'yes please'",
        ),
        (
            base(network=["timeout"]),
            "network: expected a mapping (timeout:, max_bytes:, ...), got a list",
        ),
        (with_source(0, every="5s"), "sources[0].every: 5s is too short (at least 10s)"),
        (with_source(0, max_age="0s"), "sources[0].max_age: 0s is too short (at least 1m)"),
        (with_source(0, enabled="no"), "sources[0].enabled: expected true or false, got 'no'"),
        (
            with_source(0, id="Feed One"),
            "sources[0].id: 'Feed One' is not a slug "
            "(use lowercase letters, digits, '-' and '_', e.g. trump-truth)",
        ),
        (
            with_source(0, id=None),
            "sources[0].id: missing: a short name for this entry, e.g. trump-truth",
        ),
        (
            with_source(0, kind=None),
            "sources[0].kind: missing: one of rss, mastodon, bluesky, telegram",
        ),
        (
            with_source(0, url=None),
            "sources[0].url: missing: the feed's URL (RSS, Atom or JSON Feed)",
        ),
        (
            with_source(0, url="ftp://e.org/f"),
            "sources[0].url: 'ftp://e.org/f' is not an http(s) URL",
        ),
        (with_source(0, url=["a"]), "sources[0].url: expected text, got a list"),
        (
            with_source(1, url="https://mastodon.social/about"),
            "sources[1].url: not a Mastodon profile URL: 'https://mastodon.social/about' "
            "(expected https://host/@name or /users/name)",
        ),
        (
            with_source(0, actor="someone.bsky.social"),
            "sources[0].actor: not used by rss sources (they take url)",
        ),
        (with_source(0, colour="red"), "sources[0].colour: unknown key"),
        (
            base(
                sources=[{"id": "b", "kind": "bluesky", "actor": "x.com", "url": "https://x.com"}]
            ),
            "sources[0].url: not used by bluesky sources (they take actor, api_url)",
        ),
        (
            base(sources=[{"id": "b", "kind": "bluesky", "actor": "not a handle"}]),
            "sources[0].actor: 'not a handle' is not a Bluesky handle or DID "
            "(e.g. kyivindependent.com or did:plc:...)",
        ),
        (
            base(sources=[{"id": "t", "kind": "telegram"}]),
            "sources[0].channel: missing: the public channel's username "
            "(or url: https://t.me/s/NAME)",
        ),
        (
            base(sources=[{"id": "t", "kind": "telegram", "url": "https://t.me/+AbCdEf"}]),
            "sources[0].url: 'https://t.me/+AbCdEf' is not a public channel link "
            "(expected https://t.me/s/NAME)",
        ),
        (
            base(sources=[{"id": "t", "kind": "telegram", "channel": "https://t.me/x"}]),
            "sources[0].channel: 'https://t.me/x' is not a public channel username "
            "(e.g. V_Zelenskiy_official) (put links in url)",
        ),
        (
            {"topics": BASE["topics"]},
            "sources: missing: list the feeds and accounts to watch (see config/example.yaml)",
        ),
        (base(sources=[]), "sources: empty list: add at least one feed or account to watch"),
        (base(sources={"id": "x"}), "sources: expected a list, got a mapping"),
        (
            base(sources=["https://e.org/rss"]),
            "sources[0]: expected a mapping (id:, kind:, url: ...), got 'https://e.org/rss'",
        ),
        (
            base(topics=[{"id": "ceasefire", "query": "(ceasefire AND Ukraine"}]),
            "topics[0].query: unbalanced parenthesis at column 1",
        ),
        (
            base(topics=[{"id": "ceasefire", "query": "source:nowhere OR ceasefire"}]),
            "topics[0].query: source:nowhere matches no configured source",
        ),
        (
            base(topics=[{"id": "ceasefire", "name": "T"}]),
            "topics[0].query: missing: the words to watch for, e.g. ceasefire AND Ukraine",
        ),
        (
            base(channels=[{"id": "c", "chat_id": "my_alerts"}]),
            "channels[0].chat_id: 'my_alerts' is not a chat id (expected @channelname or a number "
            "such as -1001234567890) (did you mean '@my_alerts'?)",
        ),
        (
            base(telegram={"admins": [42, "abc"]}),
            "telegram.admins[1]: expected a numeric Telegram user id, got 'abc'",
        ),
        (
            base(telegram={"base_url": "api.telegram.org/bot"}),
            "telegram.base_url: 'api.telegram.org/bot' is not an http(s) URL",
        ),
        (
            base(database_url="mysql://root@db/x"),
            "database_url: unsupported database 'mysql' "
            "(expected sqlite:///path/to/file.db or postgresql+psycopg://user:password@host/db)",
        ),
        (
            base(database_url="sqlite://"),
            "database_url: SQLite needs a file path, e.g. sqlite:///data/postwatch.db",
        ),
        (
            base(database_url="sqlite:///:memory:"),
            "database_url: SQLite needs a file path, e.g. sqlite:///data/postwatch.db",
        ),
    ],
)
def test_each_problem_names_its_key_path(
    tmp_path: Path, document: dict[str, Any], expected: str
) -> None:
    assert problems(tmp_path, document) == [expected]


def test_an_over_long_id_is_named_too_long_with_the_limit(tmp_path: Path) -> None:
    longest, over = "a" * 64, "b" * 65
    document = base()
    document["sources"][0]["id"] = longest  # exactly the limit is fine
    document["sources"][1]["id"] = over
    document["topics"][0]["id"] = "t" * 70
    document["channels"][0].update(id="c" * 65, topics=["t" * 70])
    assert problems(tmp_path, document) == [
        f"sources[1].id: '{'b' * 57}...' is too long: 65 characters (an id has at most 64)",
        f"topics[0].id: '{'t' * 57}...' is too long: 70 characters (an id has at most 64)",
        f"channels[0].id: '{'c' * 57}...' is too long: 65 characters (an id has at most 64)",
        "channels[0].topics[0]: unknown topic '" + "t" * 70 + "'",  # the topic was refused
    ]
    # A bad character and a bad length are each reported as what they are.
    bad = with_source(0, id="Feed " + "x" * 70)
    assert problems(tmp_path, bad) == [
        f"sources[0].id: '{('Feed ' + 'x' * 70)[:57]}...' is not a slug "
        "(use lowercase letters, digits, '-' and '_', e.g. trump-truth)",
        f"sources[0].id: '{('Feed ' + 'x' * 70)[:57]}...' is too long: 75 characters "
        "(an id has at most 64)",
    ]
    assert load(tmp_path, with_source(0, id=longest)).sources[0].id == longest


def test_valid_query_with_a_known_source_prefix(tmp_path: Path) -> None:
    document = base(topics=[{"id": "ceasefire", "query": "source:tru* AND ceasefire"}])
    assert load(tmp_path, document).topics[0].name == "ceasefire"  # name defaults to the id


def test_postgresql_urls_are_accepted(tmp_path: Path) -> None:
    for url in ("postgresql+psycopg://u@h/db", "postgresql://u:p@h:5432/db", "postgres://h/db"):
        assert load(tmp_path, base(database_url=url)).database_url == url


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    document = base(network={"timout": "5s"}, defaults={"every": "often"})
    document["sources"].append({"id": "feed", "kind": "rsss"})
    document["sources"].append("nonsense")
    document["channels"][0]["topics"] = ["nope"]
    document["topics"][0]["query"] = "ceasefire AND"
    found = problems(tmp_path, document)
    assert [line.split(":", 1)[0] for line in found] == [
        "network.timout",
        "defaults.every",
        "sources[2].id",
        "sources[2].kind",
        "sources[3]",
        "topics[0].query",
        "channels[0].topics[0]",
    ]


# --- reading the file ------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml", {})
    (problem,) = caught.value.problems
    assert problem.startswith(f"{tmp_path / 'nope.yaml'}: file not found")


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    text = "sources:\n  - id: a\n    kind: rss\n   url: https://e.org\n"
    (problem,) = problems(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'postwatch.yaml'}: YAML syntax error at line 4, column")


def test_unquoted_at_sign_gets_a_hint(tmp_path: Path) -> None:
    text = "channels:\n  - id: c\n    chat_id: @alerts\n"
    (problem,) = problems(tmp_path, text)
    assert "line 3, column 14" in problem
    assert 'quote values that start with @ or `, e.g. chat_id: "@my_channel"' in problem


@pytest.mark.parametrize(
    ("text", "got"),
    [("", "an empty file"), ("- a\n- b\n", "a list"), ("just words\n", "'just words'")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    assert problems(tmp_path, text) == [
        f"(top level): expected a mapping of settings (sources:, topics:, ...), got {got}"
    ]


def test_duplicate_keys_are_reported_with_lines(tmp_path: Path) -> None:
    text = yaml.safe_dump(BASE) + "sources: []\n"
    found = problems(tmp_path, text)
    assert any(
        "duplicate key 'sources' (first at line" in line and "line " in line for line in found
    ), found


# --- secrets -----------------------------------------------------------------------------------


def test_token_never_appears_in_problems_or_repr(tmp_path: Path) -> None:
    document = base(
        telegram={"token": "${TOKEN}", "base_url": "${TOKEN}"},
        database_url="postgresql+psycopg://app:hunter2pw@db/x",
        bogus=True,
    )
    found = problems(tmp_path, document, {"TOKEN": TOKEN})
    text = "\n".join(found)
    assert TOKEN not in text
    assert "hunter2pw" not in text
    assert "telegram.base_url: '<redacted>' is not an http(s) URL" in found
    document.pop("bogus")
    document["telegram"].pop("base_url")
    config = load(tmp_path, document, {"TOKEN": TOKEN})
    assert TOKEN not in repr(config)
    assert TOKEN not in str(config.telegram)
    assert "hunter2pw" not in repr(config)
    assert "postgresql+psycopg://app:***@db/x" in repr(config)
    assert config.telegram.token.reveal() == TOKEN


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            "not-a-token-but-secret",
            "telegram.token: does not look like a bot token "
            "(expected <digits>:<letters> from @BotFather; value not shown)",
        ),
        (
            12345678,
            "telegram.token: expected text: quote the token, or better, use ${TELEGRAM_BOT_TOKEN}",
        ),
    ],
)
def test_bad_token_is_reported_without_its_value(
    tmp_path: Path, token: object, expected: str
) -> None:
    found = problems(tmp_path, base(telegram={"token": token}))
    assert found == [expected]
    assert str(token) not in "\n".join(found)


def test_token_whitespace_is_trimmed(tmp_path: Path) -> None:
    config = load(tmp_path, base(telegram={"token": "${T}"}), {"T": f"{TOKEN}\n"})
    assert config.telegram.token.reveal() == TOKEN


def test_a_source_filter_matches_ids_whatever_case_the_query_uses(tmp_path: Path) -> None:
    document = base()
    document["topics"] = [{"id": "ceasefire", "query": "source:TRUTH AND ceasefire"}]
    assert load(tmp_path, document).topics[0].query == "source:TRUTH AND ceasefire"
