"""The chat gate and the command grammar: who may do what, stale and edited commands, and
arguments checked with the config's own rules."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.chat.commands import (
    COMMANDS,
    AddSource,
    Named,
    Problem,
    QuietHours,
    Route,
    Span,
    UserId,
    Watch,
    parse,
)
from bot.chat.gate import (
    GROUP_ANONYMOUS_BOT,
    TELEGRAM_SERVICE,
    Gate,
    Incoming,
    Openness,
    Role,
)

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
ADMIN, OPERATOR, STRANGER = 111, 222, 333


def incoming(user: int | None, command: str = "watch", **fields: object) -> Incoming:
    spec = COMMANDS[command]
    values: dict[str, object] = {
        "user_id": user,
        "chat_id": user or -100,
        "private": True,
        "sent_at": NOW,
        "command": command,
        "mutating": spec.mutating,
        "required": spec.role,
    }
    values.update(fields)
    return Incoming(**values)  # type: ignore[arg-type]


@pytest.fixture
def gate() -> Gate:
    return Gate(admins=[ADMIN], operators=[OPERATOR])


def test_roles_come_from_numeric_ids_only(gate: Gate) -> None:
    assert gate.decide(incoming(ADMIN, "grant"), NOW).allowed
    assert gate.decide(incoming(OPERATOR, "watch"), NOW).allowed
    assert not gate.decide(incoming(OPERATOR, "grant"), NOW).allowed  # operators grant nothing
    assert not gate.decide(incoming(STRANGER, "watch"), NOW).allowed
    assert gate.decide(incoming(STRANGER, "subscribe"), NOW).allowed  # subscribing is open


@pytest.mark.parametrize(
    "stand_in",
    [
        {"user_id": GROUP_ANONYMOUS_BOT},
        {"user_id": TELEGRAM_SERVICE},
        {"user_id": ADMIN, "sender_chat": True},  # an admin posting as the channel
        {"user_id": None},
    ],
)
def test_telegrams_stand_ins_are_never_anyone(gate: Gate, stand_in: dict[str, object]) -> None:
    decision = gate.decide(incoming(ADMIN, "subscribe", private=False, **stand_in), NOW)
    assert (decision.allowed, decision.role) == (False, Role.NOBODY)


def test_strangers_hear_one_refusal_a_minute_however_much_they_send(gate: Gate) -> None:
    replies = [
        gate.decide(incoming(STRANGER, "watch"), NOW + timedelta(seconds=s)).reply
        for s in range(0, 120)
    ]
    said = [reply for reply in replies if reply]
    assert len(said) == 2  # at 0 s and at 60 s
    assert said[0] == "Sorry, only the bot's operators may do that."  # a subscriber, not more
    in_a_group = incoming(STRANGER, "watch", private=False, chat_id=-1001)
    assert gate.decide(in_a_group, NOW + timedelta(hours=1)).reply is None  # never in a group


def test_a_stale_mutating_command_is_refused_saying_when_it_was_sent(gate: Gate) -> None:
    sent = NOW - timedelta(minutes=11)
    decision = gate.decide(incoming(OPERATOR, "watch", sent_at=sent), NOW)
    assert not decision.allowed
    assert decision.reply == (
        "This command was sent at 09:19 UTC while I was offline; send it again if you still "
        "want it."
    )
    assert gate.decide(incoming(OPERATOR, "topics", sent_at=sent), NOW).allowed  # reads are fine
    assert gate.decide(incoming(OPERATOR, "watch", sent_at=NOW - timedelta(minutes=9)), NOW).allowed


def test_edits_never_change_anything_and_old_buttons_expire(gate: Gate) -> None:
    assert not gate.decide(incoming(OPERATOR, "watch", edited=True), NOW).allowed
    assert gate.decide(incoming(OPERATOR, "topics", edited=True), NOW).allowed
    old_button = incoming(OPERATOR, "pause", button=True, sent_at=NOW - timedelta(hours=49))
    decision = gate.decide(old_button, NOW)
    assert not decision.allowed and decision.reply is not None and "expired" in decision.reply


def test_closed_and_invite_only_subscriptions() -> None:
    closed = Gate(admins=[ADMIN], subscribers=Openness.CLOSED)
    assert not closed.decide(incoming(STRANGER, "subscribe"), NOW).allowed
    invite = Gate(admins=[ADMIN], subscribers=Openness.INVITE)
    assert not invite.decide(incoming(STRANGER, "subscribe"), NOW).allowed
    assert invite.decide(incoming(STRANGER, "subscribe", invited=True), NOW).allowed


@pytest.mark.parametrize(
    ("command", "arguments", "parsed"),
    [
        ("watch", "black-sea shipping NEAR/5 Odesa", Watch("black-sea", "shipping NEAR/5 Odesa")),
        ("pause", "trump-truth", Named("trump-truth")),
        (
            "addsource",
            "rss https://wire.example/rss 2m",
            AddSource("rss", "https://wire.example/rss", timedelta(minutes=2)),
        ),
        (
            "addsource",
            "BLUESKY kyivindependent.com",
            AddSource("bluesky", "kyivindependent.com", None),
        ),
        ("route", "ceasefire @ukraine_alerts", Route("ceasefire", "@ukraine_alerts")),
        ("grant", "424242", UserId(424242)),
        ("mute", "2h", Span(timedelta(hours=2))),
        ("quiet", "22:00-07:00 Europe/Kyiv", QuietHours(time(22), time(7), "Europe/Kyiv")),
    ],
)
def test_commands_read_their_arguments(command: str, arguments: str, parsed: object) -> None:
    assert parse(command, arguments) == parsed


@pytest.mark.parametrize(
    ("command", "arguments", "message", "column"),
    [
        ("watch", "black-sea (shipping", "bad query: unbalanced parenthesis", 11),
        ("watch", "Black Sea", "'Black' is not an id", 1),
        ("watch", "black-sea", "give the query after the id", None),
        ("addsource", "rsss https://wire.example/rss", "unknown kind 'rsss'", None),
        ("addsource", "rss https://wire.example/rss often", "not a duration", 30),
        ("route", "ceasefire ukraine_alerts", "is not a channel", None),
        ("grant", "@someone", "numeric id", None),
        ("mute", "90d", "from 1m to 30d", None),
        ("quiet", "22-07", "HH:MM-HH:MM", None),
        ("quiet", "22:00-07:00 Mars/Olympus", "unknown time zone", None),
    ],
)
def test_bad_arguments_say_what_is_wrong(
    command: str, arguments: str, message: str, column: int | None
) -> None:
    problem = parse(command, arguments)
    assert isinstance(problem, Problem)
    assert message in problem.message
    assert problem.column == column


def test_every_command_has_usage_and_a_role() -> None:
    for name, spec in COMMANDS.items():
        assert spec.usage.startswith(f"/{name}")
        assert spec.summary
    assert {n for n, s in COMMANDS.items() if s.role is Role.ADMIN} == {"grant", "revoke"}
