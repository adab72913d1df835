"""File ∪ chat: what operators change from chat, layered over the config file."""

from __future__ import annotations

from pathlib import Path

from bot.chat.commands import Route, parse
from bot.chat.watchlist import ChatEdits, apply, merged, route, shadowed
from bot.config.build import build_config
from bot.config.settings import Config
from bot.model import TopicConfig

FILE = Path("/etc/postwatch/postwatch.yaml")


def config(**extra: object) -> Config:
    document: dict[str, object] = {
        "channels": [{"id": "main", "chat_id": "@main_alerts", "topics": ["ceasefire"]}],
        "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        "topics": [{"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire"}],
        **extra,
    }
    return build_config(document, {})


def run(edits: ChatEdits, text: str, base: Config | None = None) -> tuple[ChatEdits, str, bool]:
    command, _, arguments = text.removeprefix("/").partition(" ")
    outcome = apply(edits, base or config(), command, parse(command, arguments), FILE)
    return outcome.edits, outcome.reply, outcome.changed


def test_topics_made_in_chat_join_the_files_and_can_be_edited_there() -> None:
    edits, reply, changed = run(ChatEdits(), "/watch black-sea shipping AND Odesa")
    assert (reply, changed) == ("topic black-sea added: shipping AND Odesa", True)
    edits, reply, _ = run(edits, "/watch black-sea shipping AND (Odesa OR Izmail)")
    assert reply == "topic black-sea changed: shipping AND (Odesa OR Izmail)"
    effective = merged(config(), edits)
    assert [t.id for t in effective.topics] == ["ceasefire", "black-sea"]
    assert effective.topics[1].query == "shipping AND (Odesa OR Izmail)"
    edits, reply, _ = run(edits, "/unwatch black-sea")
    assert reply == "topic black-sea removed" and edits.topics == ()


def test_what_the_file_defines_is_edited_in_the_file() -> None:
    for text in ("/watch ceasefire truce", "/unwatch ceasefire"):
        edits, reply, changed = run(ChatEdits(), text)
        assert not changed and edits == ChatEdits()
        assert reply.startswith(f"topic ceasefire is defined in {FILE}")


def test_any_source_pauses_and_resumes_from_chat() -> None:
    edits, reply, _ = run(ChatEdits(), "/pause wire")
    assert reply == "source wire paused: not polled until /resume"
    assert merged(config(), edits).sources[0].enabled is False
    _, again, changed = run(edits, "/pause wire")
    assert (again, changed) == ("source wire is paused already", False)
    edits, reply, _ = run(edits, "/resume wire")
    assert merged(config(), edits).sources[0].enabled is True
    assert run(ChatEdits(), "/pause nope")[1] == "there is no source nope"


def test_routes_made_in_chat_make_a_channel_of_their_own() -> None:
    edits, _, _ = run(ChatEdits(), "/watch black-sea shipping")
    wanted = parse("route", "black-sea @shipping_alerts")
    assert isinstance(wanted, Route)
    outcome = route(edits, config(), wanted, FILE)
    assert outcome.reply == "black-sea now goes to @shipping_alerts"
    (channel,) = [c for c in merged(config(), outcome.edits).channels if c.id != "main"]
    assert (channel.id, channel.chat_id, channel.topics) == (
        "chat-shipping-alerts",
        "@shipping_alerts",
        ("black-sea",),
    )
    refused = route(edits, config(), Route("black-sea", "@main_alerts"), FILE)
    assert refused.reply.startswith("channel @main_alerts is defined in")
    edits, reply, _ = run(outcome.edits, "/unroute black-sea @shipping_alerts")
    assert reply == "black-sea no longer goes to @shipping_alerts" and edits.channels == ()


def test_a_file_edit_that_takes_a_chat_items_id_wins() -> None:
    edits = ChatEdits(topics=(TopicConfig("energy", "energy", "grid*"),))
    later = config(
        topics=[
            {"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire"},
            {"id": "energy", "name": "Energy", "query": "power"},
        ]
    )
    assert [t.query for t in merged(later, edits).topics] == ["ceasefire", "power"]
    assert shadowed(later, edits) == ["energy"]


def test_a_bad_command_changes_nothing_and_says_why() -> None:
    edits, reply, changed = run(ChatEdits(), "/watch black-sea (shipping")
    assert (edits, changed) == (ChatEdits(), False)
    assert reply.startswith("bad query: unbalanced parenthesis")
