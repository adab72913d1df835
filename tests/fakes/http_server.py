"""A real HTTP server on a loopback address for tests: one handler, every request recorded.

    async with serve(handler) as server:            # 127.0.0.1, a free port
        await client.get(server.url("/feed"))
        assert server.hits == ["/feed"]

`host="127.0.0.2"` gives a second loopback address (all of 127/8 is loopback on Linux), which
lets a test treat 127.0.0.1 as allowed and 127.0.0.2 as private.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


@dataclass
class LocalServer:
    host: str
    port: int = 0
    hits: list[str] = field(default_factory=list)  # path and query of each request, in order
    requests: list[web.BaseRequest] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"


@asynccontextmanager
async def serve(handler: Handler, host: str = "127.0.0.1") -> AsyncIterator[LocalServer]:
    server = LocalServer(host)

    async def recording(request: web.BaseRequest) -> web.StreamResponse:
        server.hits.append(request.path_qs)
        server.requests.append(request)
        return await handler(request)

    # A short shutdown: handlers that stall on purpose are cancelled instead of awaited.
    runner = web.ServerRunner(web.Server(recording), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        await runner.cleanup()
