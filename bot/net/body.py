"""Reading a response body under the byte cap (bot.net.client), gzip/deflate undone in bounded
pieces: the cap counts decoded bytes, so a gzip bomb stops at the cap."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

import httpx

from bot.errors import ResponseTooLargeError, TransportError

# Only codings _Inflater can decode with bounded output; br/zstd would need their own limits.
ACCEPT_ENCODING = "gzip, deflate"
_PIECE = 64 * 1024  # most decoded bytes produced per decompress call


async def read_body(response: httpx.Response, limit: int, where: str) -> bytes:
    """The decoded body of a streamed `response`, at most `limit` bytes; `where` names the
    URL in messages (host and path only)."""
    too_large = f"{where} is larger than the {limit}-byte limit"
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(f"{too_large} (Content-Length {declared})")
    if response.is_stream_consumed:
        # A mock transport's response arrives already read (and decoded) by httpx.
        if len(response.content) > limit:
            raise ResponseTooLargeError(too_large)
        return response.content
    coding = response.headers.get("content-encoding", "")
    decoder = _decoder_for(coding, where)
    parts: list[bytes] = []
    raw = size = 0
    try:
        async for chunk in response.aiter_raw():
            # The raw count bounds a compressed stream that decodes to (almost) nothing.
            raw += len(chunk)
            for piece in decoder.feed(chunk):
                size += len(piece)
                if size > limit or raw > limit:
                    raise ResponseTooLargeError(too_large)
                parts.append(piece)
    except zlib.error as exc:
        raise TransportError(f"corrupt {coding} body from {where}") from exc
    return b"".join(parts)


class _Identity:
    def feed(self, data: bytes) -> Iterable[bytes]:
        return (data,)


class _Inflater:
    """gzip/deflate with bounded output: no single call can expand a chunk into gigabytes."""

    def __init__(self, coding: str) -> None:
        self._deflate = coding == "deflate"
        self._head = b""
        # gzip: 32 + MAX_WBITS also accepts a zlib stream sent under the gzip label.
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 32)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._deflate:
            # RFC 9110 8.4.1.2 says zlib-wrapped (RFC 1950), yet some servers send raw deflate.
            data = self._head = self._head + data
            if len(data) < 2:
                return
            self._deflate = False
            wbits = zlib.MAX_WBITS if _zlib_header(data) else -zlib.MAX_WBITS
            self._inflate = zlib.decompressobj(wbits)
        while not self._inflate.eof:
            piece = self._inflate.decompress(data, _PIECE)
            data = self._inflate.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < _PIECE:  # a full piece may leave output in zlib
                return


def _zlib_header(data: bytes) -> bool:
    """RFC 1950 2.2: method 8 (deflate) and a header that is a multiple of 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _decoder_for(content_encoding: str, where: str) -> _Identity | _Inflater:
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    # Stacked codings multiply a bomb's ratio; we never asked for them (Accept-Encoding).
    raise TransportError(f"unsupported Content-Encoding {content_encoding!r} from {where}")
