"""YAML → validated, frozen Config. Parsed once, passed explicitly; nothing reads the
environment at import time.

    path = resolve_config_path(args.config, os.environ)   # --config, else $POSTWATCH_CONFIG
    config = load_config(path, os.environ)                # ConfigError lists every problem

This module reads the file. The checks live in bot.config.build (the document → Config),
bot.config.sources (the sources list, per kind), bot.config.delivery (delivery and channel
options), bot.config.section (reads that record problems with their key path) and
bot.config.values (durations, sizes, ${VAR}); the types in bot.config.settings.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Collection, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from bot.config.build import build_config
from bot.config.settings import Config
from bot.errors import ConfigError

CONFIG_ENV = "POSTWATCH_CONFIG"
DEFAULT_CONFIG_PATH = Path("config/postwatch.yaml")


def resolve_config_path(cli_value: str | None, env: Mapping[str, str]) -> Path:
    """--config, else $POSTWATCH_CONFIG, else config/postwatch.yaml (relative to the cwd)."""
    if cli_value:
        return Path(cli_value)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH


# What a command that only reads stored posts needs: broken topics or channels elsewhere in the
# file must not stop `topics test` from trying another query.
STORE_KEYS = ("database_url", "sources", "defaults", "network")


def load_config(
    path: Path, env: Mapping[str, str], *, only: Collection[str] | None = None
) -> Config:
    """Read, substitute ${VAR}s from `env`, validate. ConfigError carries every problem found.

    `only` keeps just those top-level keys (the rest take their defaults). A relative SQLite
    path is resolved against the config file's directory, not the working directory, so every
    command finds the same database wherever it is run from.
    """
    with _collector_paused():
        readable, document, problems = read_document(path)
        if not readable:
            raise ConfigError(problems)
        if only is not None and isinstance(document, Mapping):
            document = {key: value for key, value in document.items() if key in only}
        try:
            config = build_config(document, env)
        except ConfigError as exc:
            raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    return replace(config, database_url=anchored(config.database_url, path.parent))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while the document and the Config are built: they are
    millions of new objects and no garbage cycles, and each collection walks them all again.
    With it on, 100,000 sources took four times as long (issue 12). The pause is process-wide (a
    reload in a worker thread pauses it for the loop too, for the seconds a load takes); already
    paused, it is left so."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def anchored(database_url: str, directory: Path) -> str:
    """`sqlite:///relative/path.db` made absolute against `directory`; other URLs unchanged."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return database_url
    file, mark, query = database_url[len(prefix) :].partition("?")
    if not file or file.startswith("/") or file == ":memory:":
        return database_url
    return f"{prefix}{os.path.abspath(directory / file)}{mark}{query}"


def read_document(path: Path) -> tuple[bool, object, list[str]]:
    """(readable, the parsed YAML, problems found while reading). An empty file reads as None."""
    text, problem = _read_text(path)
    if text is None:
        return False, None, [problem]
    if LIBYAML:
        try:
            document, duplicates = _parse(text, fast=True)
            return True, document, [f"{path}: {d}" for d in duplicates]
        except yaml.YAMLError:
            pass  # libyaml words its errors and marks its own way: read again to report as ever
    try:
        document, duplicates = _parse(text, fast=False)
    except _TooLarge as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        return False, None, [f"{path}: {line}{exc.problem}"]
    except yaml.MarkedYAMLError as exc:
        return False, None, [_syntax_problem(path, exc)]
    except yaml.YAMLError as exc:  # unmarked errors are rare (e.g. a stream with two documents)
        return False, None, [f"{path}: YAML error: {exc}"]
    return True, document, [f"{path}: {d}" for d in duplicates]


def _parse(text: str, *, fast: bool) -> tuple[object, list[str]]:
    """(the document, duplicate keys noted) through libyaml (`fast`) or the pure-Python parser;
    yaml.YAMLError, _TooLarge included, when it is not a document within the limits."""
    _check_limits(yaml.CSafeLoader(text) if fast else yaml.SafeLoader(text))
    loader = _CLoader(text) if fast else _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _read_text(path: Path) -> tuple[str | None, str]:
    try:
        return path.read_text(encoding="utf-8"), ""
    except FileNotFoundError:
        hint = f"pass --config PATH or set ${CONFIG_ENV}; config/example.yaml documents every key"
        return None, f"{path}: file not found ({hint})"
    except IsADirectoryError:
        return None, f"{path}: is a directory, not a config file"
    except UnicodeDecodeError as exc:
        return None, f"{path}: not UTF-8 text (byte {exc.start})"
    except OSError as exc:
        return None, f"{path}: cannot read: {exc.strerror or exc}"


def _syntax_problem(path: Path, exc: yaml.MarkedYAMLError) -> str:
    # Only the message and position: str(exc) quotes the offending line, which may hold a token.
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    message = " ".join(m for m in (exc.context, exc.problem) if m)
    if "'@'" in message or "'`'" in message:
        message += ' (quote values that start with @ or `, e.g. chat_id: "@my_channel")'
    return f"{path}: YAML syntax error at {where}{message}"


# A config is a few levels deep; it may be long (100,000 sources are about 1.1 million values).
# Beyond these limits it is an attack or an accident: 9 aliases of 9 aliases ... ("billion laughs")
# make a 400-byte file stand for 10^9 values that every later walk over the document would visit,
# and thousands of nested brackets exhaust Python's recursion (and libyaml's C stack) in the
# composer. Values written out count once whatever their number: the cost of those is linear.
MAX_DEPTH = 50
MAX_VALUES = 1_000_000  # values that aliases stand for, counted as if each were written out


class _TooLarge(yaml.MarkedYAMLError):
    pass


def _check_limits(parser: yaml.SafeLoader | yaml.CSafeLoader) -> None:
    """Raise _TooLarge at the first node the composer would meet nested deeper than MAX_DEPTH or
    standing, through aliases, for more than MAX_VALUES values: one pass over the parser's
    events, without recursion, before anything is composed. It stops where the composer raises
    its own error first: an undefined alias, a duplicate anchor, a second document."""
    count = _Count()
    open_nodes = count.open
    documents = 0
    try:
        while (event := parser.get_event()) is not None:
            if (
                type(event) is yaml.ScalarEvent
                and event.anchor is None
                and 0 < len(open_nodes) < MAX_DEPTH
            ):
                open_nodes[-1][0] += 1  # most events: what count.node would do, 3x quicker
            elif type(event) is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    return
            elif isinstance(event, yaml.CollectionEndEvent):
                count.end()
            elif isinstance(event, yaml.NodeEvent) and not count.node(event):
                return
    finally:
        parser.dispose()


class _Count:
    """The nodes open around the parser's position, each with the values it holds so far, and
    how many of those came through aliases; the values each anchor stands for."""

    def __init__(self) -> None:
        self.open: list[list[Any]] = []  # [values, values through aliases, anchor, start mark]
        self.anchors: dict[str, tuple[int, Any]] = {}  # anchor -> (values, start mark)

    def node(self, event: yaml.NodeEvent) -> bool:
        """Count a scalar, an alias or the start of a collection; False where the composer will
        stop with an error of its own."""
        start: Any = event.start_mark  # libyaml's marks are its own type, with the same fields
        if len(self.open) >= MAX_DEPTH:
            raise _TooLarge(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=start)
        anchor = event.anchor
        if isinstance(event, yaml.AliasEvent):
            if anchor not in self.anchors:
                return False
            values, mark = self.anchors[anchor]
            self._add(values, values, mark)
            return True
        if anchor is not None and anchor in self.anchors:
            return False
        if anchor is not None:  # an alias to a collection from inside it counts 1
            self.anchors[anchor] = (1, start)
        if isinstance(event, yaml.ScalarEvent):
            self._add(1, 0, start)
        else:
            self.open.append([1, 0, anchor, start])
        return True

    def end(self) -> None:
        values, aliased, anchor, mark = self.open.pop()
        if anchor is not None:
            self.anchors[anchor] = (values, mark)
        self._add(values, aliased, mark)

    def _add(self, values: int, aliased: int, mark: Any) -> None:
        if aliased > MAX_VALUES:
            raise _TooLarge(
                problem=f"aliases expand to more than {MAX_VALUES:,} values (an alias bomb?)",
                problem_mark=mark,
            )
        if self.open:
            self.open[-1][0] += values
            self.open[-1][1] += aliased


class _NotingDuplicates(yaml.constructor.SafeConstructor):
    """Notes duplicate keys: YAML keeps the last silently, hiding the first."""

    duplicates: list[str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[str, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                self.duplicates.append(
                    f"line {line}: duplicate key '{key_node.value}' (first at line "
                    f"{seen[key_node.value]}; YAML would silently keep only the last)"
                )
            else:
                seen[key_node.value] = line
        return super().construct_mapping(node, deep)


class _Loader(_NotingDuplicates, yaml.SafeLoader):
    """The pure-Python SafeLoader, noting duplicate keys: the reference whose messages we print."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates = []


LIBYAML = hasattr(yaml, "CSafeLoader")  # PyYAML built with libyaml, as its wheels are
if LIBYAML:

    class _CLoader(_NotingDuplicates, yaml.CSafeLoader):
        """libyaml's parser and composer (ten times the pure-Python speed), noting duplicates.
        Only for documents it reads without error: errors are reported by _Loader's wording."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.duplicates = []
