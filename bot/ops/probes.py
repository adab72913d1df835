"""The HTTP endpoint inside `postwatch run`: `/metrics`, `/livez`, `/readyz`.

It runs on the bot's event loop, and every handler answers from memory (the metrics registry,
the last readiness the runtime recorded), so a slow database or Telegram never holds a probe
and a probe never holds a poll or a send.

- `/livez`: 200 as long as the process and its event loop answer.
- `/readyz`: 503 while the database is unreachable or the config failed to load; 200 otherwise,
  saying "degraded" when Telegram does not answer (the bot still polls and stores).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.ops.metrics import CONTENT_TYPE, Metrics


@dataclass(frozen=True, slots=True)
class Readiness:
    database: bool = True
    config: bool = True
    telegram: bool = True

    def answer(self) -> tuple[int, str]:
        problems = [name for name in ("database", "config") if not getattr(self, name)]
        if problems:
            return 503, f"not ready: {', '.join(problems)} unavailable\n"
        return 200, "ready\n" if self.telegram else "ready, degraded: Telegram does not answer\n"


class Probes:
    def __init__(self, metrics: Metrics, readiness: Callable[[], Readiness]) -> None:
        self._metrics = metrics
        self._readiness = readiness
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (port 0: any free one); the port listened on."""
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/livez", self._live)
        app.router.add_get("/readyz", self._ready)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # aiohttp keeps the bound socket there; no public accessor
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve_metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=self._metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    async def _live(self, _request: web.Request) -> web.Response:
        return web.Response(text="alive\n")

    async def _ready(self, _request: web.Request) -> web.Response:
        status, text = self._readiness().answer()
        return web.Response(status=status, text=text)
