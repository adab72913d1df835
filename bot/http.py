"""The one polite, capped HTTP client every fetch goes through.

STUB with the final interface; the full version (private-address guard on resolved addresses,
streamed decoded-byte cap, overall deadline, Retry-After, aiohttp transport) replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx

from bot.config import NetworkSettings
from bot.errors import FetchTimeoutError, HttpStatusError, TransportError


@dataclass(frozen=True, slots=True)
class HttpResponse:
    url: str  # final URL after redirects
    status: int  # 200..299 or 304
    headers: Mapping[str, str]  # lower-case names
    body: bytes  # decoded (gzip/deflate/br undone); empty for 304

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        """Media type without parameters, lower-case ('' when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class HttpClient:
    """Async client; `transport` is the test seam (respx, httpx.MockTransport)."""

    def __init__(
        self, settings: NetworkSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        timeout = settings.timeout.total_seconds()
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": settings.user_agent},
            follow_redirects=True,
            trust_env=False,
        )

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> HttpResponse:
        """GET `url`. Returns 2xx and 304 responses; raises a FetchError subclass otherwise."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        try:
            response = await self._client.get(url, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out fetching {url}") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__} fetching {url}: {exc}") from exc
        if response.status_code != 304 and not 200 <= response.status_code < 300:
            raise HttpStatusError(response.status_code, str(response.url))
        return HttpResponse(
            url=str(response.url),
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.content,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
