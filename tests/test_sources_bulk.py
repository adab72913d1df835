"""Sources in bulk through the real CLI: OPML from a feed reader in, OPML and YAML out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_helpers import postwatch, write_config
from fakes.feed_server import FeedServer

from bot.admin.opml import read_opml, write_opml
from bot.config.load import load_config
from bot.errors import ParseError

DATA = Path(__file__).parent / "data" / "admin"
CONFIG_TEXT = """\
# My watchlist: the comments of an operator's file survive an import.
database_url: sqlite:///pw.db
sources:
  # the first one, by hand
  - id: whitehouse
    kind: rss
    url: https://www.whitehouse.gov/feed/
topics:
  - {id: ceasefire, name: Ceasefire, query: ceasefire}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "postwatch.yaml"
    path.write_text(CONFIG_TEXT)
    return path


def test_an_import_says_what_it_adds_and_skips_and_why(config: Path) -> None:
    result = postwatch(
        "--config", str(config), "sources", "import", str(DATA / "subscriptions.opml")
    )
    assert result.code == 0, result.stderr
    report = result.stderr.splitlines()
    assert report[:5] == [
        "line 13: add the-kyiv-independent (rss) https://kyivindependent.com/feed/",
        "line 14: skip https://www.whitehouse.gov/feed/: already watched as source whitehouse",
        "line 17: skip https://whitehouse.gov/feed: already watched as source whitehouse",
        "line 18: skip http://192.168.1.1/feed.xml: 192.168.1.1 is a private (RFC 1918) address,"
        " refused while network.allow_private_addresses is off",
        "line 19: skip ftp://files.example.org/feed.xml: url: 'ftp://files.example.org/feed.xml'"
        " is not an http(s) URL",
    ]
    assert report[5] == "line 20: add reuters-co (rss) https://news.example.org/rss?section=world"
    assert report[-1] == "2 sources printed above, 4 outlines skipped"
    added = yaml.safe_load(result.stdout)["sources"]
    assert [s["id"] for s in added] == ["the-kyiv-independent", "reuters-co"]
    assert added[0]["name"] == "The Kyiv Independent"
    assert config.read_text() == CONFIG_TEXT  # without --write, the file is not touched


def test_import_write_appends_to_the_config_keeping_its_comments(config: Path) -> None:
    result = postwatch(
        "--config", str(config), "sources", "import", str(DATA / "subscriptions.opml"), "--write"
    )
    assert result.code == 0, result.stderr
    text = config.read_text()
    assert "# My watchlist: the comments of an operator's file survive an import." in text
    assert "# the first one, by hand" in text
    loaded = load_config(config, {})
    assert [s.id for s in loaded.sources] == ["whitehouse", "the-kyiv-independent", "reuters-co"]
    again = postwatch(
        "--config", str(config), "sources", "import", str(DATA / "subscriptions.opml"), "--write"
    )
    assert "0 sources to add, 6 outlines skipped" in again.stderr  # nothing twice
    assert load_config(config, {}).sources == loaded.sources


def test_an_export_imports_back_as_the_same_sources(tmp_path: Path) -> None:
    original = write_config(
        tmp_path / "a.yaml",
        {
            "sources": [
                {"id": "wire", "kind": "rss", "url": "https://wire.example/rss", "name": "Wire"},
                {
                    "id": "truth",
                    "kind": "mastodon",
                    "url": "https://truthsocial.com/@realDonaldTrump",
                },
                {"id": "kyiv", "kind": "bluesky", "actor": "kyivindependent.com"},
                {"id": "zelensky", "kind": "telegram", "channel": "V_Zelenskiy_official"},
            ]
        },
    )
    exported = postwatch("--config", str(original), "sources", "export", "--format", "opml")
    assert exported.code == 0, exported.stderr
    opml = tmp_path / "out.opml"
    opml.write_text(exported.stdout)
    empty = write_config(
        tmp_path / "b.yaml", {"sources": [{"id": "x", "kind": "rss", "url": "https://x.example/"}]}
    )
    imported = postwatch("--config", str(empty), "sources", "import", str(opml), "--write")
    assert imported.code == 0, imported.stderr
    before = {s.id: s for s in load_config(original, {}).sources}
    after = {s.id: s for s in load_config(empty, {}).sources if s.id != "x"}
    assert after == before


def test_a_yaml_export_is_a_config_check_accepts(tmp_path: Path, config: Path) -> None:
    exported = postwatch("--config", str(config), "sources", "export", "--format", "yaml")
    again = tmp_path / "again.yaml"
    again.write_text(exported.stdout)
    assert postwatch("--config", str(again), "check").code == 0


@pytest.mark.parametrize(
    "body",
    [
        b"<rss><channel/></rss>",
        b"not xml at all",
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><opml><body><outline xmlUrl="&a;"/></body></opml>',
    ],
)
def test_what_is_no_opml_is_refused_clearly(body: bytes) -> None:
    with pytest.raises(ParseError, match="not an OPML file"):
        read_opml(body)


def test_an_opml_export_is_valid_opml_2() -> None:
    outlines = read_opml(write_opml([]))
    assert outlines == []


def test_topics_test_speaks_jsonl_for_scripts(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route(
        "/rss",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>'
        "<item><guid>1</guid><link>https://w.example/1</link>"
        "<description>Ceasefire agreed</description></item></channel></rss>",
    )
    config = write_config(
        tmp_path / "postwatch.yaml",
        {
            "database_url": f"sqlite:///{tmp_path / 'pw.db'}",
            "network": {"allow_private_addresses": True},
            "sources": [{"id": "w", "kind": "rss", "url": feed_server.url("/rss")}],
        },
    )
    assert postwatch("--config", str(config), "run", "--once").code == 0
    result = postwatch("--config", str(config), "topics", "test", "ceasefire", "--format", "jsonl")
    assert result.code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert (record["source"], record["id"], record["terms"]) == ("w", "1", ["ceasefire"])
    assert record["text"] == "Ceasefire agreed"
