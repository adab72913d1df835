"""Telegram's HTML parse mode, strictly, for the fake Bot API server.

https://core.telegram.org/bots/api#html-style: only the tags below; every <, > and & outside a
tag or entity must be escaped; named entities only &lt; &gt; &amp; &quot;, numeric ones all.
Being stricter than Telegram where it is lenient is the point: a renderer that passes here
passes there.
"""

from __future__ import annotations

import re

_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"a", "code", "pre", "blockquote", "tg-emoji"}
)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>(?:\s[^<>]*)?)>"
    r"|&(?P<entity>#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);"
    r"|(?P<bare>[<>&])"
)
_ATTR = re.compile(r'\s*([a-zA-Z-]+)\s*=\s*"([^"]*)"\s*')


class HtmlError(ValueError):
    """Worded like Telegram's "can't parse entities: ..." detail."""


def visible_text(html: str) -> str:
    """The text Telegram shows for `html`, or HtmlError where Telegram would refuse it."""
    out: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _TOKEN.finditer(html):
        out.append(html[position : match.start()])
        position = match.end()
        offset = len(html[: match.start()].encode())
        if match["bare"]:
            raise HtmlError(f"unescaped {match['bare']!r} at byte offset {offset}")
        if match["entity"]:
            out.append(_entity(match["entity"], offset))
            continue
        tag = match["tag"].lower()
        if tag not in _TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {offset}')
        if match["close"]:
            if not open_tags or open_tags.pop() != tag:
                raise HtmlError(f'Unmatched end tag at byte offset {offset}, expected "{tag}"')
            continue
        if tag == "a":
            _check_link(match["attrs"], offset)
        open_tags.append(tag)
    out.append(html[position:])
    if open_tags:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def _entity(name: str, offset: int) -> str:
    try:
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
    except ValueError:  # past U+10FFFF
        raise HtmlError(f"Invalid character entity at byte offset {offset}") from None
    if name in _NAMED:
        return _NAMED[name]
    raise HtmlError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')


def _check_link(attrs: str, offset: int) -> None:
    found = dict(_ATTR.findall(attrs))
    href = visible_text(found.get("href", ""))  # attribute values are escaped like text
    if _ATTR.sub("", attrs).strip() or not href:
        raise HtmlError(f"Bad <a> attributes at byte offset {offset}")
    if not href.lower().startswith(("http://", "https://", "tg://")):
        raise HtmlError(f"Wrong HTTP URL at byte offset {offset}")
