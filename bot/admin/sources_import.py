"""Sources in bulk: OPML outlines checked and turned into config entries, one verdict each.

Every candidate is validated by the config's own builders (the same checks `postwatch check`
makes), refused when its host is certainly private while the guard is on, and compared with
what the config already watches and with the candidates before it. Pure: no file, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.admin.opml import Outline
from bot.config.build import build_config
from bot.config.settings import Config
from bot.errors import ConfigError
from bot.model import SOURCE_KINDS
from bot.net.addresses import private_host_reason

MAX_ID = 64
MAX_NAME = 64
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Verdict:
    outline: Outline
    entry: Mapping[str, str] | None  # the source to add, as the config file writes it
    problem: str | None = None  # why it is not added

    def describe(self) -> str:
        where = f"line {self.outline.line}: " if self.outline.line else ""
        if self.entry is not None:
            return f"{where}add {self.entry['id']} ({self.entry['kind']}) {self.outline.url}"
        return f"{where}skip {self.outline.url}: {self.problem}"


def plan_import(outlines: Sequence[Outline], config: Config) -> list[Verdict]:
    """A verdict per outline, in order: the entry to add, or why not."""
    watched = {_same_feed(s.url): s.id for s in config.sources}
    taken = {s.id for s in config.sources}
    verdicts = []
    for outline in outlines:
        verdict = _verdict(outline, config, watched, taken)
        if verdict.entry is not None:
            watched[_same_feed(outline.url)] = verdict.entry["id"]
            taken.add(verdict.entry["id"])
        verdicts.append(verdict)
    return verdicts


def _verdict(outline: Outline, config: Config, watched: dict[str, str], taken: set[str]) -> Verdict:
    if (known := watched.get(_same_feed(outline.url))) is not None:
        return Verdict(outline, None, f"already watched as source {known}")
    host = _host(outline.url)
    if not config.network.allow_private_addresses and (reason := private_host_reason(host)):
        return Verdict(
            outline,
            None,
            f"{host} is a {reason} address, refused while network.allow_private_addresses is off",
        )
    entry = _entry(outline, _free_id(outline, taken))
    try:
        build_config({"sources": [entry]}, {})
    except ConfigError as exc:
        problems = "; ".join(p.removeprefix("sources[0].") for p in exc.problems)
        return Verdict(outline, None, problems)
    return Verdict(outline, entry)


def _entry(outline: Outline, source_id: str) -> dict[str, str]:
    kind = outline.kind if outline.kind in SOURCE_KINDS else "rss"
    entry = {"id": source_id, "kind": kind}
    path = urlsplit(outline.url).path.rstrip("/")
    if kind == "bluesky":  # our export names the actor's profile page
        entry["actor"] = path.rsplit("/", 1)[-1]
    elif kind == "telegram":
        entry["channel"] = path.rsplit("/", 1)[-1]
    else:
        entry["url"] = outline.url
    if outline.title and outline.title != outline.source_id:  # our export titles nameless by id
        entry["name"] = outline.title[:MAX_NAME].strip()
    return entry


def _free_id(outline: Outline, taken: set[str]) -> str:
    """Our export's id when free, else a slug of the title (or host and path), made unique."""
    if outline.source_id and outline.source_id not in taken:
        return outline.source_id
    parts = urlsplit(outline.url)
    base = _NOT_SLUG.sub("-", (outline.title or f"{parts.hostname}{parts.path}").lower())
    base = base.strip("-")[: MAX_ID - 4].strip("-") or "feed"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _same_feed(url: str) -> str:
    """A feed URL as compared for duplicates: no scheme, case-folded host, no trailing slash."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return url.strip()
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{parts.path.rstrip('/')}{query}"


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
