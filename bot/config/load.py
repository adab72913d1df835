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

from collections.abc import Hashable, Mapping
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


def load_config(path: Path, env: Mapping[str, str]) -> Config:
    """Read, substitute ${VAR}s from `env`, validate. ConfigError carries every problem found."""
    readable, document, problems = read_document(path)
    if not readable:
        raise ConfigError(problems)
    try:
        config = build_config(document, env)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def read_document(path: Path) -> tuple[bool, object, list[str]]:
    """(readable, the parsed YAML, problems found while reading). An empty file reads as None."""
    text, problem = _read_text(path)
    if text is None:
        return False, None, [problem]
    loader = _Loader(text)
    try:
        document = loader.get_single_data()
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


class _Loader(yaml.SafeLoader):
    """SafeLoader that notes duplicate keys: YAML keeps the last silently, hiding the first."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

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
