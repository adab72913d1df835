"""The container image and compose file, as far as this machine (no Docker engine) can tell:
the Dockerfile passes hadolint, compose.yaml is valid under the Compose Specification, and
what they rely on of postwatch holds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from cli_helpers import postwatch
from compose_spec import PyCompose

from bot.runtime.jobs import STOP_GRACE

REPO = Path(__file__).resolve().parent.parent
HADOLINT = Path(sys.executable).parent / "hadolint"


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_is_valid_compose_and_stops_gracefully() -> None:
    text = (REPO / "compose.yaml").read_text()
    compose = PyCompose.from_yaml(text)  # raises with the key path on anything invalid
    assert compose.service_names() == ["postgres", "postwatch"]
    service = yaml.safe_load(text)["services"]["postwatch"]
    assert service["stop_signal"] == "SIGTERM"
    grace = int(service["stop_grace_period"].removesuffix("s"))
    assert grace > STOP_GRACE  # polls in flight get their grace before Docker kills the process


def test_the_image_runs_the_shipped_config_as_compose_configures_it() -> None:
    """The image's command is `postwatch check && exec postwatch run` with the shipped config
    at /app/config; compose feeds it the database URL and token by environment."""
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "POSTWATCH_CONFIG=/app/config/postwatch.yaml" in dockerfile
    assert 'CMD ["sh", "-c", "postwatch check && exec postwatch run"]' in dockerfile
    environment = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["postwatch"][
        "environment"
    ]
    shipped = (REPO / "config" / "postwatch.yaml").read_text()
    for name in environment:
        assert f"${{{name}" in shipped, f"compose sets {name}, the shipped config never reads it"
    env = {"POSTWATCH_CONFIG": str(REPO / "config" / "postwatch.yaml"), "TELEGRAM_BOT_TOKEN": ""}
    result = postwatch("check", env=env)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("config OK")


def test_the_image_keeps_its_database_in_the_volume() -> None:
    """The shipped config's relative SQLite path is relative to /app/config: ../data is the
    /app/data volume the Dockerfile declares and gives to the postwatch user."""
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'VOLUME ["/app/data"]' in dockerfile and "chown postwatch /app/data" in dockerfile
    shipped = yaml.safe_load((REPO / "config" / "postwatch.yaml").read_text())
    default = re.search(r":-(sqlite:///[^}]+)\}", shipped["database_url"])
    assert default is not None
    resolved = os.path.normpath(os.path.join("/app/config", default[1].removeprefix("sqlite:///")))
    assert resolved == "/app/data/postwatch.db"


def test_the_build_context_leaves_out_what_the_image_never_needs() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "data", "*.db", "tests", "bench/.cache"} <= ignored
    lines = re.findall(r"^COPY (?!--from)(.+)$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    copied = [path for line in lines for path in line.split()[:-1]]  # the last is the target
    assert {"pyproject.toml", "README.md", "bot", "config"} <= set(copied)
    for path in copied:  # what the Dockerfile copies is never ignored
        assert path not in ignored and (REPO / path).exists(), path
