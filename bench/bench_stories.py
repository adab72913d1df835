"""Stories: relay detection quality and assignment throughput, beside exact-hash dedup.

Labelled set (seeded): news-like posts from a small grammar in English, Russian and Ukrainian
about the same few subjects, so unrelated posts share topic words and stock phrases ("the head
of the Kharkiv military administration said"); a third carry an outlet footer ("Read more at …",
"Follow us on Telegram", "Subscribe to our channel", and two the normalizer does not know). About
15 % are planted relays of a post from the hour before, each applying one to three of the
transformations relays apply (prefix, byline, short link, truncation, whitespace, quotes, case,
emoji, HTML remnants, the article link with tracking parameters), or quoting it: its first
sentence after a label, a middle sentence after a label, or the long version arriving after the
short one. Hard negatives (10 %): "twins" (the same sentence shapes with other names and
numbers, as two daily reports are), posts repeating one sentence of another, "one-place" copies
with a city changed (the same alert for another city), and a few words cut from another post.
Unrelated posts never state the same fact in the same words (that would be one story).

Recall: planted relays that joined their origin's story. Precision: joins whose story already
held a post of the same true story. Baseline: an exact hash of the NFKC-casefolded,
whitespace-collapsed text (also shown: an exact hash of relay_normalize).

Run: python -m bench.bench_stories   (or python bench/bench_stories.py)
"""

from __future__ import annotations

import html
import random
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bot` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bot.classify.text import words
from bot.model import Post, SourceState
from bot.store.database import Store
from bot.store.stories import IndexEntry, write_index
from bot.store.tables import POST
from bot.stories.index import MemoryStoryIndex
from bot.stories.keys import StoryFingerprint, fingerprint
from bot.stories.match import choose_stories
from bot.stories.text import relay_normalize

SEED = 20260318
LABELLED = 20_000
COPY_SHARE = 0.15
NEGATIVE_SHARE = 0.10
SWEEP = (0.5, 0.6, 0.7, 0.8)
SWEEP_POSTS = 5_000
STORED = (10_000, 100_000)
PROBES = 2_000  # posts assigned, and timed, after the index is filled
POLL_POSTS = 20  # posts per save_poll in the store measurement: a busy feed's poll
T0 = datetime(2026, 3, 18, tzinfo=UTC)

# Structural slots (clause shapes, verbs) are drawn from a sentence's skeleton seed and fill
# slots (names, places, days, numbers) from the post's facts, so a twin keeps the skeleton and
# changes the facts. Options are separated by "|".
_G = {
    "opener": (
        "|||On {day}, |Earlier today, |In a statement on {day}, |Late on {day}, |"
        "Speaking to reporters, |In an interview with {outlet}, |"
        "After {n} hours of talks, |In a post on X, |Overnight, "
    ),
    "closer": (
        "||, {outlet} reported|, officials said|, according to {outlet}| on March {d}|"
        " at {hh}:{mm} local time|, {n} km from the front line|"
        " for the {nth} time this month| after {n} days of {process}|"
        ", a source told {outlet}|, the ministry said in a statement| on {day}|"
        " despite {obstacle}|, in a sharp shift from last month|"
        " ahead of the {venue} meeting"
    ),
    "clause": (
        "{actor} {say} that {claim}|{actor} {act} {policy}|{actor} {say} {claim}|"
        "{forces} {attack} {target} in {city} with {n} {weapons}|"
        "{n} people were {hurt} after {weapon} hit {target} in {city}|"
        "{actor} and {actor2} {meet} in {venue} to discuss {topic}|"
        "the head of the {city} military administration said {n} {units} had {outcome}|"
        "{actor} {react} the {adj} proposal on {topic}|"
        "{units2} in {city} {outcome2} after the {adj2} strike on {target}|"
        "{actor} {say} {n} {units3} would be {delivered} by {month}|"
        "{actor} urged {actor2} to {demand}|"
        "air defence shot down {n} of {m} {weapons} launched at {city}"
    ),
    "say": (
        "said|told reporters|insisted|claimed|warned|announced|confirmed|repeated|suggested|wrote"
    ),
    "act": (
        "announced|rejected|welcomed|criticised|postponed|signed|proposed|called for|"
        "backed|ruled out"
    ),
    "meet": "met|spoke by phone|held talks|are expected to meet|will meet",
    "react": "welcomed|dismissed|criticised|questioned|praised|rejected",
    "attack": "struck|attacked|shelled|hit|targeted",
    "hurt": "injured|killed|evacuated|hospitalised",
    "claim": (
        "a deal on {topic} was close|Moscow was not serious about {topic}|"
        "talks on {topic} would resume in {venue}|Kyiv would not accept {demand2}|"
        "the plan for {topic} needed more work|{topic} remained the main obstacle|"
        "{topic} would be discussed at the {venue} meeting|"
        "the {adj} plan had no support in {venue}|"
        "the strike on {target} in {city} violated the agreement on {topic}|"
        "new sanctions on {sector} were being prepared"
    ),
    "policy": (
        "new sanctions on {sector}|a {adj} plan for {topic}|the deployment of {weapons}|"
        "talks with {actor2}|a {n}-day pause on {topic}|"
        "an investigation into the strike on {target}"
    ),
    "units": "homes|families|people|buildings|schools|substations",
    "units2": "thousands of homes|several districts|two hospitals|the metro|the water supply",
    "units3": "air defence systems|armoured vehicles|artillery shells|generators|F-16 jets",
    "outcome": (
        "lost power|been evacuated|been damaged|had their heating restored|been reconnected"
    ),
    "outcome2": "were left without power|were evacuated|reopened|were damaged|lost water",
    "delivered": "delivered|sent|financed|produced|handed over",
    "demand": (
        "{demand2}|stop strikes on {target}|return to talks on {topic}|"
        "respect the agreement on {topic}"
    ),
    "demand2": (
        "any freeze of the front line|territorial concessions|a partial ceasefire|"
        "foreign troops in Ukraine|limits on its army"
    ),
    "adj": "new|revised|US-backed|European|30-day|three-stage|Turkish",
    "adj2": "overnight|massive|morning|combined|repeated",
    "forces": "Russian forces|Russian troops|Ukrainian drones|Russian bombers|the army",
    "process": "negotiations|shelling|consultations|blackouts|preparations",
    "nth": "second|third|fourth|fifth|sixth",
    "person": "{title} {surname}",
    "title": (
        "Senator|Governor|Minister|Ambassador|General|Mayor|Deputy Minister|Spokesperson|"
        "Envoy|Adviser|Commissioner|Congressman"
    ),
    "surname": (
        "Kovalenko|Smith|Ivanova|Miller|Bondarenko|Schmidt|Dubois|Rossi|Nowak|Tkachenko|"
        "Johnson|Petrov|Novak|Garcia|Lindqvist|Sato|Yilmaz|Horvat|Melnyk|Kravets|O'Brien|"
        "Fischer|Moreau"
    ),
    "actor": (
        "{person}|{person}|{person}|{person}|{person}|{person}|President Trump|"
        "President Putin|President Zelensky|the Kremlin|the White House|"
        "NATO Secretary General Mark Rutte|Ukraine's foreign ministry|the Pentagon|"
        "Prime Minister Starmer|Chancellor Merz|President Macron|Russia's defence ministry|"
        "Ukraine's air force|the State Department|Secretary of State Rubio|Envoy Witkoff|"
        "Kremlin spokesman Peskov|Foreign Minister Sybiha|Foreign Minister Lavrov|"
        "the European Commission|the UN Secretary-General|Prime Minister Meloni|"
        "President Erdogan|Crown Prince Mohammed bin Salman|Prime Minister Tusk|"
        "General Syrskyi|Defence Minister Belousov|Senator Graham|Vice President Vance"
    ),
    "city": (
        "Kyiv|Kharkiv|Odesa|Dnipro|Zaporizhzhia|Sumy|Lviv|Kherson|Poltava|Mykolaiv|"
        "Chernihiv|Kryvyi Rih|Belgorod|Kursk|Bryansk|Vinnytsia|Izmail|Pavlohrad|Kramatorsk|"
        "Sloviansk|Uman|Rivne"
    ),
    "venue": (
        "Riyadh|Istanbul|Geneva|Jeddah|Vienna|Helsinki|Doha|Brussels|Washington|Paris|London|Ankara"
    ),
    "topic": (
        "an energy & infrastructure ceasefire|a maritime ceasefire in the Black Sea|"
        "prisoner exchanges|sanctions relief|security guarantees|"
        "the Zaporizhzhia nuclear plant|a full ceasefire|air defence deliveries|"
        "reconstruction funding|grain exports|frozen Russian assets|"
        "the return of deported children|peacekeepers|elections in Ukraine"
    ),
    "target": (
        "a power substation|a residential building|grain storage facilities|a hospital|"
        "the railway station|gas production sites|a school|port infrastructure|"
        "a thermal power plant|a shopping centre"
    ),
    "weapon": "a ballistic missile|a glide bomb|a Shahed drone|a cruise missile",
    "weapons": "drones|missiles|glide bombs|Shahed drones|ballistic missiles",
    "sector": "Russian oil|LNG exports|shadow fleet tankers|Russian banks|metals",
    "outlet": "Reuters|AP|the Financial Times|Axios|Kyiv Independent|Bloomberg",
    "obstacle": "objections from Hungary|new strikes|the talks in {venue}|bad weather",
    "day": "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday",
    "month": "April|May|June|July|the end of the year|the summer",
    "ru_when": "||{d} марта |Утром |Вечером {d} марта |В {hh}:{mm} ",
    "ru_tail": (
        "||, сообщает {ru_outlet}|, передает {ru_outlet}| ({d} марта)|"
        ", говорится в заявлении|, уточнили в ведомстве"
    ),
    "ru_clause": (
        "{ru_actor} {ru_say}, что переговоры о {ru_topic} продолжатся в {venue} {d} марта|"
        "{ru_forces} атаковали {ru_city} {n} беспилотниками, {ru_hit}|"
        "по данным {ru_src}, сбито {n} из {m} беспилотников над {ru_region}|"
        "в {ru_city2} {ru_hurt} не менее {n} человек, еще {m} {ru_hurt2}|"
        "{ru_actor} {ru_say}, что {ru_topic2} {ru_state} до {d} {ru_month}|"
        "{ru_actor} и {ru_actor2} обсудили {ru_topic3} в {venue}"
    ),
    "ru_say": "заявил|сообщил|подчеркнул|отметил|напомнил|допустил|пообещал",
    "ru_hit": (
        "повреждена подстанция|горит жилой дом|повреждена больница|обесточены районы|"
        "разрушен склад|поврежден газопровод"
    ),
    "ru_hurt": "пострадали|погибли|эвакуированы|госпитализированы",
    "ru_hurt2": "ранены|числятся пропавшими|получили помощь",
    "ru_state": (
        "обсуждается|пока невозможно|близко к согласованию|требует доработки|"
        "будет рассмотрено|отложено"
    ),
    "ru_forces": "российские войска|ВСУ|беспилотники|ракетные войска",
    "ru_actor": (
        "Кремль|Песков|Лавров|Белый дом|Зеленский|Ушаков|Дмитриев|{ru_title} {ru_surname}"
    ),
    "ru_actor2": "{ru_title} {ru_surname}",
    "ru_title": "сенатор|губернатор|министр|посол|генерал|мэр|депутат",
    "ru_surname": (
        "Иванов|Смирнов|Кузнецов|Попова|Соколов|Лебедев|Новиков|Морозов|Волкова|Зайцев|"
        "Павлов|Семенов|Голубев|Виноградов"
    ),
    "ru_outlet": "ТАСС|РИА Новости|Интерфакс|Медуза|РБК",
    "ru_month": "апреля|мая|июня|конца года|лета",
    "ru_topic": (
        "энергетическом перемирии|обмене пленными|морском перемирии|санкциях|"
        "гарантиях безопасности|зерновом коридоре"
    ),
    "ru_topic2": (
        "перемирие|обмен пленными|снятие санкций|встреча президентов|прекращение огня|"
        "визит делегации"
    ),
    "ru_topic3": "перемирие|обмен пленными|поставки ПВО|санкции|восстановление",
    "ru_src": "Минобороны|местных властей|губернатора|Воздушных сил|штаба",
    "ru_city": (
        "Киев|Харьков|Одессу|Днепр|Сумы|Белгород|Курск|Херсон|Брянск|Запорожье|Николаев|Полтаву"
    ),
    "ru_city2": (
        "Киеве|Харькове|Одессе|Днепре|Сумах|Белгороде|Курске|Брянске|Запорожье|Николаеве|Полтаве"
    ),
    "ru_region": (
        "Брянской областью|Курской областью|Черным морем|Белгородской областью|Крымом|"
        "Ростовской областью"
    ),
    "uk_when": "||{d} березня |Зранку |Увечері {d} березня |О {hh}:{mm} ",
    "uk_tail": (
        "||, повідомляє {uk_outlet}|, передає {uk_outlet}| ({d} березня)|, йдеться у заяві"
    ),
    "uk_clause": (
        "{uk_actor} {uk_say}, що Україна готова підтримати {uk_topic} до {d} {uk_month}|"
        "ворог атакував {uk_city} {n} дронами, {uk_hit}|"
        "сили ППО збили {n} із {m} ворожих дронів над {uk_region}|"
        "енергетики відновили живлення для {n} тисяч родин у {uk_city2}|"
        "{uk_actor} провів розмову з {uk_partner} щодо {uk_topic} {d} березня|"
        "{uk_actor} та {uk_actor2} обговорили {uk_topic2} у {venue}"
    ),
    "uk_say": "заявив|повідомив|наголосив|зазначив|пообіцяв|нагадав",
    "uk_hit": (
        "пошкоджено підстанцію|пошкоджено житловий будинок|є знеструмлення|"
        "зруйновано склад|пошкоджено лікарню"
    ),
    "uk_actor": "Зеленський|Сибіга|Умєров|Єрмак|Свириденко|Шмигаль|{uk_title} {uk_surname}",
    "uk_actor2": "{uk_title} {uk_surname}",
    "uk_title": "посол|генерал|міністр|мер|депутат|губернатор",
    "uk_surname": (
        "Шевченко|Коваленко|Бондаренко|Ткаченко|Кравченко|Олійник|Мельник|Поліщук|Лисенко|"
        "Гончаренко|Савченко|Руденко"
    ),
    "uk_outlet": "Укрінформ|Суспільне|УП|РБК-Україна|ЛІГА",
    "uk_month": "квітня|травня|червня|кінця року|літа",
    "uk_topic": (
        "енергетичного перемир'я|обміну полоненими|гарантій безпеки|санкцій|"
        "морського перемир'я|відновлення енергетики"
    ),
    "uk_topic2": "перемир'я|обмін полоненими|постачання ППО|санкції|відбудову",
    "uk_partner": (
        "партнерами|президентом Франції|прем'єром Британії|канцлером Німеччини|"
        "генсеком НАТО|президентом Польщі"
    ),
    "uk_city": "Київ|Харків|Одесу|Дніпро|Суми|Львів|Херсон|Полтаву|Запоріжжя|Миколаїв|Чернігів",
    "uk_city2": "Києві|Харкові|Одесі|Дніпрі|Сумах|Львові|Херсоні|Запоріжжі|Миколаєві|Чернігові",
    "uk_region": (
        "Київщиною|Харківщиною|Одещиною|Сумщиною|Дніпропетровщиною|Черкащиною|Полтавщиною"
    ),
}
_FILL_SLOTS = frozenset(
    "person title surname process nth actor actor2 city venue topic target weapon sector outlet "
    "day month ru_actor ru_actor2 ru_title ru_surname ru_outlet ru_month ru_city ru_city2 "
    "ru_region ru_topic ru_topic2 ru_topic3 uk_actor uk_actor2 uk_title uk_surname uk_outlet "
    "uk_month uk_city uk_city2 uk_region uk_topic uk_topic2 uk_partner".split()
)
_NUMBERS = {"n": (2, 900), "m": (2, 900), "d": (1, 31), "hh": (0, 23), "mm": (0, 59)}
_PARTS = {
    "en": ("opener", "clause", "closer"),
    "ru": ("ru_when", "ru_clause", "ru_tail"),
    "uk": ("uk_when", "uk_clause", "uk_tail"),
}
_SLOT = re.compile(r"\{(\w+)\}")
_SHORT = "Air raid alert in|Explosions heard in|Power outages in|Drone attack on|Тревога в|Вибухи в"
_FOOTERS = (
    "Read more at kyivdaily.example|More at https://www.frontwire.example/|"
    "Follow us on Telegram: t.me/kyivdaily|Subscribe to our channel 👉 t.me/frontnews|"
    "Читайте также на нашем сайте.|Підписуйтесь на наш канал!|"
    "Stay with Front Wire, your daily source of verified news.|"
    "Support independent journalism: donate today."
).split("|")
_PREFIXES = "JUST IN: |BREAKING: |🚨 |RT @warmonitor: |⚡️ СРОЧНО: |BREAKING 🚨 |NEW: ".split("|")
_BYLINES = (
    " — Donald J. Trump Posts From His Truth Social| (via @KyivIndependent)| h/t @Faytuks|"
    " — @nexta_tv| #Ukraine #Ceasefire"
).split("|")
_LEADINS = "Press secretary:|Readout:|Statement from the office:|Important:|Quote:".split("|")
# In the order relays apply them: edits to the body, the cut, then what the relay adds.
_RELAYS = "emoji html quotes case whitespace truncate tracking shortlink byline prefix".split()


def _expand(template: str, skeleton: random.Random, facts: random.Random) -> str:
    def slot(found: re.Match[str]) -> str:
        name = found.group(1)
        if name in _NUMBERS:
            value = facts.randint(*_NUMBERS[name])
            return f"{value:02d}" if name in ("hh", "mm") else str(value)
        rng = facts if name in _FILL_SLOTS else skeleton
        options = _G["actor" if name == "actor2" else name].split("|")
        return _expand(rng.choice(options), skeleton, facts)

    return _SLOT.sub(slot, template)


def _compose(seeds: list[int], facts: random.Random) -> tuple[str, list[str]]:
    """Sentences of the given skeletons with `facts`, and their cores (the clause alone)."""
    sentences, cores = [], []
    for seed in seeds:
        skeleton = random.Random(seed)
        lang = skeleton.choices(["en", "ru", "uk"], [70, 15, 15])[0]
        opener, clause, closer = (_expand(f"{{{p}}}", skeleton, facts) for p in _PARTS[lang])
        text = f"{opener}{clause}{closer}."
        sentences.append(text[0].upper() + text[1:])
        cores.append(" ".join(words(clause)))
    return " ".join(sentences), cores


def _original(rng: random.Random) -> tuple[str, list[int], list[str]]:
    """A post's text, its sentences' skeleton seeds and their cores."""
    if rng.random() < 0.05:  # a headline of a few words
        city = rng.choice(_G["city"].split("|"))
        text = f"{rng.choice(_SHORT.split('|'))} {city}{rng.choice(['!', '.', ''])}"
        return text, [], [relay_normalize(text)]
    seeds = [rng.getrandbits(32) for _ in range(rng.choice([1, 2, 2, 3, 3, 4]))]
    text, cores = _compose(seeds, rng)
    return text, seeds, cores


def _relay(rng: random.Random, text: str, kind: str, url: str | None) -> tuple[str, str | None]:
    if kind == "prefix":
        text = rng.choice(_PREFIXES) + text
    elif kind == "byline":
        text += rng.choice(_BYLINES)
    elif kind == "shortlink" or (kind == "tracking" and url is None):
        text += f" https://{rng.choice(['t.co', 'bit.ly'])}/{rng.getrandbits(40):x}"
    elif kind == "tracking" and url:  # the origin's article link as a share button writes it
        url = (
            f"{url.replace('https://www.', 'http://')}?utm_source=x&fbclid=Iw{rng.getrandbits(30)}"
        )
        text += " " + url
    elif kind == "truncate" and len(text) > 100:  # a character limit, as X mirrors cut
        text = text[: int(len(text) * rng.uniform(0.6, 0.9))] + rng.choice(["…", "...", " …"])
    elif kind == "whitespace":
        text = text.replace(" ", rng.choice(["  ", " \n", "\t"]), rng.randint(1, 6))
    elif kind == "quotes":
        text = "“" + text.replace("'", "’") + "”"
    elif kind == "case":
        text = rng.choice([str.upper, str.lower])(text)
    elif kind == "emoji":
        text = f"{rng.choice('🔥⚡‼💥')} " + text.replace(". ", f". {rng.choice('👉🔴❗')} ", 1)
    elif kind == "html":  # escaped once too often, a line break left as a tag
        text = html.escape(text).replace(". ", ".<br>", 1).replace("&#x27;", "&#8217;")
    return text, url


@dataclass
class Labelled:
    post: Post
    at: datetime
    label: int  # index of the post that started its true story
    kind: str  # "original", "footer", transformations joined by "+", or a negative's kind

    @property
    def planted(self) -> bool:
        return self.label != int(self.post.post_id)


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.items: list[Labelled] = []
        self.texts: set[str] = set()
        self.cores: set[str] = set()
        self.skeletons: list[list[int]] = []
        self.pool: deque[tuple[Labelled, int]] = deque()  # recent originals, sentence counts

    def add(self, text: str, kind: str, label: int | None = None, url: str | None = None) -> None:
        n = len(self.items)
        post = Post("relay" if label is not None else "wire", str(n), text, url)
        self.items.append(
            Labelled(post, T0 + timedelta(seconds=n * 9), n if label is None else label, kind)
        )
        if kind in ("original", "footer"):
            self.pool.append((self.items[-1], text.count(". ") + 1))

    def novel(self, text: str, cores: list[str]) -> bool:
        """Neither the text nor a sentence core seen before: unrelated posts do not state the
        same fact in the same words (that would be one story)."""
        key = relay_normalize(text)
        if key in self.texts or any(core in self.cores for core in cores):
            return False
        self.texts.add(key)
        self.cores.update(cores)
        return True

    def recent(self, min_sentences: int = 1, *kinds: str) -> list[Labelled]:
        """Originals among the last 400 posts (an hour: posts come every 9 s)."""
        kinds = kinds or ("original", "footer")
        while self.pool and int(self.pool[0][0].post.post_id) < len(self.items) - 400:
            self.pool.popleft()
        return [item for item, n in self.pool if item.kind in kinds and n >= min_sentences]

    def relay(self) -> None:
        rng, src = self.rng, self.rng.choice(self.recent())
        text, url, sentences = src.post.text, src.post.url, src.post.text.split(". ")
        kinds, special = rng.sample(_RELAYS, rng.randint(1, 3)), rng.random()
        if special < 0.1 and len(sentences) >= 2 and len(sentences[0].split()) >= 10:
            text, kinds = f"{rng.choice(_LEADINS)} “{sentences[0]}.”", ["excerpt"]
        elif special < 0.2 and len(sentences) >= 3 and len(sentences[1].split()) >= 10:
            text, kinds = f"{rng.choice(_LEADINS)} “{sentences[1]}.”", ["midquote"]
        elif special < 0.3 and len(sentences) == 1 and len(text.split()) >= 8:
            more, _, cores = _original(rng)
            if not self.novel(more, cores):
                return
            text, kinds = f"{text} {more}", ["expanded"]
        for kind in sorted(kinds, key=lambda k: _RELAYS.index(k) if k in _RELAYS else -1):
            text, url = _relay(rng, text, kind, url)
        self.add(text, "+".join(sorted(kinds)), src.label, url)

    def negative(self) -> None:
        rng, roll = self.rng, self.rng.random()
        cores: list[str] = []
        if roll < 0.4 and self.skeletons:  # same sentence shapes, other names and numbers
            (text, cores), kind = _compose(rng.choice(self.skeletons), rng), "twin"
        elif roll < 0.7 and self.recent(3, "original"):
            # The last sentence of a longer post (relays here quote first and middle ones, so
            # this never doubles as a relay's quote), after two sentences of its own.
            other = rng.choice(self.recent(3, "original")).post.text.split(". ")[-1]
            own, cores = _compose([rng.getrandbits(32) for _ in range(2)], rng)
            text, kind = f"{own} {other}", "shares-sentence"
        elif roll < 0.85:  # the same post about another city
            src = rng.choice(self.recent()).post.text
            places = [c for c in _G["city"].split("|") if c in src]
            if not places:
                return
            text = src.replace(rng.choice(places), rng.choice(_G["city"].split("|")), 1)
            kind = "one-place"
        else:  # a few words that also occur in a longer post
            tokens = rng.choice(self.recent()).post.text.split()
            at = rng.randrange(max(1, len(tokens) - 5))
            text = " ".join(tokens[at : at + rng.randint(3, 6)]).capitalize() + "!"
            kind = "short-inside"
        if self.novel(text, cores):
            self.add(text, kind)

    def original(self) -> None:
        text, seeds, cores = _original(self.rng)
        kind = "original"
        if self.rng.random() < 0.33:
            text, kind = f"{text} {self.rng.choice(_FOOTERS)}", "footer"
        url = None
        if self.rng.random() < 0.2:
            url = f"https://www.frontwire.example/news/{len(self.items)}/"
        if self.novel(text, cores):
            if len(seeds) >= 2:
                self.skeletons.append(seeds)
            self.add(text, kind, url=url)


def build_labelled(rng: random.Random, count: int) -> list[Labelled]:
    builder = _Builder(rng)
    while len(builder.items) < count:
        roll = rng.random()
        if roll < COPY_SHARE and builder.recent():
            builder.relay()
        elif roll < COPY_SHARE + NEGATIVE_SHARE and builder.recent():
            builder.negative()
        else:
            builder.original()
    return builder.items


@dataclass
class Quality:
    precision: float
    recall: float
    joins: int
    wrong: int
    found: Counter[str]  # planted relays found, by transformation
    planted: Counter[str]  # planted relays, by transformation


def evaluate(items: list[Labelled], assign: Callable[[Post, datetime], int]) -> Quality:
    """A join is right when the story joined already holds a post of the same true story, so
    a wrong merge counts once, not again for each later relay that follows it there."""
    labels: dict[int, set[int]] = {}
    joins = right = total = hit = 0
    found: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    for item in items:
        story = assign(item.post, item.at)
        ok = story in labels and item.label in labels[story]
        joins += story in labels
        right += ok
        if item.planted:
            total, hit = total + 1, hit + ok
            for kind in item.kind.split("+"):
                planted[kind] += 1
                found[kind] += ok
        labels.setdefault(story, set()).add(item.label)
    precision = right / joins if joins else 1.0
    return Quality(precision, hit / total if total else 1.0, joins, joins - right, found, planted)


def _exact_assign(key: Callable[[Post], str]) -> Callable[[Post, datetime], int]:
    seen: dict[str, int] = {}
    return lambda post, _at: seen.setdefault(key(post), len(seen) + 1)


def _simple(post: Post) -> str:
    """The baseline's normalization: NFKC, casefold, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", post.text).casefold().split())


def _quality(results: list[dict[str, object]]) -> None:
    items = build_labelled(random.Random(SEED), LABELLED)
    planted = sum(i.planted for i in items)
    print(f"{len(items):,} labelled posts, {planted:,} planted relays ({planted / len(items):.0%})")
    started = time.perf_counter()
    ours = evaluate(items, MemoryStoryIndex().assign)
    took = time.perf_counter() - started
    base = evaluate(items, _exact_assign(_simple))
    normalized = evaluate(items, _exact_assign(lambda post: relay_normalize(post.text)))
    for name, got in (
        ("stories", ours),
        ("exact hash", base),
        ("relay_normalize+hash", normalized),
    ):
        print(
            f"  {name:<22} precision {got.precision:.4f}  recall {got.recall:.4f}  "
            f"({got.wrong} wrong of {got.joins:,} joins)"
        )
    print(f"  ({len(items) / took:,.0f} posts/s through MemoryStoryIndex.assign, from empty)")
    print("  recall by transformation, stories / exact hash:")
    for kind in sorted(ours.planted):
        n = ours.planted[kind]
        print(f"    {kind:<11} {ours.found[kind] / n:.3f} / {base.found[kind] / n:.3f}  of {n}")
    sample = items[:SWEEP_POSTS]
    print(f"  threshold sweep, first {len(sample):,} posts:")
    for threshold in SWEEP:
        got = evaluate(sample, MemoryStoryIndex(threshold=threshold).assign)
        print(
            f"    {threshold:.1f}: precision {got.precision:.4f} recall {got.recall:.4f} "
            f"({got.wrong} wrong of {got.joins:,} joins)"
        )
    for name in ("precision", "recall"):
        results.append(
            {
                "name": f"stories: {name}, planted relays (vs exact hash)",
                "value": getattr(ours, name),
                "unit": "ratio",
                "baseline": getattr(base, name),
            }
        )


def _throughput(results: list[dict[str, object]], indexed: int) -> None:
    """Assignment with `indexed` posts already stored, all within the window. They are recorded
    directly, each its own story: the rows are what a lookup sees, not how they were decided.
    In memory (the algorithm), then through the store on SQLite (what `postwatch run` does).
    "Given fingerprints" is how `bot.poll` hands posts to the store: fingerprinted before the
    transaction, so the figure is the story decision and its rows; the fingerprint rate (text
    normalisation and keys) is shown on its own, and "with fingerprinting" is both."""
    items = build_labelled(random.Random(SEED + indexed), indexed + PROBES)
    fps = [fingerprint(item.post) for item in items[:indexed]]
    exact = _exact_assign(_simple)
    for item in items[:indexed]:
        exact(item.post, item.at)
    probe = items[indexed:]
    started = time.perf_counter()
    probe_fps = [fingerprint(item.post) for item in probe]
    printing = len(probe) / (time.perf_counter() - started)
    ours = _memory_rate(_filled(items, fps), probe, probe_fps, len(fps) + 1)
    # Fresh prints: the row above left word 3-grams built on these (`StoryFingerprint.derived`),
    # which would make this row faster than what it measures.
    index = _filled(items, [replace(fp) for fp in fps])
    rows_held = len(index)
    started = time.perf_counter()
    for item in probe:
        index.assign(item.post, item.at)
    whole = len(probe) / (time.perf_counter() - started)
    started = time.perf_counter()
    for item in probe:
        exact(item.post, item.at)
    base = len(probe) / (time.perf_counter() - started)
    stored = _store_rate(items[:indexed], fps, probe, probe_fps)
    empty = _store_rate([], [], probe, probe_fps) if indexed == max(STORED) else None
    computed = _store_rate(items[:indexed], fps, probe, None)
    print(
        f"  {indexed:,} posts indexed ({rows_held:,} key rows), exact hash {base:,.0f} posts/s:"
        f"\n    in memory {ours:,.0f} posts/s given fingerprints, {whole:,.0f} with fingerprinting"
        f" (fingerprints alone {printing:,.0f} posts/s)"
        f"\n    through the store (SQLite, polls of {POLL_POSTS}) {stored:,.0f} posts/s given"
        f" fingerprints, {computed:,.0f} computing them"
        + (f"; empty window {empty:,.0f} posts/s ({stored / empty:.2f} of it)" if empty else "")
    )
    name = f"{indexed // 1000}k posts indexed (vs exact hash)"
    rows = [
        (f"stories: assign, {name}", ours),
        (f"stories: fingerprint+assign, {name}", whole),
        (f"stories: store+assign SQLite, {name}", stored),
        (f"stories: fingerprint+store+assign SQLite, {name}", computed),
    ]
    if empty:
        rows.append(("stories: store+assign SQLite, empty window (vs exact hash)", empty))
    for label, value in rows:
        results.append({"name": label, "value": value, "unit": "posts/s", "baseline": base})


def _filled(items: list[Labelled], fps: list[StoryFingerprint]) -> MemoryStoryIndex:
    index = MemoryStoryIndex(window=timedelta(days=60))
    for n, (item, fp) in enumerate(zip(items, fps, strict=False)):
        index.record(fp, n + 1, item.at)
    return index


def _memory_rate(
    trial: MemoryStoryIndex, probe: list[Labelled], fps: list[StoryFingerprint], story: int
) -> float:
    """`MemoryStoryIndex.assign` with the fingerprint given: lookup, decision, record."""
    started = time.perf_counter()
    for item, fp in zip(probe, fps, strict=True):
        found = trial.lookup(fp.keys, now=item.at)
        choice = choose_stories([fp], found, now=item.at, window=trial.window)[0]
        trial.record(fp, story if choice.story_id is None else choice.story_id, item.at)
        story += 1
    return len(probe) / (time.perf_counter() - started)


def _store_rate(
    stored: list[Labelled],
    fps: list[StoryFingerprint],
    probe: list[Labelled],
    probe_fps: list[StoryFingerprint] | None,
) -> float:
    """Posts/s that `Store.save_poll` stores and assigns, in polls of POLL_POSTS, with `stored`
    already in the database and its index (written directly: filling through save_poll would
    take minutes and measure nothing more)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        store = Store.open(url)
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                if stored:  # an empty window too: the rate the 0.5 is of
                    connection.execute(
                        sa.insert(POST),
                        [
                            {
                                "id": n,
                                "source_id": item.post.source_id,
                                "post_id": item.post.post_id,
                                "text": item.post.text,
                                "url": item.post.url,
                                "seen_at": item.at,
                                "story_id": n,
                            }
                            for n, item in enumerate(stored, 1)
                        ],
                    )
                    entries = [
                        IndexEntry(n, n, fp, item.at)
                        for n, (item, fp) in enumerate(zip(stored, fps, strict=True), 1)
                    ]
                    write_index(connection, entries)
            given = {  # fingerprinted before the transaction, as bot.poll does
                at: {
                    item.post.key: fp
                    for item, fp in zip(
                        probe[at : at + POLL_POSTS], probe_fps[at : at + POLL_POSTS], strict=True
                    )
                }
                for at in range(0, len(probe), POLL_POSTS)
                if probe_fps is not None
            }
            started = time.perf_counter()
            for at in range(0, len(probe), POLL_POSTS):
                polled = probe[at : at + POLL_POSTS]
                store.save_poll(
                    SourceState("bench", baseline_done=True),
                    [item.post for item in polled],
                    {},
                    [],
                    polled[-1].at,
                    story_window=timedelta(days=60),
                    fingerprints=given.get(at),
                )
            return len(probe) / (time.perf_counter() - started)
        finally:
            engine.dispose()
            store.close()


def run(results: list[dict[str, object]]) -> None:
    _quality(results)
    for indexed in STORED:
        _throughput(results, indexed)


if __name__ == "__main__":
    if sys.argv[1:]:  # e.g. 10000: only that throughput row, no quality measurement
        STORED = tuple(int(arg) for arg in sys.argv[1:])
        _throughput([], STORED[0])
        sys.exit(0)
    rows: list[dict[str, object]] = []
    run(rows)
