"""Logging: the bot token never reaches the output, whichever way it travels into a record."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.log import DEBUG_ONLY_LOGGERS, QUIET_LOGGERS, parse_level, setup_logging
from bot.store.database import Store

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OTHER_TOKEN = "987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDxyz"  # never passed as a secret
API = f"https://api.telegram.org/bot{TOKEN}"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS + DEBUG_ONLY_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def out() -> io.StringIO:
    stream = io.StringIO()
    setup_logging("DEBUG", secrets=[TOKEN], stream=stream)
    return stream


def test_token_in_formatted_args_is_redacted(out: io.StringIO) -> None:
    logging.getLogger("bot.deliver").warning(
        "sending to %s failed: %r", f"{API}/sendMessage", TOKEN
    )
    text = out.getvalue()
    assert TOKEN not in text
    assert (
        "sending to https://api.telegram.org/bot<redacted>/sendMessage failed: '<redacted>'" in text
    )


def test_httpx_request_lines_are_held_back_and_redacted_if_let_through(out: io.StringIO) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=transport) as client:
        client.post(f"{API}/getMe")
        assert out.getvalue() == ""  # httpx is held at WARNING even at DEBUG
        logging.getLogger("httpx").setLevel(logging.INFO)  # someone debugging lowers it
        client.post(f"{API}/getMe")
    text = out.getvalue()
    assert (
        'HTTP Request: POST https://api.telegram.org/bot<redacted>/getMe "HTTP/1.1 200 OK"' in text
    )
    assert TOKEN not in text


def test_exception_tracebacks_are_redacted(out: io.StringIO) -> None:
    def send() -> None:
        try:
            raise ConnectionError(f"cannot reach {API}/sendMessage")
        except ConnectionError as exc:
            raise RuntimeError(f"delivery failed with token {TOKEN}") from exc

    try:
        send()
    except RuntimeError:
        logging.getLogger("bot.deliver").exception("alert %d not sent", 7)
    text = out.getvalue()
    assert TOKEN not in text
    assert "alert 7 not sent" in text
    assert "Traceback (most recent call last)" in text
    assert (
        "ConnectionError: cannot reach https://api.telegram.org/bot<redacted>/sendMessage" in text
    )
    assert "RuntimeError: delivery failed with token <redacted>" in text


def test_other_handlers_see_the_redacted_record(out: io.StringIO) -> None:
    # A handler added after ours (a test's caplog, an operator's file handler) gets the record
    # our filter already rewrote: message formatted, exc_info replaced by redacted text.
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logging.getLogger().addHandler(Keep())
    try:
        raise ValueError(TOKEN)
    except ValueError:
        logging.getLogger("x").error("boom %s", TOKEN, exc_info=True, stack_info=True)
    (record,) = seen
    rendered = logging.Formatter().format(record)
    assert TOKEN not in rendered
    assert "boom <redacted>" in rendered
    assert "ValueError: <redacted>" in rendered


def test_token_shaped_strings_are_redacted_even_when_not_declared(out: io.StringIO) -> None:
    log = logging.getLogger("telegram.ext.Updater")
    log.error("GET https://api.telegram.org/bot%s/getUpdates", OTHER_TOKEN)
    log.error("encoded: /bot%s/getMe", OTHER_TOKEN.replace(":", "%3A"))
    log.error("bare: %s", OTHER_TOKEN)
    text = out.getvalue()
    assert OTHER_TOKEN.split(":")[1] not in text
    assert "https://api.telegram.org/bot<redacted>/getUpdates" in text
    assert "encoded: /bot<redacted>/getMe" in text
    assert "bare: <redacted>" in text


def test_ordinary_text_is_left_alone(out: io.StringIO) -> None:
    logging.getLogger("bot.poll").info("polled %s at 12:30: 3 new posts", "robot-feed")
    assert out.getvalue().endswith("INFO bot.poll: polled robot-feed at 12:30: 3 new posts\n")


def test_json_lines_are_redacted_and_parse(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", json=True, secrets=[TOKEN])
    try:
        raise OSError(f"{API}/sendMessage unreachable")
    except OSError:
        logging.getLogger("bot.notify").exception("send failed for %s", TOKEN)
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is for export data and demo alerts
    (line,) = captured.err.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "bot.notify"
    assert entry["message"] == "send failed for <redacted>"
    assert (
        "OSError: https://api.telegram.org/bot<redacted>/sendMessage unreachable"
        in (entry["exception"])
    )
    assert TOKEN not in captured.err


def test_setting_up_again_replaces_the_handler(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("WARNING")
    setup_logging("INFO", secrets=[TOKEN])  # e.g. once the config has revealed the token
    logging.getLogger("bot.cli").info("token is %s", TOKEN)
    err = capsys.readouterr().err
    assert err.count("token is") == 1
    assert TOKEN not in err


def test_noisy_loggers_stay_at_warning() -> None:
    setup_logging("DEBUG", stream=io.StringIO())
    for name in ("httpx", "httpcore", "apscheduler", "apscheduler.scheduler"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO), name
        assert logger.isEnabledFor(logging.WARNING), name
    assert logging.getLogger("bot.poll").isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_opening_a_database_logs_one_line_for_an_upgrade_and_nothing_else(
    tmp_path: Path, level: str
) -> None:
    # Alembic announced its plugins, dialect and every migration step at INFO on each command.
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    setup_logging(level, stream=stream)  # as the CLI does: set up again once the config is read
    url = f"sqlite:///{tmp_path / 'postwatch.db'}"
    Store.open(url).close()  # creating the schema
    lines = stream.getvalue().splitlines()
    if level == "INFO":
        [line] = lines
        assert "INFO bot.store.engine: database schema upgraded from nothing to " in line
    else:
        assert lines == []
    Store.open(url).close()  # finding it current
    assert stream.getvalue().splitlines() == lines


def test_alembic_speaks_at_debug(tmp_path: Path) -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    Store.open(f"sqlite:///{tmp_path / 'postwatch.db'}").close()
    assert "INFO alembic.runtime.migration: Running upgrade" in stream.getvalue()


def test_log_arguments_that_do_not_fit_do_not_raise(out: io.StringIO) -> None:
    logging.getLogger("bot.x").warning("two %s %s", TOKEN)  # noqa: PLE1206 - the point
    text = out.getvalue()
    assert "log arguments did not fit the message" in text
    assert TOKEN not in text


def test_levels() -> None:
    assert parse_level("debug") == logging.DEBUG
    assert parse_level(" Warning ") == logging.WARNING
    assert parse_level("15") == 15
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        setup_logging("LOUD")
