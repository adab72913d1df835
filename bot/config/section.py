"""`Section`: a mapping of the config read at a key path. Its reads record problems (path and
why) and return a fallback, so one pass over the file finds every problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import timedelta
from typing import TypeVar

from bot.config.values import (
    SLUG_HELP,
    SLUG_MAX_LENGTH,
    describe,
    format_duration,
    format_size,
    is_slug,
    parse_duration,
    parse_size,
    suggestion,
)


class _Reported:
    """A value whose problem is already recorded (an unset ${VAR}): reads skip it quietly."""

    def __repr__(self) -> str:
        return "REPORTED"


REPORTED = _Reported()
T = TypeVar("T")
_WHOLE = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d*\.?\d+")


class Section:
    """One mapping of the config at `path`. Reads record problems and return a fallback, so
    one pass over the file finds every problem."""

    def __init__(self, data: Mapping[object, object], path: str, problems: list[str]) -> None:
        self.data = data
        self.path = path
        self.problems = problems

    @classmethod
    def of(cls, value: object, path: str, problems: list[str], shape: str) -> Section | None:
        """A Section when `value` is a mapping; otherwise a problem and None."""
        if isinstance(value, Mapping):
            return cls(value, path, problems)
        if value is not REPORTED:
            problems.append(f"{path}: expected a mapping ({shape}), got {describe(value)}")
        return None

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.at(key)}: {message}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def check_keys(
        self, allowed: Collection[str], elsewhere: Mapping[str, str] | None = None
    ) -> None:
        """Report keys outside `allowed`; `elsewhere` maps a key to why it does not apply here."""
        for key in self.data:
            name = str(key)
            if name in allowed:
                continue
            if elsewhere and name in elsewhere:
                self.problem(name, elsewhere[name])
            else:
                self.problem(name, f"unknown key{suggestion(name, allowed)}")

    def text(self, key: str, default: str | None = None, *, required: str = "") -> str | None:
        """A non-empty string; `required` (the reason) makes a missing key a problem."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, f"missing: {required}")
            return default
        if value is REPORTED:
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # a number where text is expected: `name: 2024`
        if not isinstance(value, str):
            self.problem(key, f"expected text, got {describe(value)}")
            return default
        if not value.strip():
            self.problem(key, f"is empty{f': {required}' if required else ''}")
            return default
        return value.strip()

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None or value is REPORTED:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {describe(value)}")
            return default
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        return int(self._number(key, default, low, high, whole=True))

    def fraction(self, key: str, default: float, low: float, high: float) -> float:
        return float(self._number(key, default, low, high, whole=False))

    def duration(
        self, key: str, default: timedelta, low: timedelta, high: timedelta | None = None
    ) -> timedelta:
        span = self.parsed(key, parse_duration)
        if span is None:
            return default
        if span < low:
            self.problem(
                key, f"{format_duration(span)} is too short (at least {format_duration(low)})"
            )
            return default
        if high is not None and span > high:
            self.problem(
                key, f"{format_duration(span)} is too long (at most {format_duration(high)})"
            )
            return default
        return span

    def size(self, key: str, default: int, low: int, high: int) -> int:
        size = self.parsed(key, parse_size)
        if size is None:
            return default
        if not low <= size <= high:
            value = self.data.get(key)
            self.problem(
                key,
                f"{describe(value)} is out of range ({format_size(low)} to {format_size(high)})",
            )
            return default
        return size

    def parsed(self, key: str, parse: Callable[[object], T]) -> T | None:
        """`parse` of the value at `key`; None when it is absent, already reported, or `parse`
        raises ValueError (its message becomes the problem)."""
        value = self.data.get(key)
        if value is None or value is REPORTED:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.problem(key, str(exc))
            return None

    def _number(self, key: str, default: float, low: float, high: float, *, whole: bool) -> float:
        value = self.data.get(key)
        if value is None or value is REPORTED:
            return default
        if isinstance(value, str) and (_WHOLE if whole else _DECIMAL).fullmatch(value.strip()):
            value = int(value) if whole else float(value)
        if not isinstance(value, int if whole else int | float) or isinstance(value, bool):
            wanted = "a whole number" if whole else "a number such as 0.6"
            self.problem(key, f"expected {wanted}, got {describe(value)}")
            return default
        if not low <= value <= high:
            self.problem(key, f"{value} is out of range (expected {low} to {high})")
            return default
        return value

    def items(self, key: str) -> Iterator[tuple[str, object]]:
        """(path, item) for each item of a list; a problem when the value is not a list."""
        value = self.data.get(key)
        if value is None or value is REPORTED:
            return
        if not isinstance(value, list):
            self.problem(key, f"expected a list, got {describe(value)}")
            return
        for index, item in enumerate(value):
            yield f"{self.at(key)}[{index}]", item


def entries(root: Section, key: str, shape: str) -> Iterator[Section]:
    """Each list item under `key` that is a mapping; problems for the rest."""
    for path, item in root.items(key):
        if section := Section.of(item, path, root.problems, shape):
            yield section


def entry_id(section: Section, seen: dict[str, str], example: str) -> str | None:
    """The entry's id: present, a slug, not too long, not seen before in its list (`seen`: id →
    path). A bad character and a bad length are two problems, each named as what it is."""
    ident = section.text("id", required=f"a short name for this entry, e.g. {example}")
    if ident is None:
        return None
    valid = True
    if not is_slug(ident):
        section.problem("id", f"{describe(ident)} is not a slug ({SLUG_HELP}, e.g. {example})")
        valid = False
    if len(ident) > SLUG_MAX_LENGTH:
        section.problem(
            "id",
            f"{describe(ident)} is too long: {len(ident)} characters "
            f"(an id has at most {SLUG_MAX_LENGTH})",
        )
        valid = False
    if not valid:
        return None
    if ident in seen:
        section.problem("id", f"duplicate id '{ident}' (also {seen[ident]})")
        return None
    seen[ident] = section.path
    return ident
