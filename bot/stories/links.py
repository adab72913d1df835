"""Links reduced to the article they name: the canonical form behind a post's link keys.

Pure, deterministic (the output feeds persisted index keys: a change is a change of
`bot.stories.keys.FINGERPRINT_VERSION`), and total: any string goes in, none raises.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

_HOST_ALIASES = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "youtu.be": "youtube.com"}
_TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid yclid igshid mc_cid mc_eid _hsenc _hsmi "
    "ref ref_src ref_url cmpid ocid".split()
)
_HOST_PARAMS = {"x.com": frozenset({"s", "t"}), "youtube.com": frozenset({"si", "feature"})}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_PREFIX = re.compile(r"^(?:www\d{0,3}|m|mobile|amp)\.")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)
_BAD_HOST_CHAR = re.compile(r"[\x00-\x20\x7f]")


def canonical_url(url: str) -> str:
    """The article a link names: no scheme, lowercase host without `www.`, no trackers, no fragment.

    `https://WWW.Example.com/a/?utm_source=x&id=3#top` → `example.com/a?id=3`. Links that are
    not http(s) come back stripped but otherwise unchanged, and so does anything that is no
    usable link ("http://[::1", a host with spaces; "http://" put before a bare one):
    `article_urls` leaves those out. Never raises, whatever the string (issue 9: one such link
    in one post ended a whole run).
    """
    raw = url.strip()
    if _SCHEME.match(raw) is None:
        if _OTHER_SCHEME.match(raw):
            return raw  # mailto:, tg:, urn: ...
        raw = "http://" + raw  # "www.example.com/a", "example.com:8080/a"
    try:
        return _canonical_http(raw)
    except ValueError:  # UnicodeEncodeError (a lone surrogate) is one too
        # urlsplit refuses unbalanced IPv6 brackets, a bracketed host that is no IP address
        # (RFC 3986 3.2.2) and netlocs whose NFKC form has "/?#@:" in it (CVE-2019-9636).
        return raw


def _canonical_http(raw: str) -> str:
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return raw
    host = _HOST_PREFIX.sub("", (parts.hostname or "").casefold().rstrip("."))
    if not host or _BAD_HOST_CHAR.search(host):
        return raw  # no host, or forbidden host code points (WHATWG URL: spaces, controls)
    host = _HOST_ALIASES.get(host, host)
    if "[" in parts.netloc:  # an IP literal keeps its brackets (RFC 3986 3.2.2): "::1:80"?
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None  # "host:99999" or "host:x": no usable port, the host still names the site
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE).rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _kept(host, k)]
    if parts.hostname == "youtu.be" and path:  # youtu.be/ID is youtube.com/watch?v=ID
        path, query = "/watch", [*query, ("v", path.lstrip("/"))]
    suffix = "?" + urlencode(sorted(query)) if query else ""
    return f"{netloc}{path}{suffix}"


def _kept(host: str, param: str) -> bool:
    name = param.lower()
    if name.startswith("utm_") or name in _TRACKING_PARAMS:
        return False
    return name not in _HOST_PARAMS.get(host, frozenset())
