"""Telegram's measures of a message, and cuts that respect them. Pure.

Telegram counts its limits (4096 for a message, 1024 for a media caption) in UTF-16 code units
of the text left after entity parsing (https://core.telegram.org/bots/api#sendmessage and
#formatting-options), and formats at most about 100 entities in one message: bold, italic and
links we write, and what it finds itself (URLs, @mentions, #hashtags, e-mail addresses).
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

MESSAGE_LIMIT = 4096  # sendMessage `text`, after entity parsing
CAPTION_LIMIT = 1024  # sendPhoto `caption`, after entity parsing
# Telegram stops formatting a message after about 100 entities; stay below.
MAX_ENTITIES = 99
ELLIPSIS = "…"
_WORD_BACKOFF = 40  # a cut mid-word moves back to a space at most this far
# Longest run of joined code points kept whole (a ZWJ family emoji with skin tones is ~11).
_CLUSTER_MAX = 16
_SURROGATE = re.compile("[\ud800-\udfff]")
_OPEN_TAG = re.compile(r"<(?!/)[a-z]", re.IGNORECASE)
# What Telegram turns into entities by itself: links (with or without a scheme), mentions,
# hashtags, cashtags, e-mail addresses. An estimate that errs on the side of counting.
_AUTO_ENTITY = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.-]+|(?<![\w@#$])[@#$]\w+|\b(?:[\w-]+\.)+[a-z]{2,}\b",
    re.IGNORECASE,
)


def sendable(text: str) -> str:
    """`text` with each surrogate code point (no UTF-8 request can carry one) replaced by
    U+FFFD, so offsets into it still hold. Stored posts have none; other strings might."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts: astral characters (emoji) count 2. A
    surrogate code point counts 1, as the U+FFFD `sendable` makes of it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_length(html: str) -> int:
    """UTF-16 length of what Telegram shows for `html`: tags removed, entities decoded."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return utf16_len("".join(collector.parts))


def entity_count(html: str) -> int:
    """How many entities Telegram will see in `html`: its tags, and what it auto-detects in
    the visible text."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return len(_OPEN_TAG.findall(html)) + auto_entities("".join(collector.parts))


def auto_entities(text: str) -> int:
    """Entities Telegram would find by itself in plain `text`."""
    return len(_AUTO_ENTITY.findall(text))


def cut(text: str, units: int) -> str:
    """The longest prefix of `text` within `units` UTF-16 code units that does not split a
    character from its combining marks or a ZWJ sequence, preferring a word boundary."""
    encoded = text.encode("utf-16-le")[: 2 * max(units, 0)]
    if len(encoded) >= 2 and 0xD800 <= int.from_bytes(encoded[-2:], "little") <= 0xDBFF:
        encoded = encoded[:-2]  # never half a surrogate pair
    end = len(encoded.decode("utf-16-le"))
    start = end
    while 0 < end < len(text) and _joins_previous(text, end) and start - end < _CLUSTER_MAX:
        end -= 1
    if start - end == _CLUSTER_MAX:  # not a character cluster but a run of marks: cut it
        end = start
    if 0 < end < len(text) and not text[end].isspace():
        space = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end))
        if space > 0 and end - space <= _WORD_BACKOFF:
            end = space
    return text[:end].rstrip()


def _joins_previous(text: str, index: int) -> bool:
    """Whether text[index] belongs to the grapheme of the character before it."""
    char = text[index]
    return (
        unicodedata.category(char).startswith("M")  # combining marks, variation selectors
        or char == "\u200d"
        or text[index - 1] == "\u200d"
        or 0x1F3FB <= ord(char) <= 0x1F3FF  # emoji skin-tone modifiers
        or (_is_regional(char) and _is_regional(text[index - 1]))  # flags are letter pairs
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
