"""The one HTTP client over real sockets on loopback: caps, deadline, redirects, the address guard.

Servers run on 127.0.0.1 and 127.0.0.2 (both loopback on Linux). Most tests use a policy that
treats 127.0.0.1 as allowed and everything else non-public as private, so the guard is exercised
with local servers; a few use the default policy to show loopback itself is refused.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

import httpx
import pytest
import respx
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from fakes.http_server import Handler, serve

from bot.config.settings import NetworkSettings
from bot.errors import (
    BlockedAddressError,
    FetchTimeoutError,
    HttpStatusError,
    ResponseTooLargeError,
    TransportError,
)
from bot.net.addresses import IPAddress, is_public_address
from bot.net.client import HttpClient, parse_retry_after

ALLOWED = IPv4Address("127.0.0.1")
NOW = datetime(2024, 3, 5, 16, 0, tzinfo=UTC)


def loopback_one_is_public(ip: IPAddress) -> bool:
    return ip == ALLOWED or is_public_address(ip)


BASE = NetworkSettings(timeout=timedelta(seconds=5), max_bytes=64 * 1024)


def settings(**overrides: Any) -> NetworkSettings:
    return replace(BASE, **overrides)


class MapResolver(AbstractResolver):
    """DNS from a dict; records every name looked up."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in self.names:
            raise OSError(f"unknown host {host}")
        return [
            ResolveResult(
                hostname=host, host=ip, port=port, family=socket.AF_INET, proto=0, flags=0
            )
            for ip in self.names[host]
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    async with HttpClient(settings(), policy=loopback_one_is_public) as client:
        yield client


def text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, status=status, headers=headers)


def answer(body: str) -> Handler:
    async def handler(request: web.BaseRequest) -> web.Response:
        return text(body)

    return handler


async def echo_path(request: web.BaseRequest) -> web.Response:
    return text(request.path)


# --- ordinary exchanges -------------------------------------------------------------------


async def test_200_returns_decoded_body_headers_and_sends_user_agent(http: HttpClient) -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(body=b"<rss/>", content_type="application/rss+xml", charset="utf-8")

    async with serve(handler) as server:
        response = await http.get(server.url("/feed"), accept="application/rss+xml")
    assert response.status == 200
    assert response.body == b"<rss/>"
    assert response.content_type == "application/rss+xml"
    assert response.url == server.url("/feed")
    assert not response.not_modified
    sent = server.requests[0].headers
    assert "postwatch" in sent["User-Agent"]
    assert sent["Accept"] == "application/rss+xml"
    assert "If-None-Match" not in sent


async def test_params_are_merged_into_the_query(http: HttpClient) -> None:
    async with serve(answer("[]")) as server:
        await http.get(server.url("/api?x=1"), params={"acct": "a@b.example", "limit": "40"})
    assert dict(server.requests[0].query) == {"x": "1", "acct": "a@b.example", "limit": "40"}


async def test_etag_and_last_modified_round_trip_to_a_304(http: HttpClient) -> None:
    etag, stamp = '"v1"', "Tue, 05 Mar 2024 15:00:00 GMT"

    async def handler(request: web.BaseRequest) -> web.Response:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return text("<feed/>", headers={"ETag": etag, "Last-Modified": stamp})

    async with serve(handler) as server:
        first = await http.get(server.url())
        second = await http.get(server.url(), etag=first.etag, last_modified=first.last_modified)
    assert (first.etag, first.last_modified) == (etag, stamp)
    assert second.not_modified
    assert second.body == b""
    assert second.etag == etag
    assert server.requests[1].headers["If-Modified-Since"] == stamp


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # RFC 9110: zlib-wrapped
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
async def test_compressed_bodies_are_decoded(http: HttpClient, coding: str, encode: object) -> None:
    original = b"<rss>" + b"news " * 5000 + b"</rss>"
    compressed = encode(original)  # type: ignore[operator]

    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(body=compressed, headers={"Content-Encoding": coding})

    async with serve(handler) as server:
        response = await http.get(server.url())
    assert response.body == original
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


async def test_two_hundred_concurrent_fetches_share_the_client(http: HttpClient) -> None:
    async with serve(echo_path) as server:
        responses = await asyncio.gather(*(http.get(server.url(f"/{n}")) for n in range(200)))
    assert [r.body for r in responses] == [f"/{n}".encode() for n in range(200)]


# --- size cap and deadline ----------------------------------------------------------------


async def test_body_over_max_bytes_with_content_length_is_refused(http: HttpClient) -> None:
    async with serve(answer("x" * 70_000)) as server:
        with pytest.raises(ResponseTooLargeError, match="Content-Length 70000"):
            await http.get(server.url("/big"))


async def test_body_over_max_bytes_without_content_length_is_cut_off(http: HttpClient) -> None:
    sent: list[int] = []

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(1000):  # 16 MB if nobody stops reading
            await response.write(b"x" * 16384)
            sent.append(16384)
        return response

    async with serve(handler) as server:
        with pytest.raises(ResponseTooLargeError, match="/stream"):
            await http.get(server.url("/stream"))
    assert sum(sent) < 16 * 1024 * 1024


async def test_gzip_bomb_is_cut_off_without_inflating_it_in_memory(http: HttpClient) -> None:
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024))  # ~32 kB on the wire, 32 MB decoded
    assert len(bomb) < 64 * 1024  # under max_bytes as sent: only the decoded count catches it

    async def handler(request: web.BaseRequest) -> web.Response:
        if request.path == "/warm-up":
            return text("ok")
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    async with serve(handler) as server:
        await http.get(server.url("/warm-up"))  # the session and TLS context exist before tracing
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError):
                await http.get(server.url())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Decoding a whole 16 kB network chunk at once would hold ~16 MB.
    assert peak < 4 * 1024 * 1024


async def test_stacked_content_encodings_are_refused(http: HttpClient) -> None:
    twice = gzip.compress(gzip.compress(b"\0" * 1_000_000))

    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(body=twice, headers={"Content-Encoding": "gzip, gzip"})

    async with serve(handler) as server:
        with pytest.raises(TransportError, match="Content-Encoding"):
            await http.get(server.url())


async def test_dribbling_server_hits_the_overall_deadline() -> None:
    # One byte per 0.05 s never trips the 0.5 s read timeout; only the overall deadline stops it.
    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b"x")
            await asyncio.sleep(0.05)
        return response

    quick = settings(timeout=timedelta(seconds=0.5))
    async with serve(handler) as server, HttpClient(quick, policy=loopback_one_is_public) as http:
        with pytest.raises(FetchTimeoutError, match=r"127\.0\.0\.1"):
            await http.get(server.url("/slow"))


async def test_server_that_never_answers_times_out() -> None:
    never = asyncio.Event()

    async def handler(request: web.BaseRequest) -> web.Response:
        await never.wait()
        return text("late")

    quick = settings(timeout=timedelta(seconds=0.5))
    async with serve(handler) as server, HttpClient(quick, policy=loopback_one_is_public) as http:
        with pytest.raises(FetchTimeoutError):
            await http.get(server.url())
        never.set()


# --- status codes and transport failures --------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (503, "Tue, 05 Mar 2024 16:02:30 GMT", 150.0),  # HTTP-date, 150 s after NOW
        (429, "soon", None),
    ],
)
async def test_retry_after_on_429_and_503(
    status: int, retry_after: str, expected: float | None
) -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return text("slow down", status, {"Retry-After": retry_after})

    client = HttpClient(settings(), policy=loopback_one_is_public, clock=lambda: NOW)
    async with serve(handler) as server, client:
        with pytest.raises(HttpStatusError) as caught:
            await client.get(server.url("/api"))
    assert caught.value.status == status
    assert caught.value.retry_after == expected


async def test_500_is_a_status_error_without_retry_after_or_query(http: HttpClient) -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return text("boom", 500, {"Retry-After": "60"})

    async with serve(handler) as server:
        with pytest.raises(HttpStatusError) as caught:
            await http.get(server.url("/feed?key=s3cret"))
    assert caught.value.status == 500
    assert caught.value.retry_after is None
    assert "/feed" in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_connection_refused_is_a_transport_error(http: HttpClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError, match=r"127\.0\.0\.1"):
        await http.get(f"http://127.0.0.1:{port}/feed")


async def test_unknown_hostname_is_a_transport_error() -> None:
    resolver = MapResolver({})
    async with HttpClient(settings(), policy=loopback_one_is_public, resolver=resolver) as http:
        with pytest.raises(TransportError, match=r"nowhere\.test"):
            await http.get("http://nowhere.test/feed")


@pytest.mark.parametrize("url", ["not a url at all", "http:///path-only", "http://[::1/"])
async def test_malformed_urls_are_transport_errors(http: HttpClient, url: str) -> None:
    with pytest.raises(TransportError):
        await http.get(url)


# --- the private-address guard ------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost"])
async def test_loopback_is_refused_by_default_and_no_request_is_sent(host: str) -> None:
    async with serve(answer("secret")) as server, HttpClient(settings()) as http:
        with pytest.raises(BlockedAddressError, match="loopback"):
            await http.get(f"http://{host}:{server.port}/admin")
    assert server.hits == []


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f000001", "[::ffff:127.0.0.1]"])
async def test_legacy_and_mapped_loopback_forms_do_not_dodge_the_guard(host: str) -> None:
    async with serve(answer("secret")) as server, HttpClient(settings()) as http:
        with pytest.raises((BlockedAddressError, TransportError)):
            await http.get(f"http://{host}:{server.port}/admin")
    assert server.hits == []


async def test_allow_private_addresses_lets_loopback_through() -> None:
    async with (
        serve(answer("ok")) as server,
        HttpClient(settings(allow_private_addresses=True)) as http,
    ):
        response = await http.get(f"http://localhost:{server.port}/")
    assert response.body == b"ok"


async def test_hostnames_are_checked_on_their_resolved_addresses() -> None:
    resolver = MapResolver(
        {
            "public.test": ["127.0.0.1"],
            "private.test": ["127.0.0.2"],
            "mixed.test": ["127.0.0.2", "127.0.0.1"],
        }
    )

    async def ok(request: web.BaseRequest) -> web.Response:
        return text(request.host)

    async with (
        serve(ok, "127.0.0.1") as good,
        serve(ok, "127.0.0.2") as bad,
        HttpClient(settings(), policy=loopback_one_is_public, resolver=resolver) as http,
    ):
        fine = await http.get(f"http://public.test:{good.port}/")
        mixed = await http.get(f"http://mixed.test:{good.port}/")
        with pytest.raises(BlockedAddressError, match=r"private\.test.*127\.0\.0\.2"):
            await http.get(f"http://private.test:{bad.port}/")
    assert fine.body == f"public.test:{good.port}".encode()  # Host header kept
    assert mixed.body == f"mixed.test:{good.port}".encode()  # only the allowed address used
    assert bad.hits == []
    assert "private.test" in resolver.lookups


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/", "http://private.test:{port}/"])
async def test_redirect_to_a_private_address_is_refused(target: str) -> None:
    resolver = MapResolver({"private.test": ["127.0.0.2"]})
    async with serve(answer("internal"), "127.0.0.2") as inner:
        location = target.format(port=inner.port)

        async def redirect(request: web.BaseRequest) -> web.Response:
            return web.Response(status=302, headers={"Location": location})

        async with (
            serve(redirect) as outer,
            HttpClient(settings(), policy=loopback_one_is_public, resolver=resolver) as http,
        ):
            with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.2"):
                await http.get(outer.url("/go"))
    assert outer.hits == ["/go"]
    assert inner.hits == []


async def test_relative_redirects_are_followed_up_to_max_redirects() -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        hops = int(request.path.strip("/") or 0)
        if hops < 3:
            return web.Response(status=301, headers={"Location": f"/{hops + 1}"})
        return text("arrived")

    async with serve(handler) as server:
        async with HttpClient(settings(max_redirects=3), policy=loopback_one_is_public) as http:
            response = await http.get(server.url("/"))
        assert response.body == b"arrived"
        assert response.url == server.url("/3")
        async with HttpClient(settings(max_redirects=2), policy=loopback_one_is_public) as http:
            with pytest.raises(TransportError, match="more than 2 redirects"):
                await http.get(server.url("/"))


async def test_redirect_loop_is_a_transport_error(http: HttpClient) -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(status=307, headers={"Location": request.path})

    async with serve(handler) as server:
        with pytest.raises(TransportError, match="redirects"):
            await http.get(server.url("/loop"))
    assert len(server.hits) == 6  # the first request and max_redirects (5) more


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://a/"])
async def test_redirect_to_a_non_http_scheme_is_refused(http: HttpClient, location: str) -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    async with serve(handler) as server:
        with pytest.raises(TransportError, match="only http"):
            await http.get(server.url())


# --- the transport seam -------------------------------------------------------------------


async def test_respx_router_serves_through_the_transport_seam() -> None:
    router = respx.MockRouter(using=None)
    route = router.get("https://social.example/api/v1/statuses").respond(
        json=[{"id": "1"}], headers={"ETag": '"a"'}
    )
    async with HttpClient(settings(), transport=httpx.MockTransport(router.async_handler)) as http:
        response = await http.get("https://social.example/api/v1/statuses", etag='"z"')
        with pytest.raises(BlockedAddressError):  # literal hosts are still guarded
            await http.get("http://10.0.0.1/")
    assert response.body == b'[{"id":"1"}]'
    assert response.etag == '"a"'
    assert route.calls.last.request.headers["If-None-Match"] == '"z"'


async def test_mock_transport_errors_are_translated() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with HttpClient(settings(), transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(TransportError, match=r"feed\.example/x"):
            await http.get("https://feed.example/x?token=abc")


# --- Retry-After parsing (pure) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        (" 3600 ", 3600.0),
        ("Tue, 05 Mar 2024 16:01:00 GMT", 60.0),  # IMF-fixdate
        ("Tuesday, 05-Mar-24 16:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Tue Mar  5 16:01:00 2024", 60.0),  # obsolete asctime form, GMT by definition
        ("Tue, 05 Mar 2024 15:00:00 GMT", 0.0),  # already past
        ("-5", None),
        ("1.5", None),
        ("²", None),
        ("", None),
        (None, None),
        ("next week", None),
        ("99999999999999999999", 7 * 24 * 3600.0),  # overflowed the backoff's timedelta
        ("Fri, 31 Dec 9999 23:59:59 GMT", 7 * 24 * 3600.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
