"""The one polite, capped HTTP client every fetch goes through.

httpx's API over aiohttp's sockets (httpx-aiohttp: ~5x the fetch rate of httpcore on 2 cores,
shared/MEASURED.md), one shared connection pool with keep-alive. Each `get`:

- refuses private addresses (bot.net.guard) on IP-literal hosts and, through the resolver, on
  every address a hostname resolves to; redirects are followed by hand so each hop is checked;
- sends a User-Agent naming postwatch and the conditional-GET validators (RFC 9110 13.1);
- caps the body while it streams, counting decoded bytes, so a gzip bomb stops at the cap
  (bot.net.body);
- runs under one deadline covering every hop and the body, so a dribbling server cannot hold a poll;
- turns 429/503 Retry-After into `HttpStatusError.retry_after`, and every httpx/aiohttp error into
  bot.errors. Messages name host and path only: query strings may carry credentials.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType

import aiohttp
import certifi
import httpx
from aiohttp.abc import AbstractResolver
from httpx_aiohttp import AiohttpTransport

from bot.config.settings import NetworkSettings
from bot.errors import FetchTimeoutError, HttpStatusError, TransportError
from bot.net.addresses import AddressPolicy, is_public_address
from bot.net.body import ACCEPT_ENCODING, read_body
from bot.net.guard import GuardedResolver, check_literal_host

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})  # RFC 9110 15.4
_RETRY_AFTER_STATUSES = frozenset({429, 503})  # RFC 6585 4, RFC 9110 15.6.4


@dataclass(frozen=True, slots=True)
class HttpResponse:
    url: str  # final URL after redirects
    status: int  # 200..299 or 304
    headers: Mapping[str, str]  # lower-case names
    body: bytes  # decoded (gzip/deflate undone); empty for 304

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
    """One shared client. Seams for tests: `transport` replaces aiohttp entirely (respx,
    httpx.MockTransport; then only IP-literal hosts are guarded), `policy` decides which addresses
    may be connected to (default: public only, or anything when allow_private_addresses is on),
    `resolver` is the DNS resolver the guard wraps, `clock` dates Retry-After."""

    def __init__(
        self,
        settings: NetworkSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: AddressPolicy | None = None,
        resolver: AbstractResolver | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._settings = settings
        self._deadline = settings.timeout.total_seconds()
        if policy is None and not settings.allow_private_addresses:
            policy = is_public_address
        self._policy = policy
        self._resolver = resolver
        self._session_resolver: AbstractResolver | None = None
        self._clock = clock or _utc_now
        self._headers = {"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        self._options = {"timeout": httpx.Timeout(self._deadline).as_dict()}
        self._client = httpx.AsyncClient(
            # aiohttp needs a running loop: the transport builds the session on first use.
            transport=transport or AiohttpTransport(client=self._new_session),
            timeout=self._deadline,
            headers=self._headers,
            follow_redirects=False,
            trust_env=False,
            # Polling is stateless: a cookie one feed sets must not follow later requests.
            cookies=_NoCookies(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    def _new_session(self) -> aiohttp.ClientSession:
        resolver = self._resolver or aiohttp.DefaultResolver()
        if self._policy is not None:
            resolver = GuardedResolver(resolver, self._policy)
        self._session_resolver = resolver  # the connector does not close a resolver it was given
        connector = aiohttp.TCPConnector(
            resolver=resolver,
            limit=max(100, 2 * self._settings.concurrency),
            # certifi, like httpx: the same trust store in slim containers as on a laptop.
            ssl=ssl.create_default_context(cafile=certifi.where()),
        )
        return aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # decoded here, under the byte cap
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
        target = _parse_url(url, params)
        try:
            async with asyncio.timeout(self._deadline):
                return await self._follow(target, headers)
        except TimeoutError as exc:
            raise FetchTimeoutError(
                f"no complete answer from {_where(target)} within {self._deadline:g}s"
            ) from exc

    async def _follow(self, target: httpx.URL, headers: dict[str, str]) -> HttpResponse:
        first = target
        for _hop in range(self._settings.max_redirects + 1):
            self._check(target)
            with _translated(target):
                # Not build_request: its merging of cookies, params and base URL, none of which
                # we use, was a tenth of a 304 poll's cost (issue 12).
                request = httpx.Request(
                    "GET", target, headers={**self._headers, **headers}, extensions=self._options
                )
                response = await self._client.send(request, stream=True)
                try:
                    location = _redirect_location(response)
                    if location is None:
                        return await self._finish(target, response)
                finally:
                    await response.aclose()
            target = _next_hop(target, location)
        raise TransportError(
            f"more than {self._settings.max_redirects} redirects from {_where(first)}"
        )

    def _check(self, target: httpx.URL) -> None:
        if target.scheme not in ("http", "https"):
            raise TransportError(
                f"refusing {target.scheme or 'relative'} URL {_where(target)}: only http(s)"
            )
        if not target.host:
            raise TransportError(f"no host in URL {_where(target)}")
        if self._policy is not None:
            check_literal_host(target.host, self._policy)

    async def _finish(self, target: httpx.URL, response: httpx.Response) -> HttpResponse:
        status = response.status_code
        if not (status == 304 or 200 <= status < 300):
            retry_after = None
            if status in _RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
            raise HttpStatusError(status, _where(target), retry_after=retry_after)
        body = b""  # RFC 9110 15.4.5: a 304 has no content.
        if status != 304:
            body = await read_body(response, self._settings.max_bytes, _where(target))
        return HttpResponse(
            url=str(target),
            status=status,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=body,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._session_resolver is not None:
            await self._session_resolver.close()
            self._session_resolver = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _NoCookies(CookieJar):
    """A jar that refuses every cookie without reading it. The policy alone refuses them too,
    but only after parsing each response's headers: a tenth of a 304 poll's time (issue 12)."""

    def extract_cookies(self, response: object, request: object) -> None:
        return None

    def add_cookie_header(self, request: object) -> None:
        return None


MAX_RETRY_AFTER = 7 * 24 * 3600.0  # a week; the poll loop clamps to its own backoff ceiling


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 10.2.3).

    None when absent or unreadable; a date in the past means 0; anything beyond MAX_RETRY_AFTER
    is that (a server asking for centuries is broken, and a timedelta of 10^20 s overflows).
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:  # the asctime form carries no zone; HTTP dates are GMT (RFC 9110 5.6.7)
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def _parse_url(url: str, params: Mapping[str, str] | None) -> httpx.URL:
    try:
        target = httpx.URL(url)
        return target.copy_merge_params(params) if params else target
    except (httpx.InvalidURL, TypeError) as exc:
        raise TransportError(f"invalid URL: {exc}") from exc


def _next_hop(target: httpx.URL, location: str) -> httpx.URL:
    try:
        return target.join(location).copy_with(fragment=None)
    except httpx.InvalidURL as exc:
        raise TransportError(f"invalid redirect Location from {_where(target)}: {exc}") from exc


def _redirect_location(response: httpx.Response) -> str | None:
    if response.status_code not in _REDIRECT_STATUSES:
        return None
    return response.headers.get("location") or None


def _where(url: httpx.URL) -> str:
    """host[:port]/path for messages: never the query string or userinfo."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}{url.path}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _translated(target: httpx.URL) -> Iterator[None]:
    """httpx and aiohttp errors → bot.errors. Ours (e.g. BlockedAddressError) pass through."""
    try:
        yield
    except (httpx.HTTPError, aiohttp.ClientError) as exc:
        # httpx-aiohttp 0.2 maps aiohttp errors loosely (a refused connection becomes
        # ConnectTimeout): classify by the original aiohttp error when there is one.
        origin: BaseException = exc
        if isinstance(exc.__cause__, aiohttp.ClientError):
            origin = exc.__cause__
        if isinstance(origin, TimeoutError | httpx.TimeoutException):
            raise FetchTimeoutError(f"timed out talking to {_where(target)}") from exc
        detail: object = origin
        if isinstance(origin, aiohttp.ClientResponseError):
            detail = origin.message  # its str() holds the full URL
        elif isinstance(origin, aiohttp.InvalidURL):
            detail = "invalid URL"  # likewise
        raise TransportError(
            f"{type(origin).__name__} fetching {_where(target)}: {detail}"
        ) from exc
