"""What one round of polls did, for `run --once` to say: counts, and the failures grouped.

Pure: reports in, values and text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.poll import PollReport

EXAMPLES = 3  # failed sources named per kind of failure
KINDS_SHOWN = 8  # kinds of failure spelled out; the rest are counted
_ERROR_CHARS = 160  # of each example's error: enough for "HTTP 404 from <url>"


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Sources that failed the same way: the error's class ("bug: <class>" for ours)."""

    kind: str
    count: int
    examples: tuple[tuple[str, str], ...]  # (source id, error) of the first few, by source id


@dataclass(frozen=True, slots=True)
class PollSummary:
    polled: int  # sources actually polled: those waiting out a backoff are not
    waiting: int  # skipped for Retry-After or backoff
    failed: int
    stored: int  # new posts
    joined: int  # copies of alerted stories
    damaged: int  # posts a stage failed on (stored where they could be)
    failures: tuple[FailureGroup, ...]  # most common kind first


def summarize_polls(reports: Sequence[PollReport], *, examples: int = EXAMPLES) -> PollSummary:
    polled = [r for r in reports if not r.skipped]
    failed = sorted((r for r in polled if r.error is not None), key=lambda r: r.source_id)
    groups: dict[str, list[PollReport]] = {}
    for report in failed:
        groups.setdefault(report.error_kind or "error", []).append(report)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return PollSummary(
        polled=len(polled),
        waiting=len(reports) - len(polled),
        failed=len(failed),
        stored=sum(r.stored for r in polled),
        joined=sum(r.joined for r in polled),
        damaged=sum(r.damaged for r in polled),
        failures=tuple(
            FailureGroup(
                kind,
                len(members),
                tuple((r.source_id, _clip(r.error or "")) for r in members[:examples]),
            )
            for kind, members in ordered
        ),
    )


def describe_failures(groups: Sequence[FailureGroup], *, kinds: int = KINDS_SHOWN) -> str:
    """'2 HttpStatusError (a: HTTP 404 from …; b: HTTP 410 from …), 1 bug: ValueError (c: …)'."""
    parts = []
    for group in groups[:kinds]:
        named = "; ".join(f"{source}: {error}" for source, error in group.examples)
        more = (
            f"; {group.count - len(group.examples)} more"
            if group.count > len(group.examples)
            else ""
        )
        parts.append(f"{group.count} {group.kind} ({named}{more})")
    rest = sum(group.count for group in groups[kinds:])
    if rest:
        parts.append(f"{rest} of {len(groups) - kinds} other kinds")
    return ", ".join(parts)


def _clip(error: str) -> str:
    line = " ".join(error.split())
    return line if len(line) <= _ERROR_CHARS else line[: _ERROR_CHARS - 1] + "…"
