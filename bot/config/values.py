"""The scalar side of config reading: `${VAR}` substitution, durations, sizes, slugs, URLs, and
the wording of problem messages.

Pure: the environment is a parameter, nothing here reads files or `os.environ`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from datetime import timedelta
from urllib.parse import unquote_plus, urlsplit

DURATION_HELP = "use e.g. 90s, 5m, 24h"
SIZE_HELP = "use e.g. 512KB, 10MB, 1GiB"
SLUG_HELP = "use lowercase letters, digits, '-' and '_'"
SLUG_MAX_LENGTH = 64  # an id is a short name: it is printed in log lines, tables and alerts

_DURATION_PART = re.compile(r"\s*(\d+)\s*([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# KB and KiB alike count in 1024s: config files (nginx, Java heap) read 10MB as 10 MiB, and the
# default network.max_bytes is 10 MiB.
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?", re.IGNORECASE)
_UNIT_BYTES = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
# ${NAME}, ${NAME:-default} (default when unset or empty), ${NAME-default} (when unset);
# $${ is a literal ${. Anything else starting with ${ is a mistake worth reporting.
_ENV_REF = re.compile(
    r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}|\$\{"
)


def substitute_env(text: str, env: Mapping[str, str]) -> tuple[str, list[str], bool]:
    """`text` with ${VAR} references filled from `env`: (result, unset names, malformed)."""
    unset: list[str] = []
    malformed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal malformed
        if match.group(0) == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            malformed = True
            return match.group(0)
        value = env.get(name)
        op = match.group("op")
        if op == ":-" and not value:
            return match.group("default")
        if op == "-" and value is None:
            return match.group("default")
        if value is None:
            unset.append(name)
            return ""
        return value

    return _ENV_REF.sub(replace, text), unset, malformed


def parse_duration(value: object) -> timedelta:
    """90s, 5m, 24h, 7d, 2w, 1h30m or plain integer seconds; ValueError says why not."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return _seconds(value, value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _seconds(int(text), value)
        parts = _DURATION_PART.findall(text)
        if parts and "".join(f"{n}{u}" for n, u in parts) == re.sub(r"\s+", "", text):
            return _seconds(sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in parts), value)
    raise ValueError(f"{describe(value)} is not a duration ({DURATION_HELP})")


def _seconds(seconds: int, written: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{describe(written)} is too long a duration") from None


def format_duration(span: timedelta) -> str:
    """The shortest way to write `span` in config syntax: 90s, 5m, 1h30m."""
    seconds = int(span.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def parse_size(value: object) -> int:
    """10MB, 512KB, 1GiB, 1.5MB or plain integer bytes; ValueError says why not."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match:
            unit = (match.group(2) or "b").lower().replace("i", "")
            return int(float(match.group(1)) * _UNIT_BYTES[unit])
    raise ValueError(f"{describe(value)} is not a size ({SIZE_HELP})")


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"


def is_slug(value: str) -> bool:
    """Lowercase letters, digits, '-' and '_', not starting with '-' or '_'. The length limit
    (SLUG_MAX_LENGTH) is checked apart, so that a message can say which rule an id breaks."""
    return _SLUG.fullmatch(value) is not None


def http_url_problem(value: str) -> str | None:
    """Why `value` is not an absolute http(s) URL, or None when it is one."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return f"{describe(value)} is not a URL"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{describe(value)} is not an http(s) URL"
    if not parts.hostname:
        return f"{describe(value)} has no host name"
    return None


def describe(value: object) -> str:
    """A short, human description of a YAML value for problem messages."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None or isinstance(value, bool):
        return {None: "nothing (null)", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a mapping" if isinstance(value, Mapping) else f"a {type(value).__name__}"


def suggestion(word: str, choices: Collection[str]) -> str:
    """' (did you mean 'x'?)' for a close match among `choices`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def mask_password(url: str) -> str:
    """`url` with every credential it carries replaced by ***, for messages and repr: the
    password in its userinfo, and query parameters such as `?password=` (libpq and SQLAlchemy
    take connection parameters there too, `PGPASSWORD`-like keys included)."""
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        return "<unparsable URL>"
    netloc, query = parts.netloc, parts.query
    if has_password:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    if query:
        query = "&".join(_masked_pair(pair) for pair in query.split("&"))
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # Not geturl(): it drops the empty authority of sqlite:///path.
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}"
    return (
        rebuilt + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    )


# Query keys whose value is a credential (lower case, `_`/`-` removed): libpq's password and
# sslpassword, PGPASSWORD written as a parameter, and the usual token spellings.
_SECRET_KEY = re.compile(r"pass(word)?|pgpassword|sslpassword|pwd|secret|token|apikey|auth\w*")


def credentials_in(url: str) -> list[str]:
    """The secrets `url` carries (password, credential query values), to scrub from a message
    that may quote them, such as a database driver's error."""
    try:
        parts = urlsplit(url)
        found = [unquote_plus(parts.password)] if parts.password else []
    except ValueError:
        return []
    for pair in parts.query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and value and _is_secret_key(key):
            found.append(unquote_plus(value))
    return found


def _masked_pair(pair: str) -> str:
    key, sep, _value = pair.partition("=")
    return f"{key}=***" if sep and _is_secret_key(key) else pair


def _is_secret_key(key: str) -> bool:
    return (
        _SECRET_KEY.fullmatch(unquote_plus(key).lower().replace("_", "").replace("-", ""))
        is not None
    )
