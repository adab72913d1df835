# The synthetic posts are Cyrillic and typographic on purpose (curly quotes, dashes, ellipses).
# ruff: noqa: RUF001
"""Stories: relay detection quality and assignment throughput, beside exact-hash dedup.

Labelled set (seeded): news-like posts built from sentence templates (English, Russian,
Ukrainian) about the same few subjects, so unrelated posts share topic words; a third carry an
outlet footer ("Read more at …", "Follow us on Telegram", "Subscribe to our channel", and some
footers the normalizer does not know). 15 % of posts are planted relays of an earlier post,
each using one to three of the transformations relays really apply (prefix, byline, links,
truncation, whitespace, quotes, case, emoji, HTML, tracking parameters, a quoted excerpt, a
mid-text quote, the long version arriving after the short one). Hard negatives: "twins" (the
same sentence templates with other names and numbers, like two daily air-raid reports), posts
sharing one sentence with another, and short posts contained in longer ones.

Recall: planted relays that joined their origin's story. Precision: joins that went to the right
story. Baseline: exact hash of the NFKC-casefolded, whitespace-collapsed text.

Run: python -m bench.bench_stories   (or python bench/bench_stories.py)
"""

from __future__ import annotations

import html
import random
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bot` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.model import Post
from bot.stories import DEFAULT_THRESHOLD, fingerprint
from bot.stories_index import MemoryStoryIndex
from bot.text import words

SEED = 20260318
LABELLED = int(sys.argv[1]) if __name__ == "__main__" and len(sys.argv) > 1 else 20_000
COPY_SHARE = 0.15
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7)
T0 = datetime(2026, 3, 18, tzinfo=UTC)

_W = {
    "actor": [
        "President Trump", "President Putin", "President Zelensky", "The Kremlin", "The White House",
        "NATO Secretary General Mark Rutte", "Ukraine's foreign ministry", "The Pentagon",
        "Prime Minister Starmer", "Chancellor Merz", "President Macron", "Russia's defence ministry",
        "Ukraine's air force", "The State Department", "Secretary of State Rubio", "Envoy Witkoff",
        "Kremlin spokesman Peskov", "Foreign Minister Sybiha", "Foreign Minister Lavrov",
        "The European Commission", "The UN Secretary-General", "The governor of Kharkiv region",
    ],
    "city": [
        "Kyiv", "Kharkiv", "Odesa", "Dnipro", "Zaporizhzhia", "Sumy", "Lviv", "Kherson", "Poltava",
        "Mykolaiv", "Chernihiv", "Kryvyi Rih", "Belgorod", "Kursk", "Bryansk", "Vinnytsia",
    ],
    "venue": ["Riyadh", "Istanbul", "Geneva", "Jeddah", "Vienna", "Helsinki", "Doha", "Brussels"],
    "topic": [
        "an energy and infrastructure ceasefire", "a maritime ceasefire in the Black Sea",
        "prisoner exchanges", "sanctions relief", "security guarantees", "the Zaporizhzhia nuclear plant",
        "a full ceasefire", "air defence deliveries", "energy & water supplies", "reconstruction funding", "grain exports",
    ],
    "object": [
        "a power substation", "a residential building", "grain storage facilities", "a hospital",
        "the railway station", "gas production sites", "a school", "port infrastructure",
    ],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "adj": ["constructive", "productive", "difficult", "unacceptable", "a first step", "historic"],
}
_EN = [
    "{actor} said on {day} that talks on {topic} would continue in {venue} next week.",
    "{actor} and {actor2} discussed {topic} during a {n}-minute phone call.",
    "Russian forces launched {n} drones and {m} missiles at {city} overnight, hitting {object}.",
    "Air defence units shot down {m} of {n} drones over {city} region, {actor} said.",
    "At least {m} people were injured in the attack on {city}, local officials said.",
    "{actor} called the proposal {adj} and said any deal must include {topic}.",
    "Delegations will meet in {venue} on {day} to work out the details of {topic}.",
    "{actor} accused Moscow of violating the agreement on {topic} within hours.",
    "The strike on {object} in {city} left {n} thousand homes without electricity.",
    "According to {actor}, the sides agreed on {topic} as a first step toward peace.",
    "{actor} said Ukraine was ready to support {topic} if Russia complied.",
    "Emergency crews in {city} were still clearing rubble on {day} morning.",
    "{actor} will travel to {venue} on {day} for meetings on {topic}.",
    "Officials in {venue} said a joint statement on {topic} could come as early as {day}.",
    "{actor} warned that strikes on {object} would be met with a response.",
    "Repair teams restored power to {n} percent of {city} by {day} evening.",
    "{actor} said {n} prisoners would be exchanged under the deal on {topic}.",
    "Markets rallied on {day} after {actor} signalled progress on {topic}.",
    "The talks in {venue} lasted {n} hours and ended without a joint statement.",
    "{actor} thanked partners for air defence systems that protected {city} overnight.",
]
_RU = [
    "{actor_ru} заявил, что переговоры о {topic_ru} продолжатся в {venue} на следующей неделе.",
    "Ночью российские войска атаковали {city} {n} беспилотниками, повреждена {object_ru}.",
    "По данным {actor_ru}, сбито {m} из {n} дронов над {city}.",
    "В {city} пострадали не менее {m} человек, сообщили местные власти.",
    "{actor_ru} назвал предложение конструктивным и потребовал включить {topic_ru} в сделку.",
    "Делегации встретятся в {venue}, чтобы обсудить {topic_ru}.",
]
_UK = [
    "{actor_uk} заявив, що Україна готова підтримати {topic_uk}, якщо Росія дотримуватиметься.",
    "Вночі ворог атакував {city} {n} дронами, пошкоджено {object_uk}.",
    "Сили ППО збили {m} із {n} ворожих дронів над {city}.",
    "Енергетики відновили живлення для {n} тисяч родин у {city}.",
    "{actor_uk} провів розмову з партнерами щодо {topic_uk}.",
    "Рятувальники в {city} продовжують розбирати завали після удару.",
]
_W |= {
    "actor_ru": ["Кремль", "Песков", "Минобороны России", "Лавров", "Белый дом", "Зеленский"],
    "topic_ru": ["энергетическом перемирии", "обмене пленными", "морском перемирии", "санкциях"],
    "object_ru": ["подстанция", "жилой дом", "больница", "школа", "котельная"],
    "actor_uk": ["Зеленський", "Сибіга", "Міністерство оборони", "Повітряні сили", "Офіс президента"],
    "topic_uk": ["енергетичного перемир'я", "обміну полоненими", "гарантій безпеки", "санкцій"],
    "object_uk": ["підстанцію", "житловий будинок", "лікарню", "школу", "котельню"],
}
_FOOTERS = [
    "Read more at kyivdaily.example", "More at https://www.frontwire.example/", "Follow us on Telegram: t.me/kyivdaily",
    "Subscribe to our channel 👉 t.me/frontnews", "Читайте также на нашем сайте.",
    "Підписуйтесь на наш канал!", "Stay with Front Wire, your daily source of verified news.",
    "Support independent journalism: donate today.",
]
_PREFIXES = ["JUST IN: ", "BREAKING: ", "🚨 ", "RT @warmonitor: ", "⚡️ СРОЧНО: ", "BREAKING 🚨 ", "NEW: "]
_BYLINES = [
    " — Donald J. Trump Posts From His Truth Social", " (via @KyivIndependent)", " h/t @Faytuks",
    " — @nexta_tv", " #Ukraine #Ceasefire",
]
_CITIES = _W["city"]
_CITIES_RU = ["Киеве", "Харькове", "Одессе", "Днепре", "Сумах", "Белгороде", "Курске", "Херсоне"]
_CITIES_UK = ["Києві", "Харкові", "Одесі", "Дніпрі", "Сумах", "Львові", "Херсоні", "Полтаві"]
_SHORT = ["Air raid alert in", "Explosions heard in", "Power outages in", "Drone attack on",
          "Тревога в", "Вибухи в", "Missile threat for", "Blackout in"]
_LEADINS = ["Press secretary:", "Readout:", "Statement from the office:", "Important:", "Quote:"]


def _sentence(rng: random.Random, template: str, cities: list[str]) -> str:
    fills = {k: rng.choice(v) for k, v in _W.items()}
    fills["city"] = rng.choice(cities)
    fills["actor2"] = rng.choice(_W["actor"])
    fills["n"], fills["m"] = str(rng.randint(5, 400)), str(rng.randint(2, 60))
    return template.format(**fills)


def _original(rng: random.Random) -> tuple[str, list[str]]:
    """A post: its text and its sentence templates (for twins)."""
    pool, cities = rng.choices([(_EN, _CITIES), (_RU, _CITIES_RU), (_UK, _CITIES_UK)], [70, 15, 15])[0]
    if rng.random() < 0.05:  # short posts: a headline of a few words
        return f"{rng.choice(_SHORT)} {rng.choice(cities)}{rng.choice(['!', '.', ''])}", []
    templates = rng.sample(pool, rng.choice([1, 2, 2, 3, 3, 4]))
    return " ".join(_sentence(rng, t, cities) for t in templates), templates


@dataclass
class Labelled:
    post: Post
    at: datetime
    label: int  # index of the origin post
    kind: str  # "original", a transformation name, or a hard-negative kind

    @property
    def planted(self) -> bool:
        return self.label != int(self.post.post_id)


def _relay(rng: random.Random, text: str, kind: str, url: str | None) -> tuple[str, str | None]:
    if kind == "prefix":
        text = rng.choice(_PREFIXES) + text
    elif kind == "byline":
        text += rng.choice(_BYLINES)
    elif kind == "shortlink" or (kind == "tracking" and url is None):
        text += f" https://{rng.choice(['t.co', 'bit.ly'])}/{rng.getrandbits(40):x}"
    elif kind == "truncate" and len(text) > 100:  # a character limit, as X mirrors cut
        cut = int(len(text) * rng.uniform(0.6, 0.9))
        text = text[:cut] + rng.choice(["…", "...", " …"])
    elif kind == "whitespace":
        text = text.replace(" ", rng.choice(["  ", " \n", "\t"]), rng.randint(1, 6))
    elif kind == "quotes":
        text = "“" + text.replace("'", "’") + "”"
    elif kind == "case":
        text = rng.choice([str.upper, str.lower])(text)
    elif kind == "emoji":
        text = f"{rng.choice('🔥🇺🇦⚡‼💥')} " + text.replace(". ", f". {rng.choice('👉🔴❗')} ", 1)
    elif kind == "html":  # escaped once more than needed, a line break left as a tag
        text = html.escape(text).replace(". ", ".<br>", 1).replace("&#x27;", "&#8217;")
    elif kind == "tracking" and url:  # the origin's article link, as a share button writes it
        url = f"{url.replace('https://www.', 'http://')}?utm_source=x&fbclid=Iw{rng.getrandbits(30)}"
        text += " " + url
    return text, url


# In the order relays apply them: edits to the body, the cut, then what the relay adds.
_RELAYS = ("emoji", "html", "quotes", "case", "whitespace", "truncate", "tracking", "shortlink",
           "byline", "prefix")


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.items: list[Labelled] = []
        self.texts: set[str] = set()
        self.templates: list[list[str]] = []

    def add(self, text: str, kind: str, label: int | None = None, url: str | None = None) -> None:
        n = len(self.items)
        at = T0 + timedelta(seconds=n * 9)
        source = "relay" if label is not None else "wire"
        post = Post(source, str(n), text, url)
        self.items.append(Labelled(post, at, n if label is None else label, kind))

    def novel(self, text: str) -> bool:
        key = " ".join(words(text))
        if key in self.texts:
            return False
        self.texts.add(key)
        return True

    def recent(self, min_sentences: int = 1) -> list[Labelled]:
        return [i for i in self.items[-400:]
                if i.kind in ("original", "footer") and i.post.text.count(". ") + 1 >= min_sentences]

    def relay(self) -> None:
        rng, src = self.rng, self.rng.choice(self.recent())
        text, url, sentences = src.post.text, src.post.url, src.post.text.split(". ")
        kinds, special = rng.sample(_RELAYS, rng.randint(1, 3)), rng.random()
        if special < 0.1 and len(sentences) >= 2 and len(sentences[0].split()) >= 10:
            text, kinds = f"{rng.choice(_LEADINS)} “{sentences[0]}.”", ["excerpt"]
        elif special < 0.2 and len(sentences) >= 3 and len(sentences[1].split()) >= 10:
            text, kinds = f"{rng.choice(_LEADINS)} “{sentences[1]}.”", ["midquote"]
        elif special < 0.3 and len(sentences) == 1 and len(text.split()) >= 8:
            text, kinds = text + " " + _original(rng)[0], ["expanded"]
        for kind in sorted(kinds, key=lambda k: _RELAYS.index(k) if k in _RELAYS else -1):
            text, url = _relay(rng, text, kind, url)
        self.add(text, "+".join(sorted(kinds)), src.label, url)

    def negative(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.4 and self.templates:  # same templates, other names and numbers
            twin = rng.choice(self.templates)
            cities = _CITIES_RU if twin[0] in _RU else _CITIES_UK if twin[0] in _UK else _CITIES
            text, kind = " ".join(_sentence(rng, t, cities) for t in twin), "twin"
        elif roll < 0.7 and self.recent(3):  # quotes one sentence of a longer post
            other = rng.choice(self.recent(3)).post.text.split(". ")[1]
            own = " ".join(_sentence(rng, t, _CITIES) for t in rng.sample(_EN, 2))
            text, kind = f"{own} {other}.", "shares-sentence"
        else:  # a few words that also occur in a longer post
            tokens = rng.choice(self.recent()).post.text.split()
            at = rng.randrange(max(1, len(tokens) - 5))
            text, kind = " ".join(tokens[at : at + rng.randint(3, 6)]).capitalize() + "!", "short-inside"
        if self.novel(text):
            self.add(text, kind)

    def original(self) -> None:
        text, used = _original(self.rng)
        kind = "original"
        if self.rng.random() < 0.33:
            text, kind = f"{text} {self.rng.choice(_FOOTERS)}", "footer"
        url = f"https://www.frontwire.example/news/{len(self.items)}/" if self.rng.random() < 0.2 else None
        if self.novel(text):
            if len(used) >= 2:
                self.templates.append(used)
            self.add(text, kind, url=url)


def build_labelled(rng: random.Random, count: int) -> list[Labelled]:
    builder = _Builder(rng)
    while len(builder.items) < count:
        roll = rng.random()
        if roll < COPY_SHARE and builder.recent():
            builder.relay()
        elif roll < COPY_SHARE + 0.1:
            builder.negative()
        else:
            builder.original()
    return builder.items


_NEGATIVE_KINDS = ("original", "footer", "twin", "shares-sentence", "short-inside")


def _simple_key(post: Post) -> str:
    return " ".join(unicodedata.normalize("NFKC", post.text).casefold().split())


def evaluate(items: list[Labelled], assign: Callable[[Post, datetime], int]) -> dict[str, object]:
    story_label: dict[int, int] = {}
    joins = right = planted = found = 0
    by_kind: Counter[str] = Counter()
    kind_total: Counter[str] = Counter()
    for item in items:
        story = assign(item.post, item.at)
        is_copy = item.planted
        planted += is_copy
        kind_total[item.kind] += 1
        if story in story_label:
            joins += 1
            ok = story_label[story] == item.label
            right += ok
            found += ok and is_copy
            by_kind[item.kind] += ok and is_copy
        else:
            story_label[story] = item.label
    return {"precision": right / joins if joins else 1.0, "recall": found / planted,
            "joins": joins, "wrong": joins - right, "by_kind": by_kind, "kind_total": kind_total}


def _exact_assign() -> Callable[[Post, datetime], int]:
    seen: dict[str, int] = {}
    return lambda post, _at: seen.setdefault(_simple_key(post), len(seen) + 1)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _throughput(results: list[dict[str, object]], rng: random.Random, indexed: int) -> None:
    items = build_labelled(rng, indexed + 5_000)
    index = MemoryStoryIndex(window=timedelta(days=30))
    for item in items[:indexed]:
        index.assign(item.post, item.at)
    probe = items[indexed:]
    started = time.perf_counter()
    for item in probe:
        index.assign(item.post, item.at)
    ours = _rate(len(probe), time.perf_counter() - started)
    exact = _exact_assign()
    for item in items[:indexed]:
        exact(item.post, item.at)
    started = time.perf_counter()
    for item in probe:
        exact(item.post, item.at)
    base = _rate(len(probe), time.perf_counter() - started)
    print(f"{indexed:,} indexed: {ours:,.0f} posts/s (exact hash {base:,.0f}); {len(index):,} rows")
    results.append({"name": f"stories: assign with {indexed // 1000}k indexed (vs exact hash)",
                    "value": ours, "unit": "posts/s", "baseline": base})


def run(results: list[dict[str, object]]) -> None:
    rng = random.Random(SEED)
    items = build_labelled(rng, LABELLED)
    planted = sum(i.planted for i in items)
    print(f"{len(items):,} labelled posts, {planted:,} planted relays ({planted / len(items):.0%})")
    base = evaluate(items, _exact_assign())
    for threshold in SWEEP:
        index = MemoryStoryIndex(threshold=threshold)
        started = time.perf_counter()
        got = evaluate(items, index.assign)
        took = time.perf_counter() - started
        print(f"threshold {threshold}: precision {got['precision']:.4f} recall {got['recall']:.4f} "
              f"({got['wrong']} wrong of {got['joins']} joins, {len(items) / took:,.0f} posts/s)")
        if threshold == DEFAULT_THRESHOLD:
            ours = got
    print(f"exact hash: precision {base['precision']:.4f} recall {base['recall']:.4f}")
    totals, hits = ours["kind_total"], ours["by_kind"]
    assert isinstance(totals, Counter) and isinstance(hits, Counter)
    for kind in sorted(totals):
        if kind not in _NEGATIVE_KINDS:
            print(f"  recall {kind:<28} {hits[kind] / totals[kind]:.3f} of {totals[kind]}")
    for name in ("precision", "recall"):
        results.append({"name": f"stories: {name} on planted relays (vs exact hash)",
                        "value": ours[name], "unit": "ratio", "baseline": base[name]})
    for indexed in (10_000, 100_000):
        _throughput(results, rng, indexed)


if __name__ == "__main__":
    rows: list[dict[str, object]] = []
    run(rows)
    for row in rows:
        print(row)
