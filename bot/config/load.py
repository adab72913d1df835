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

import os
from collections.abc import Collection, Hashable, Mapping
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
    loader = _Loader(text)
    try:
        document = loader.get_single_data()
    except _TooLarge as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        return False, None, [f"{path}: {line}{exc.problem}"]
    except yaml.MarkedYAMLError as exc:
        return False, None, [_syntax_problem(path, exc)]
    except yaml.YAMLError as exc:  # unmarked errors are rare (e.g. a stream with two documents)
        return False, None, [f"{path}: YAML error: {exc}"]
    finally:
        loader.dispose()
    return True, document, [f"{path}: {d}" for d in loader.duplicates]


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


# A config is a few levels deep and a few thousand values long. Beyond these it is an attack or
# an accident: 9 aliases of 9 aliases ... ("billion laughs") make a 400-byte file stand for 10^9
# values that every later walk over the document would visit, and thousands of nested brackets
# exhaust Python's recursion inside the parser.
MAX_DEPTH = 50
MAX_VALUES = 1_000_000  # counted as if every alias were written out


class _TooLarge(yaml.MarkedYAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """SafeLoader that notes duplicate keys (YAML keeps the last silently, hiding the first),
    and refuses documents nested too deep or whose aliases expand too far."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooLarge(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and self._size(node) > MAX_VALUES:
            raise _TooLarge(
                problem=f"aliases expand to more than {MAX_VALUES:,} values (an alias bomb?)",
                problem_mark=node.start_mark,
            )
        return node

    def _size(self, node: yaml.Node) -> int:
        known = self._sizes.get(id(node))
        if known is not None:  # an alias: the anchored node, counted again wherever it is used
            return known
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._sizes.get(id(child), 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(
                self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value
            )
        self._sizes[id(node)] = size
        return size

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
