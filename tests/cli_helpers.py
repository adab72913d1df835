"""Run the real `postwatch` command line in a subprocess, as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def postwatch(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWATCH_")}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def export_rows(config: Path) -> list[dict[str, Any]]:
    result = postwatch("--config", str(config), "export", "--format", "jsonl")
    assert result.code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
