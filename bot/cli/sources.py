"""`postwatch sources import FILE.opml [--write]` and `postwatch sources export --format
opml|yaml`: the watchlist's sources in bulk, to and from feed readers.

Import prints one verdict per outline (added, or skipped and why) on stderr. Without `--write`
the entries to add go to stdout as a `sources:` block; with it they are appended to the config
file itself, its comments and layout kept, and the result is validated before it replaces the
file (a file that would not load is never written).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.admin.opml import read_opml, write_opml
from bot.admin.sources_import import plan_import
from bot.cli.exit_codes import EXIT_CONFIG, EXIT_OK
from bot.config.load import load_config
from bot.config.settings import Config, SourceConfig
from bot.errors import ConfigError, ParseError
from bot.log import counted


def sources(config: Config, args: argparse.Namespace, config_path: Path) -> int:
    if args.sources_command == "export":
        return _export(config.sources, args.format)
    return _import(config, Path(args.file), config_path, write=args.write)


def _export(chosen: Sequence[SourceConfig], fmt: str) -> int:
    if fmt == "opml":
        sys.stdout.buffer.write(write_opml(chosen))
        return EXIT_OK
    _yaml().dump({"sources": [_entry_of(source) for source in chosen]}, sys.stdout)
    return EXIT_OK


def _entry_of(source: SourceConfig) -> dict[str, object]:
    """A source as the config file writes it (defaults left out)."""
    entry: dict[str, object] = {"id": source.id, "kind": source.kind}
    if source.name:
        entry["name"] = source.name
    if source.kind == "bluesky":
        entry["actor"] = source.actor
    elif source.kind == "telegram":
        entry["channel"] = source.channel
    else:
        entry["url"] = source.url
    if not source.enabled:
        entry["enabled"] = False
    return entry


def _import(config: Config, file: Path, config_path: Path, *, write: bool) -> int:
    try:
        outlines = read_opml(file.read_bytes())
    except OSError as exc:
        print(f"postwatch: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ParseError as exc:
        print(f"postwatch: {file}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    verdicts = plan_import(outlines, config)
    for verdict in verdicts:
        print(verdict.describe(), file=sys.stderr)
    entries = [v.entry for v in verdicts if v.entry is not None]
    skipped = len(verdicts) - len(entries)
    if write and entries:
        try:
            _append(config_path, entries)
        except ConfigError as exc:
            for problem in exc.problems:
                print(f"postwatch: {problem}", file=sys.stderr)
            print(f"postwatch: {config_path} left unchanged", file=sys.stderr)
            return EXIT_CONFIG
    elif entries:
        _yaml().dump({"sources": [dict(entry) for entry in entries]}, sys.stdout)
    where = f"added to {config_path}" if write else "printed above"
    print(
        f"{counted(len(entries), 'source')} {where if entries else 'to add'}, "
        f"{counted(skipped, 'outline')} skipped",
        file=sys.stderr,
    )
    return EXIT_OK


def _append(config_path: Path, entries: Sequence[Mapping[str, str]]) -> None:
    """Append `entries` to the file's `sources:` list, keeping its comments; ConfigError (the
    file unchanged) when the result would not load."""
    yaml = _yaml()
    document = yaml.load(config_path.read_text(encoding="utf-8"))
    if not isinstance(document, CommentedMap):
        raise ConfigError([f"{config_path}: not a mapping of settings"])
    listed = document.get("sources")
    if not isinstance(listed, CommentedSeq):
        listed = document["sources"] = CommentedSeq()
    listed.extend(CommentedMap(entry) for entry in entries)
    text = io.StringIO()
    yaml.dump(document, text)
    with tempfile.NamedTemporaryFile(
        "w", dir=config_path.parent, suffix=".yaml", delete=False, encoding="utf-8"
    ) as draft:
        draft.write(text.getvalue())
    try:
        load_config(Path(draft.name), dict(os.environ))  # refuses what would not load
        os.replace(draft.name, config_path)
    finally:
        if os.path.exists(draft.name):
            os.unlink(draft.name)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and quoting of the file are kept
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml
