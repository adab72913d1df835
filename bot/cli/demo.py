"""`postwatch demo`: the bundled offline demo. Real adapters and pipeline, feeds served from
packaged files, a temporary SQLite database, alerts printed.

No network at all: the HTTP client gets a transport that answers from `bot/cli/demo_data/`.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import httpx

from bot.cli.exit_codes import EXIT_OK
from bot.config.load import load_config
from bot.config.settings import Config
from bot.log import counted
from bot.runtime.core import open_runtime
from bot.runtime.run import run_once

# (host, path) → packaged file. Query strings are ignored: the files are the whole answer.
DEMO_ROUTES: Mapping[tuple[str, str], tuple[str, str]] = {
    ("truthsocial.com", "/api/v1/accounts/lookup"): ("truth_lookup.json", "application/json"),
    ("truthsocial.com", "/api/v1/accounts/107780257626128497/statuses"): (
        "truth_statuses.json",
        "application/json",
    ),
    ("rss.example.net", "/TrumpDailyPosts/rss"): ("mirror_x.xml", "application/rss+xml"),
    ("rss.example.net", "/PressSec/rss"): ("pressec_x.xml", "application/rss+xml"),
    ("www.whitehouse.gov", "/feed/"): ("whitehouse.xml", "application/atom+xml"),
    ("public.api.bsky.app", "/xrpc/app.bsky.feed.getAuthorFeed"): (
        "kyivindependent_bsky.json",
        "application/json",
    ),
    ("t.me", "/s/V_Zelenskiy_official"): ("zelensky_tg.html", "text/html; charset=utf-8"),
    ("news.example.org", "/rss"): ("news.xml", "application/rss+xml"),
}


def _demo_file(name: str) -> bytes:
    return resources.files("bot.cli.demo_data").joinpath(name).read_bytes()


def demo_transport() -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        route = DEMO_ROUTES.get((request.url.host, request.url.path))
        if route is None:
            return httpx.Response(404, text="not part of the demo")
        name, content_type = route
        return httpx.Response(200, content=_demo_file(name), headers={"Content-Type": content_type})

    return httpx.MockTransport(answer)


def demo_config(workdir: Path) -> Config:
    """The demo config with its database in `workdir` (a temporary directory)."""
    config_path = workdir / "demo.yaml"
    config_path.write_bytes(_demo_file("demo.yaml"))
    env = {"POSTWATCH_DEMO_DB": str(workdir / "demo.db")}
    return load_config(config_path, env)


def temporary_workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="postwatch-demo-")


def demo() -> int:
    async def demo(config: Config) -> None:
        runtime = await open_runtime(config, transport=demo_transport())
        try:
            polls, delivery = await run_once(runtime)
        finally:
            await runtime.close()
        print(
            f"\ndemo: {counted(len(polls), 'source')} polled, "
            f"{counted(sum(p.stored for p in polls), 'post')} stored, "
            f"{counted(delivery.sent, 'alert')} printed above "
            "(no bot token: console instead of Telegram)."
        )
        for poll in polls:
            if poll.error:
                print(f"demo: source {poll.source_id} failed: {poll.error}")

    with temporary_workdir() as workdir:
        asyncio.run(demo(demo_config(Path(workdir))))
    return EXIT_OK
