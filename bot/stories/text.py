"""What relays do to a post, undone: the text and link normalisation behind story fingerprints.

Pure functions, no I/O. `relay_normalize` reduces a post's text to the words two relays of the
same post still agree on; `article_urls` names the articles it links (each reduced by
`bot.stories.links.canonical_url`). Both outputs feed persisted index keys, so every rule here
is deterministic; changing one is a change of `bot.stories.keys.FINGERPRINT_VERSION`.

The steps of `relay_normalize`, in order (none may remove the last word: a text made only of what
relays add, "BREAKING" or "Follow us on Telegram", stays itself):
1. HTML remnants: entities unescaped (twice, for `&amp;amp;`), tags dropped, then NFKC (which
   also turns "…" into "...", so one rule covers both ellipses).
2. Links: URLs with a scheme, `www.` links and bare `host.tld/path` links (t.co, bit.ly and
   truncated display links like `whitehouse.gov/briefings-stat…`) are removed.
3. Relay prefixes, repeatedly: emoji and punctuation, "RT @x:", "@x:", "JUST IN:", "BREAKING",
   "СРОЧНО:", and an ALL-CAPS header of up to four words ending in ":" above text that is not
   in capitals itself.
4. Boilerplate sentences ("Read more at …", "Follow us on Telegram", "Subscribe to our
   channel", "Source: …", their Russian and Ukrainian forms) go, from the trigger to the end
   of the line or sentence; then prefixes again.
5. Relay suffixes, repeatedly: "(via @x)", "h/t @x", hashtag and mention runs, a short
   attribution after a dash ("— Donald J. Trump Posts From His Truth Social"), and truncation:
   a final "..." goes with the word before it, which may have been cut ("Infrastr…").
6. Words: `bot.classify.text.words` (NFKC, casefold, accents and quotes, emoji and punctuation
   dropped), joined by single spaces. `relay_words` also tells where sentences and clauses start.
"""

from __future__ import annotations

import html
import re
import unicodedata

from bot.classify.text import words
from bot.stories.links import canonical_url

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,400}>")
_BLOCK_TAG = re.compile(r"<(?:br|/?p|/?div|/?li|/?h\d)\b[^<>]{0,400}>", re.IGNORECASE)
_SCHEME_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'«»]+|\bwww\.[^\s<>\"'«»]+", re.IGNORECASE)
# host.tld/path without a scheme: t.co/xyz, bit.ly/abc, "whitehouse.gov/briefings-stat…". At
# most six labels before the TLD, so "a.a.a.a…" cannot make the search quadratic.
_BARE_URL = re.compile(
    r"(?<![\w@./])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,6}[a-z]{2,24}/[^\s<>\"'«»]*",
    re.IGNORECASE,
)
_URL_TAIL_PUNCT = ".,;:!?)]}'\"»…"

# Up to 16 characters of bullets, emoji and dashes may lead the trigger ("👉 Read more"); an
# unbounded run made a long row of dots or "!!!" quadratic (9,000 dots took 27 s).
_BOILERPLATE_TRIGGERS = (
    r"read (?:more|the full (?:story|article|report|post|statement))|full (?:story|article)\b|"
    r"more (?:at|here|info)\b|click here|tap here|link in (?:bio|comments)|"
    r"follow (?:us|me|our)\b|subscribe (?:to|for|now|here)\b|join (?:us|our)\b|"
    r"sign up (?:for|here|now)\b|download (?:our|the) app|like and share|share this\b|"
    r"source:|подписывайтесь|подпишитесь|подписаться|подпишись|присоединяйтесь|"
    r"читайте (?:также|далее|больше|подробнее)|подробнее|источник:|наш канал|"
    r"підписуйтесь|підпишіться|підписатися|приєднуйтесь|читайте (?:також|далі|більше)|"
    r"детальніше|джерело:"
)
_BOILERPLATE = re.compile(
    r"(?:^|(?<=[\n.!?|•:;)]))[^\w\n]{0,16}\b(?:" + _BOILERPLATE_TRIGGERS + r")"
    r"[^\n]*?(?=\n|(?<!\s\w)[.!?](?:\s|$)|$)",  # an initial ("J.") does not end it
    re.IGNORECASE,
)
# Whether _BOILERPLATE matches anywhere (its end always does): the break character consumed
# rather than looked behind at, so `re` skips ahead to the break characters (3x faster).
_BOILERPLATE_AT = (
    re.compile(r"[^\w\n]{0,16}\b(?:" + _BOILERPLATE_TRIGGERS + ")", re.IGNORECASE).match,
    re.compile(r"[\n.!?|•:;)][^\w\n]{0,16}\b(?:" + _BOILERPLATE_TRIGGERS + ")", re.I).search,
)
_CLAUSE_BREAK = re.compile(r"[.!?…:;|\n\"“”«»]+|\s[-–—]+\s")
_WORD_CHAR = re.compile(r"[^\W_]")
_TAIL_SPAN = 240  # characters searched for relay suffixes; bylines and hashtag runs are shorter
_MAX_STRIPS = 16  # prefixes (suffixes) stripped at most: relays stack a few, not hundreds
_SPACES = re.compile(r"[^\S\n]+")  # runs of spaces and tabs; line breaks end boilerplate
_ODD_SPACE = re.compile(r"[^\S\n ]")  # what _SPACES changes besides runs of plain spaces
_LEAD_JUNK = re.compile(r"^[^\w@#]+")
_RELAY_PREFIXES = (
    re.compile(r"^RT\s+@\w+\s*:?"),
    re.compile(r"^@\w+\s*:"),
    # Newsroom markers: in any case when punctuation follows, bare when written in capitals.
    re.compile(
        r"^(?i:just in|breaking(?: news)?|update[sd]?|new|watch|developing|alert|urgent|flash|"
        r"exclusive|live|срочно|терміново|термiново|важно|важливо|молния|блискавка)"
        r"\s*(?:[^\w\s@#]+|$)"
    ),
    re.compile(r"^(?:JUST IN|BREAKING(?: NEWS)?|СРОЧНО|ТЕРМІНОВО|МОЛНИЯ)\b"),
)
# Any ALL-CAPS header of up to four words, "TRUMP ON PUTIN CALL:", when the text after it is not
# in capitals too (in a relay that capitalised everything, "ZELENSKY:" is the original's word).
_CAPS_HEADER = re.compile(
    r"^(?:[A-ZА-ЯЁІЇЄҐ][A-ZА-ЯЁІЇЄҐ0-9.'’&-]*\s+){0,3}[A-ZА-ЯЁІЇЄҐ][A-ZА-ЯЁІЇЄҐ0-9.'’&-]+\s*[:|]"
)
_LOWER = re.compile(r"[a-zа-яёіїєґ]")
# Matched on the reversed last _TAIL_SPAN characters: the trailing run at once, where a search
# for "[^\w.)]+$" would try every position. Keeps "." for the truncation check, ")" for "(via @x)".
_TAIL_JUNK_REVERSED = re.compile(r"[^\w.)]*")
_RELAY_SUFFIXES = (  # (a character the pattern needs, the pattern): the check is cheaper
    ("(", re.compile(r"\(\s*(?i:via|h/t|ht|hat tip|source|by|from)\b[^()\n]{0,80}\)$")),
    ("@", re.compile(r"(?:^|\s)(?i:via|h/t|ht|by|from)\s+@[\w.]+$")),
    ("#@", re.compile(r"(?:\s*[#@][\w.]+)+$")),
    ("@", re.compile(r"(?:^|\s)\(@[\w.]+\)$")),
)
# A short attribution after a dash: at most ten words, none of them ending a sentence.
_DASH_TAIL = re.compile(r"\s[-–—]{1,2}\s*([^-–—\n!?]{1,100})$")
_SPACED_DASH = re.compile(r"\s[-–—]")  # where _DASH_TAIL can start: found much faster
_ATTRIBUTION_MAX_WORDS = 10
# A tail is a byline when the head is long, or the tail long and the head not tiny: "Air raid
# alert — Kyiv region" keeps its tail, "Jobs! — Donald J. Trump Posts From His Truth Social" not.
_ATTRIBUTION_LONG_HEAD = 8
_ATTRIBUTION_LONG_TAIL = 4
_ATTRIBUTION_MIN_HEAD = 3


def relay_normalize(text: str) -> str:
    """The words of `text` that relays of it keep, folded and joined by single spaces."""
    return " ".join(relay_words(text)[0])


def relay_words(text: str) -> tuple[list[str], tuple[int, ...]]:
    """`relay_normalize` as a word list, with the indices of words that start a sentence or
    clause (after . ! ? : ; | a dash, a quote mark or a line break; 0 is always one)."""
    plain = unicodedata.normalize("NFKC", _unhtml(text))
    # Each step first asks, at C speed, whether its pattern can match at all (issue 12: most
    # posts have no link, no odd space and no boilerplate, and the full scans were half the time).
    if "  " in plain or (not plain.isprintable() and _ODD_SPACE.search(plain)):
        plain = _SPACES.sub(" ", plain)
    unlinked = _SCHEME_URL.sub(" ", plain) if _may_link(plain) else plain
    body = _BARE_URL.sub(" ", unlinked) if "/" in unlinked else unlinked
    # Prefixes first and again: "JUST IN: Subscribe …" must lose "JUST IN:" before the
    # boilerplate check asks whether anything would be left.
    body = _strip_prefixes(_strip_boilerplate(_strip_prefixes(body)))
    body = _strip_suffixes(body)
    found, starts = _clause_words(body)
    if not found:
        found, starts = _clause_words(unlinked)
    if not found:  # emoji-only posts still equal themselves
        return unlinked.casefold().split(), (0,)
    return found, starts


def _clause_words(text: str) -> tuple[list[str], tuple[int, ...]]:
    found: list[str] = []
    starts: list[int] = []
    for clause in _CLAUSE_BREAK.split(text):
        clause_words = words(clause)
        if clause_words:
            starts.append(len(found))
            found += clause_words
    return found, tuple(starts)


def _unhtml(text: str) -> str:
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", _BLOCK_TAG.sub("\n", text))
    return text


def _keeps_words(rest: str) -> bool:
    return _WORD_CHAR.search(rest) is not None


def _may_link(text: str) -> bool:
    """Whether _SCHEME_URL can match: its two branches need "://" and "www." in some case."""
    return "://" in text or ("." in text and "www." in text.lower())


def _at_end(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`pattern` (anchored with `$`) searched only near the end: bylines, hashtag runs and
    ellipses are short, and scanning a long text from every position would be slow."""
    return pattern.search(text, max(0, len(text) - _TAIL_SPAN))


def _strip_boilerplate(text: str) -> str:
    if not any(found(text) for found in _BOILERPLATE_AT):
        return text
    stripped = _BOILERPLATE.sub(" ", text)
    return stripped if _keeps_words(stripped) else text


def _strip_prefixes(text: str) -> str:
    text = text.strip()
    for _ in range(_MAX_STRIPS):
        rest = _LEAD_JUNK.sub("", text)
        end = _prefix_end(rest)
        if end and _keeps_words(rest[end:]):
            rest = rest[end:].strip()
        if rest == text or not _keeps_words(rest):
            return text
        text = rest
    return text


def _prefix_end(text: str) -> int:
    for pattern in _RELAY_PREFIXES:
        found = pattern.match(text)
        if found and found.end():
            return found.end()
    header = _CAPS_HEADER.match(text)
    return header.end() if header and _LOWER.search(text, header.end()) else 0


def _strip_suffixes(text: str) -> str:
    for _ in range(_MAX_STRIPS):
        junk = _TAIL_JUNK_REVERSED.match(text[: -_TAIL_SPAN - 1 : -1])  # always matches
        rest = text[: len(text) - junk.end()] if junk and junk.end() else text
        if rest.endswith("..."):
            # Truncated: the word before the dots may be cut ("Infrastr…"), so it goes too.
            parts = rest.rstrip(".").rsplit(None, 1)
            head = parts[0] if len(parts) == 2 else ""
            if _keeps_words(head):
                rest = head
        else:
            rest = rest.rstrip(".")
            tail = rest[-_TAIL_SPAN:]
            for needs, pattern in _RELAY_SUFFIXES:
                found = _at_end(pattern, rest) if any(map(tail.__contains__, needs)) else None
                if found and _keeps_words(rest[: found.start()]):
                    rest = rest[: found.start()]
                    break
            else:
                rest = _strip_attribution(rest)
        rest = rest.rstrip()
        if rest == text or not _keeps_words(rest):
            return text
        text = rest
    return text


def _strip_attribution(text: str) -> str:
    start = max(0, len(text) - _TAIL_SPAN)
    found = _DASH_TAIL.search(text, start) if _SPACED_DASH.search(text, start) else None
    if found is None:
        return text
    tail = found.group(1)
    if len(tail.split()) > _ATTRIBUTION_MAX_WORDS or re.search(r"\w\w[.]\s", tail + " "):
        return text  # a sentence, not a byline ("J." initials are fine)
    head_words, tail_words = len(text[: found.start()].split()), len(tail.split())
    if head_words >= _ATTRIBUTION_LONG_HEAD or (
        head_words >= _ATTRIBUTION_MIN_HEAD and tail_words >= _ATTRIBUTION_LONG_TAIL
    ):
        return text[: found.start()].rstrip()
    return text


# ---- links -------------------------------------------------------------------------------

_SHORTENERS = frozenset(
    "t.co bit.ly ow.ly buff.ly tinyurl.com goo.gl dlvr.it trib.al is.gd lnkd.in fb.me "
    "tiny.cc shorturl.at rb.gy cutt.ly t.ly s.id".split()
)


# A canonical link's host: a name or a bracketed IPv6 literal, then perhaps a numeric port.
_SITE = re.compile(r"(?:\[[0-9a-f:.]+\]|[^\s\x00-\x1f\x7f/:?#\[\]@]+)(?::\d{1,5})?", re.IGNORECASE)


def article_urls(text: str, post_url: str | None) -> tuple[str, ...]:
    """Canonical links a post points at: its own URL and full links in its text, sorted.

    Shortener links and truncated display links are left out (they cannot be compared), and so
    are links to a site's front page, which unrelated posts share ("Read more at example.com").
    """
    found = [post_url] if post_url else []
    plain = _unhtml(text)
    if _may_link(plain):
        found += [m.rstrip(_URL_TAIL_PUNCT) for m in _SCHEME_URL.findall(plain)]
    urls: set[str] = set()
    for link in found:
        if link.endswith(("...", "…")):
            continue
        canonical = canonical_url(link)
        host, _, rest = canonical.partition("/")
        # What canonical_url could not read comes back raw ("x:y /z", "http://[::1"): no site.
        if rest and host not in _SHORTENERS and _SITE.fullmatch(host):
            urls.add(canonical)
    return tuple(sorted(urls))
