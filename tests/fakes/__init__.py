"""Fakes that speak real protocols over real loopback sockets.

- `telegram_api.FakeTelegram`: a Bot API server (fixture `fake_telegram`).
- `feed_server.FeedServer`: feeds with ETag/Last-Modified, failures, stalls (fixture `feed_server`).
- `http_server.serve`: a one-handler server living on the test's own event loop.

The first two run in a background thread with their own event loop, so the same server serves
sync tests (a `postwatch` subprocess) and async tests (whose loop must stay free to be the client).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")


class ThreadedServer:
    """An aiohttp Application on 127.0.0.1 (a free port), served from a daemon thread."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        # A short shutdown: handlers that stall on purpose are cancelled, not awaited.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)

    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run `coro` on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        # Handlers of connections the client already dropped (a stall, a slow answer) can
        # outlive cleanup; cancel them so closing the loop destroys no pending task.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self.run(self._shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
