"""RSS/Atom/JSON Feed parsing against golden files, hostile inputs, and conditional GET."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from bot.config.settings import NetworkSettings, SourceConfig
from bot.errors import ParseError
from bot.model import SOURCE_KINDS, Post, SourceState
from bot.net.client import HttpClient
from bot.sources.feed_entry import build_posts
from bot.sources.feed_fallback import read_with_feedparser
from bot.sources.feed_xml import read_xml_feed
from bot.sources.registry import ADAPTERS, adapter_for
from bot.sources.rss import RssAdapter, parse_feed

DATA = Path(__file__).parent / "data" / "sources"
NOW = datetime(2024, 3, 5, 16, 0, tzinfo=UTC)
FEED_URL = "https://news.example.com/world/feed/"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(name: str, base_url: str | None = FEED_URL) -> list[Post]:
    return parse_feed("src", load(name), base_url=base_url)


def by_id(posts: list[Post]) -> dict[str, Post]:
    return {post.post_id: post for post in posts}


# --- RSS 2.0 -------------------------------------------------------------------------------


def test_rss2_item_with_content_encoded_becomes_a_complete_post() -> None:
    first = parse("rss2_news.xml")[0]
    assert first == Post(
        source_id="src",
        post_id="https://news.example.com/?p=48211",  # the guid, even when not a permalink
        text=(
            "Negotiators returned to Cairo on Tuesday for a third round of talks.\n\n"
            "\u201cWe are closer than last week,\u201d one official said.\n"
            "Aid trucks remain at the Rafah crossing.\n\n"
            "Trucks queue at the crossing.\n\n"
            "The post Ceasefire talks resume appeared first on Example Times."
        ),
        url="https://news.example.com/world/2024/03/05/ceasefire-talks-resume/",
        author="Maya Rahman",
        title="Ceasefire talks resume in Cairo as aid convoys wait at the border",
        published_at=datetime(2024, 3, 5, 14, 32, 11, tzinfo=UTC),
        lang="en-US",
        image_url="https://news.example.com/wp-content/uploads/2024/03/convoy-1024x683.jpg",
    )


def test_rss2_escaped_html_title_and_email_author() -> None:
    post = parse("rss2_news.xml")[1]
    assert post.title == "Flooding forces 10,000 from homes in northern region"
    assert post.author == "Jonas Weber"  # from "desk@news.example.com (Jonas Weber)"
    assert post.text == (
        "Rivers burst their banks after three days of rain.\n\n"
        "Officials said more evacuations were likely."
    )
    assert post.image_url == "https://cdn.example.com/photos/flood.jpg"  # the image enclosure


def test_rss2_bad_date_costs_only_the_date() -> None:
    post = by_id(parse("rss2_news.xml"))["markets-20240305"]
    assert post.published_at is None
    assert post.text == "Stocks were little changed on Tuesday.\nTraders expect rates to hold."
    assert post.image_url == "https://cdn.example.com/photos/markets-thumb.jpg"  # media:thumbnail


def test_rss2_item_without_guid_uses_link_and_ignores_tracking_pixel() -> None:
    post = parse("rss2_news.xml")[3]
    assert post.post_id == "https://news.example.com/podcast/week-in-review-10/"
    assert post.text == "Our correspondents look back on the week."
    assert post.image_url is None  # a 1x1 FeedBurner pixel and an audio enclosure
    assert post.published_at == datetime(2024, 3, 4, 23, 0, tzinfo=UTC)  # -0500 normalised


def test_rss2_item_without_guid_or_link_gets_a_stable_content_hash() -> None:
    posts = parse("rss2_news.xml")
    assert len(posts) == 5  # the sixth, empty item has nothing to show
    hashed = posts[4]
    assert hashed.post_id.startswith("sha256:")
    assert len(hashed.post_id) == len("sha256:") + 32
    assert hashed.text == "Breaking: parliament session suspended after power cut."
    assert hashed.url is None
    assert parse("rss2_news.xml")[4].post_id == hashed.post_id


def test_entities_and_cdata_are_decoded_without_truncation() -> None:
    posts = parse("rss2_entities.xml")
    assert [p.title for p in posts] == [
        "Ceasefire \u2014 what we know so far",
        "Minister\u2019s \u201cfinal offer\u201d rejected \u2014 strike goes on",
        "Q&A: what the strike means for you",
    ]
    assert posts[0].text == (
        "Talks resumed \u2014 again \u2013 on Tuesday. AT&T\u2019s outage & the "
        '"blackout" are unrelated.\n\nPrice: 5 \u20ac < 6 \u20ac'
    )
    assert (
        posts[1].text
        == 'Unions said the offer was "an insult" \u2014 talks end.\nMore at 11 & later.'
    )
    assert posts[2].text == "Trains: none. Buses: some.\nSchools: open\u2026"
    assert posts[0].author == "Wire & Cable staff"
    assert (
        posts[0].url == "https://wire.example.org/a/ceasefire-what-we-know?ref=rss&utm_source=feed"
    )


def test_duplicate_guids_keep_the_first_item() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><guid>same</guid><title>First</title></item>"
        b"<item><guid>same</guid><title>Second</title></item>"
        b"</channel></rss>"
    )
    assert [p.title for p in parse_feed("src", body)] == ["First"]


def test_guid_permalink_stands_in_for_a_missing_link() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title><item><title>T</title>"
        b"<guid>https://x.example/1</guid></item></channel></rss>"
    )
    assert parse_feed("src", body)[0].url == "https://x.example/1"


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title><item><title>T</title>"
        b"<link>/world/item-1</link><description>&lt;img src='pics/a.jpg'&gt;Hi</description>"
        b"</item></channel></rss>"
    )
    post = parse_feed("src", body, base_url=FEED_URL)[0]
    assert post.url == "https://news.example.com/world/item-1"
    assert post.image_url == "https://news.example.com/world/feed/pics/a.jpg"


# --- RSS 1.0 / 0.91 --------------------------------------------------------------------------


def test_rss1_rdf_items() -> None:
    comet, fusion = parse("rss1_rdf.xml")
    assert comet.post_id == "https://science.example.net/story/24/03/05/1136/comet"  # rdf:about
    assert comet.url == "https://science.example.net/story/24/03/05/1136/comet?utm_source=rss1.0"
    assert comet.text == (
        'An anonymous reader writes: "The comet will be brightest on Thursday," astronomers say.'
    )
    assert comet.author == "msmash"
    assert comet.published_at == datetime(2024, 3, 5, 11, 36, tzinfo=UTC)  # dc:date
    assert comet.lang == "en-gb"
    assert fusion.text == "The reactor held plasma for six minutes.\n\nCritics remain sceptical."
    assert fusion.published_at == datetime(2024, 3, 5, 14, 12, tzinfo=UTC)


def test_rss091_latin1_with_netscape_doctype() -> None:
    posts = parse("rss091.xml")
    assert [p.title for p in posts] == [
        "Stra\u00dfenfest am Samstag",
        "Neue Buslinie nach M\u00fcnchen",
    ]
    assert posts[0].text.endswith("Eintritt frei f\u00fcr Kinder.")
    assert posts[0].post_id == "http://gazette.example.com/news/2024/strassenfest.html"
    assert {p.lang for p in posts} == {"de"}
    assert {p.published_at for p in posts} == {None}


def test_rss091_html_entities_from_the_dtd_fall_back_to_feedparser_with_full_text() -> None:
    body = load("rss091_dtd_entities.xml")
    assert read_xml_feed(body, None) is None  # the fast path declines rather than truncate
    cafe = parse_feed("src", body)[0]
    assert cafe.title == "Caf\u00e9 & B\u00e4ckerei er\u00f6ffnet"
    assert cafe.text == "Ab Montag ge\u00f6ffnet \u2013 t\u00e4glich 7 bis 18 Uhr."


def test_raw_html_entities_in_xml_fall_back_to_feedparser_with_full_text() -> None:
    body = load("rss2_raw_entities.xml")
    assert read_xml_feed(body, None) is None
    ceasefire, cafe = parse_feed("src", body)
    assert ceasefire.title == "Ceasefire \u2014 what we know"  # not cut at &nbsp;
    assert ceasefire.text == (
        "Talks resumed \u2014 again \u2013 on Tuesday & aid is \u201cclose\u201d."
    )
    assert cafe.title == "Caf\u00e9 owners protest rent rises"
    assert cafe.text == "About 200 people marched\u2026"


# --- Atom ----------------------------------------------------------------------------------


def test_atom_entries() -> None:
    lyon, rsync, links, draft = parse("atom.xml")
    assert lyon.post_id == "tag:blog.example.dev,2024-03-05:/fr/2024/lyon/"
    assert (
        lyon.text == "Premier paragraphe avec emphase.\n\nDeuxi\u00e8me ligne\net troisi\u00e8me."
    )
    assert lyon.lang == "fr"  # the entry's xml:lang over the feed's
    assert lyon.author == "Claire Dubois"  # inherited from the feed (RFC 4287 4.2.1)
    assert lyon.published_at == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)  # published, not updated
    assert lyon.image_url == "https://blog.example.dev/img/lyon.png"  # rel="enclosure"
    assert rsync.title == "Tips & tricks for rsync"  # type="html"
    assert rsync.text == (
        "Use -a and -z, and remember: a trailing slash <matters>.\nSecond line stays."
    )  # type="text" is not HTML
    assert rsync.url == "https://blog.example.dev/2024/rsync-tips/"  # relative to xml:base
    assert rsync.author == "Sam Okafor"
    assert rsync.published_at == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # updated only
    assert rsync.lang == "en"
    # The longer content first; the summary says something else, so it is kept after it.
    assert links.text == "Links this week \u2014 one, two.\n\nShort summary."
    assert links.image_url == "https://blog.example.dev/img/links-112.jpg"
    assert draft.published_at is None
    assert draft.text == "Not dated."


def test_reddit_atom() -> None:
    strike, evacuations = parse("reddit.atom", base_url="https://www.reddit.com/r/worldnews/.rss")
    assert strike.post_id == "t3_1b7k2xq"  # kept as written, not resolved as a URL
    assert strike.author == "/u/dailynewsbot"
    assert strike.image_url == "https://b.thumbs.redditmedia.com/Xy9Zq1AbCdEfGh.jpg"
    assert strike.url == (
        "https://www.reddit.com/r/worldnews/comments/1b7k2xq/port_strike_enters_third_day/"
    )
    assert evacuations.text.startswith(
        "Officials confirmed the evacuation of two villages.\n\n"
        "More details & a map in the comments."
    )
    assert "SC_OFF" not in evacuations.text
    assert evacuations.published_at == datetime(2024, 3, 5, 14, 21, 40, tzinfo=UTC)


def test_x_via_nitter_rss() -> None:
    own, retweet, reply = parse("x_nitter.xml")
    assert own.author == "@SenExample"
    assert own.text == (
        "Today I introduced the Clean Water Act amendment. Read it here: example.gov/cwa-2024"
    )
    assert own.image_url == "https://nitter.example.net/pic/orig/media%2FGH1x2yZWkAAbcde.jpg"
    assert own.post_id == "https://nitter.example.net/SenExample/status/1765061139458703478#m"
    assert retweet.author == "@FarmCaucus"
    assert retweet.title is not None
    assert retweet.title.startswith("RT by @SenExample:")
    assert retweet.text == "Proud to stand with farmers in Iowa today & every day. #agriculture"
    assert reply.text.startswith(
        "Yes \u2014 and we'll vote on it Thursday.\n\nReporter (@Reporter)"
    )


# --- JSON Feed -----------------------------------------------------------------------------


def test_json_feed_items() -> None:
    posts = parse("jsonfeed.json", base_url="https://harbour.example.com/feed.json")
    storm, ferry, legacy, no_id = posts
    # content_html first; the summary words it differently ("km/h expected"), so it stays.
    assert storm.text == (
        "Gusts of up to 90 km/h are expected \u2014 moor boats securely.\n\n"
        "Gusts of up to 90 km/h expected."
    )
    assert storm.author == "Priya Nair"
    assert storm.lang == "en-GB"  # the feed's language
    assert storm.image_url == "https://harbour.example.com/media/storm.jpg"  # from content_html
    assert storm.published_at == datetime(2024, 3, 5, 11, 0, tzinfo=UTC)
    assert ferry.post_id == "20240304"  # a numeric id
    assert ferry.text == "Ferry timetable changes from Monday.\n\nThe 07:10 sailing moves to 07:25."
    assert ferry.title is None
    assert ferry.author == "Harbour Notes desk"  # the feed's authors
    assert ferry.lang == "fr"
    assert ferry.image_url == "https://harbour.example.com/media/ferry.jpg"
    assert ferry.published_at == datetime(2024, 3, 5, 2, 30, tzinfo=UTC)
    assert legacy.author == "R. Old"  # JSON Feed 1.0 "author"
    assert legacy.published_at is None
    assert legacy.image_url == "https://harbour.example.com/media/map.png"  # image attachment
    assert no_id.post_id == "https://harbour.example.com/2024/03/01/no-id"
    assert len(posts) == 4  # the string "not an item" is skipped


# --- the fast path agrees with feedparser ----------------------------------------------------

FAST_PATH_FEEDS = [
    "rss2_news.xml",
    "rss2_entities.xml",
    "rss1_rdf.xml",
    "rss091.xml",
    "atom.xml",
    "reddit.atom",
    "x_nitter.xml",
]


@pytest.mark.parametrize("name", FAST_PATH_FEEDS)
def test_fast_path_and_feedparser_give_the_same_posts(name: str) -> None:
    body = load(name)
    fast = read_xml_feed(body, FEED_URL)
    assert fast is not None, "the fast path must read this feed"
    fast_posts = build_posts("src", fast, base_url=FEED_URL)
    slow_posts = build_posts("src", read_with_feedparser(body), base_url=FEED_URL)
    assert fast_posts == slow_posts
    assert fast_posts  # and the comparison is not vacuous


def test_malformed_feed_is_recovered_by_feedparser() -> None:
    posts = parse("malformed.xml")
    assert [p.title for p in posts] == ["Tom & Jerry return to cinemas", "Second item survives"]
    assert posts[0].text == "Line one\nLine two"


def test_truncated_feed_keeps_the_items_that_arrived() -> None:
    posts = parse("truncated.xml")
    assert posts[0].text == "Fully received."
    assert posts[0].post_id == "https://cutoff.example/1"


def test_php_warnings_before_the_xml_declaration_are_skipped() -> None:
    (post,) = parse("php_warning.xml")
    assert post.title == "Road closure on Mill Lane"
    assert post.text == "Mill Lane is closed from 11 to 15 March for resurfacing."


# --- hostile and wrong documents ------------------------------------------------------------


def test_billion_laughs_is_not_expanded() -> None:
    body = load("billion_laughs.xml")
    assert read_xml_feed(body, None) is None
    posts = parse_feed("src", body)
    assert all(len(p.text) < 100 and "lollol" not in p.text for p in posts)
    assert all("lollol" not in (p.title or "") for p in posts)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def test_external_entities_and_dtds_are_never_loaded(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    body = load("xxe.xml").replace(b"http://127.0.0.1:9/", f"http://127.0.0.1:{port}/".encode())
    external_dtd = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:{port}/rss.dtd">'
        "<rss version='2.0'><channel><title>t</title><item><title>ok</title></item>"
        "</channel></rss>"
    ).encode()
    posts = parse_feed("src", body) + parse_feed("src", external_dtd)
    texts = " ".join(f"{p.title} {p.text}" for p in posts)
    assert "root:" not in texts  # /etc/passwd stayed unread
    with pytest.raises(BlockingIOError):  # and nobody connected to fetch a DTD or entity
        listener.accept()
    assert posts[-1].title == "ok"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("cloudflare.html", "HTML page titled 'Just a moment...'"),
        ("login.xhtml", "HTML page titled 'Sign in - Intranet'"),
        ("junk.txt", "upstream connect error"),
        ("json_not_feed.json", "not a JSON Feed"),
    ],
)
def test_non_feeds_raise_parse_error(name: str, message: str) -> None:
    with pytest.raises(ParseError, match="expected a") as caught:
        parse(name)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"{",
        b"[" * 100_000,
        b"<error><message>rate limited</message></error>",
        b"\xef\xbb\xbf<!doctype html><html><body>Not found</body></html>",
        b"<!-- generated --><html lang=en><title>Sign in</title></html>",
    ],
)
def test_junk_is_never_an_empty_feed(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed("src", body)


def test_an_empty_but_valid_feed_is_empty() -> None:
    assert parse_feed("src", b"<rss version='2.0'><channel><title>t</title></channel></rss>") == []


# --- fetch: conditional GET ------------------------------------------------------------------


def source(url: str = FEED_URL) -> SourceConfig:
    return SourceConfig(
        id="news",
        kind="rss",
        url=url,
        every=timedelta(minutes=5),
        max_age=timedelta(hours=24),
    )


@pytest.fixture
def router() -> respx.MockRouter:
    # using=None: nothing is patched; requests reach the router only through HttpClient's seam.
    return respx.MockRouter(using=None, assert_all_called=False)


@pytest.fixture
async def http(router: respx.MockRouter) -> AsyncIterator[HttpClient]:
    client = HttpClient(NetworkSettings(), transport=httpx.MockTransport(router.async_handler))
    yield client
    await client.aclose()


async def test_first_fetch_stores_validators_and_parses(
    router: respx.MockRouter, http: HttpClient
) -> None:
    route = router.get(FEED_URL).respond(
        200,
        content=load("rss2_news.xml"),
        headers={
            "Content-Type": "application/rss+xml; charset=UTF-8",
            "ETag": '"abc123"',
            "Last-Modified": "Tue, 05 Mar 2024 15:02:44 GMT",
        },
    )
    fetched = await RssAdapter().fetch(source(), SourceState("news"), http, NOW)
    request = route.calls.last.request
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers
    assert "application/rss+xml" in request.headers["accept"]
    assert not fetched.not_modified
    assert len(fetched.posts) == 5
    assert fetched.state.etag == '"abc123"'
    assert fetched.state.last_modified == "Tue, 05 Mar 2024 15:02:44 GMT"


async def test_conditional_get_and_304(router: respx.MockRouter, http: HttpClient) -> None:
    route = router.get(FEED_URL).respond(304)
    state = SourceState("news", etag='"abc123"', last_modified="Tue, 05 Mar 2024 15:02:44 GMT")
    fetched = await RssAdapter().fetch(source(), state, http, NOW)
    request = route.calls.last.request
    assert request.headers["if-none-match"] == '"abc123"'
    assert request.headers["if-modified-since"] == "Tue, 05 Mar 2024 15:02:44 GMT"
    assert fetched.not_modified
    assert fetched.posts == []
    assert fetched.state == state


async def test_304_with_a_new_etag_updates_it(router: respx.MockRouter, http: HttpClient) -> None:
    router.get(FEED_URL).respond(304, headers={"ETag": '"def456"'})
    state = SourceState("news", etag='"abc123"', last_modified="Tue, 05 Mar 2024 15:02:44 GMT")
    fetched = await RssAdapter().fetch(source(), state, http, NOW)
    assert fetched.state.etag == '"def456"'
    assert fetched.state.last_modified == state.last_modified


async def test_html_challenge_is_a_parse_error(router: respx.MockRouter, http: HttpClient) -> None:
    router.get(FEED_URL).respond(
        200, content=load("cloudflare.html"), headers={"Content-Type": "text/html"}
    )
    with pytest.raises(ParseError, match="Just a moment"):
        await RssAdapter().fetch(source(), SourceState("news"), http, NOW)


async def test_relative_links_resolve_against_the_final_url(
    router: respx.MockRouter, http: HttpClient
) -> None:
    router.get("https://old.example.com/rss").respond(
        301, headers={"Location": "https://new.example.com/blog/feed.xml"}
    )
    router.get("https://new.example.com/blog/feed.xml").respond(
        200,
        content=b"<rss version='2.0'><channel><title>t</title><item><title>T</title>"
        b"<link>posts/1</link></item></channel></rss>",
    )
    fetched = await RssAdapter().fetch(
        source("https://old.example.com/rss"), SourceState("news"), http, NOW
    )
    assert fetched.posts[0].url == "https://new.example.com/blog/posts/1"


def test_registry_has_one_adapter_per_kind() -> None:
    assert set(ADAPTERS) == set(SOURCE_KINDS)
    assert isinstance(adapter_for("rss"), RssAdapter)
    assert all(callable(adapter.fetch) for adapter in ADAPTERS.values())


def test_a_bridge_title_that_restates_the_post_is_not_shown_twice() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>X</title>'
        b"<item><title>We agreed to an immediate CEASEFIRE on all Energy\xe2\x80\xa6</title>"
        b"<description>We agreed to an immediate CEASEFIRE on all Energy and Infrastructure."
        b"</description><guid>a</guid></item>"
        b"<item><title>Readout of the call</title><description>The leaders spoke today."
        b"</description><guid>b</guid></item></channel></rss>"
    )
    restated, headline = parse_feed("x", feed)
    assert restated.title is None
    assert restated.text.startswith("We agreed to an immediate CEASEFIRE")
    assert headline.title == "Readout of the call"


def test_a_restated_title_may_differ_in_quotes_case_and_spacing() -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>X</title>'
        "<item><title>Readout of President Trump's call with  President Putin</title>"
        "<description>READOUT of President Trump’s call with President Putin of Russia: the "
        "leaders agreed.</description><guid>a</guid></item></channel></rss>"
    ).encode()
    [post] = parse_feed("x", feed)
    assert post.title is None
    assert post.text.startswith("READOUT of President Trump’s call")
