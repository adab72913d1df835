"""Golden files for issue 9, Atom and JSON Feed side: Atom 0.3 modes and dates, Atom 1.0
(RFC 4287) summaries, contents, base64, out-of-line content, media:group, Windows-1252 text,
nested xml:base and XHTML embeds, JSON Feed 1.0 and 1.1, written from the published
specifications (tests/data/feeds/; see test_feeds_golden_rss.py for the rules).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.model import Post
from bot.sources.rss import parse_feed

DATA = Path(__file__).parent / "data" / "feeds"


def parse(name: str, url: str = "https://feeds.example.org/feed") -> list[Post]:
    return parse_feed("src", (DATA / name).read_bytes(), base_url=url)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_atom03_modes_dates_and_alternative_contents() -> None:
    tips, changes, warning = parse("atom03.xml")
    assert tips == Post(
        source_id="src",
        post_id="tag:ferry.example.net,2024:tips",
        text=(
            "Board early when winds are strong.\n\nCars load from lane 3.\n\n"
            "Board early in strong winds."  # the summary words it differently: kept
        ),
        url="https://ferry.example.net/2024/03/tips",
        author="Harbour Office",  # the feed's
        title="Tips & tricks for the crossing",  # mode="escaped" text/html
        published_at=at(2024, 3, 8, 8),  # issued, over modified and created
        lang="en-gb",  # the content's xml:lang
    )
    assert changes == Post(
        source_id="src",
        post_id="tag:ferry.example.net,2024:changes",
        # Content, title and summary base64; the summary's words are all in the content.
        text="Ferry timetable changes from Monday & the 07:10 sailing moves to 07:25.",
        url="https://ferry.example.net/2024/03/changes",
        author="Ines Duarte",
        title="Ferry changes",
        published_at=at(2024, 3, 5, 16, 45),  # no issued: created
        lang="en",
    )
    assert warning == Post(
        source_id="src",
        post_id="tag:ferry.example.net,2024:warning",
        # The text/plain and text/html alternatives say the same; the script is dropped.
        text="Sailings may be cancelled at short notice.\n\nCheck the board at the terminal.",
        author="Harbour Office",
        title="Weather warning",
        published_at=at(2024, 3, 4, 6, 30),
        lang="en",
    )


def test_atom10_summary_and_content_base64_src_and_media_group() -> None:
    tram, night, pdf, video = parse("atom10_texts.xml")
    assert tram == Post(
        source_id="src",
        post_id="urn:uuid:5b1f3a9e-61b8-4d0c-8a51-000000000002",
        text=(
            "Line 4 runs two stops further, to the university campus.\n\n"
            "Line 4 now reaches the hospital."
        ),
        url="https://transport.example.org/news/tram-4",
        author="Transport Desk",
        title="Tram line 4 extended",
        published_at=at(2024, 3, 9, 7),  # published, not updated
        lang="en",
    )
    assert night == Post(
        source_id="src",
        post_id="urn:uuid:5b1f3a9e-61b8-4d0c-8a51-000000000003",
        text="Night buses run every 20 minutes — all week.",  # decoded from base64
        url="https://transport.example.org/news/night-buses",
        author="Kofi Mensah",
        title="Night buses — new timetable",
        published_at=at(2024, 3, 8, 22),
        lang="en",
    )
    assert pdf == Post(
        source_id="src",
        post_id="urn:uuid:5b1f3a9e-61b8-4d0c-8a51-000000000004",
        text="The spring timetable as a printable file.",  # content by src: nothing to read
        author="Transport Desk",
        title="Timetable PDF",
        published_at=at(2024, 3, 7, 12),
        lang="en",
    )
    assert video == Post(
        source_id="src",
        post_id="yt:video:Kx3f0000001",
        text=(
            "A ride along the new protected lanes, opened on Monday.\n"
            "Parking moves to the side streets."
        ),
        url="https://video.example.org/watch?v=Kx3f0000001",
        author="Transport Desk",
        title="Cycle lanes on Mill Road",  # media:title says the same: not repeated
        published_at=at(2024, 3, 6, 15),
        lang="en",
        image_url="https://video.example.org/vi/Kx3f0000001/hq.jpg",
    )


def test_windows_1252_punctuation_in_atom_declared_latin1() -> None:
    (post,) = parse("atom10_iso8859_1.xml")
    assert post == Post(
        source_id="src",
        post_id="tag:tram.example.de,2024:linie-3",
        text=(
            "Ab Montag hält die Linie 3 auch am Markt – im 10-Minuten-Takt.\n\n"
            "Ab Montag hält die Linie am Markt …"  # 0x85, which Python calls a space
        ),
        url="https://tram.example.de/linie-3",
        author="Jürgen „Juri“ Weiß",
        title="Linie 3 – neue Haltestelle",
        published_at=at(2024, 3, 9, 9),
    )


def test_atom10_nested_relative_xml_base() -> None:
    nested, flat = parse("atom10_xml_base.xml", "https://blog.example.dev/feeds/atom.xml")
    assert nested == Post(
        source_id="src",
        post_id="tag:blog.example.dev,2024:nested",
        text="See the diagram.",
        url="https://blog.example.dev/posts/2024/nested-bases/",  # ../ + posts/2024/ + href
        title="Nested bases",
        published_at=at(2024, 3, 9, 9),
        image_url="https://blog.example.dev/posts/2024/nested-bases/figure-1.png",  # content's
    )
    assert flat == Post(
        source_id="src",
        post_id="tag:blog.example.dev,2024:flat",
        text="About this blog.",
        url="https://blog.example.dev/about/",
        title="Feed-level base only",
        published_at=at(2024, 3, 8, 9),
        image_url="https://blog.example.dev/img/about.jpg",
    )


def test_atom10_xhtml_with_empty_embeds_and_a_script() -> None:
    (post,) = parse("atom10_xhtml_embeds.xml")
    assert post == Post(
        source_id="src",
        post_id="tag:embeds.example.com,2024:launch",
        text=(
            "The launch moves to Thursday. Fuelling starts at dawn.\n\n"
            "Weather permitting, the window opens at 06:12."
        ),
        url="https://embeds.example.com/launch",
        title="Launch delayed",
        published_at=at(2024, 3, 9, 9),
    )


def test_json_feed_11_content_html_content_text_and_summary() -> None:
    rescue, roadworks = parse("jsonfeed11.json", "https://radio.example.org/feed.json")
    assert rescue == Post(
        source_id="src",
        post_id="https://radio.example.org/news/1001",
        # content_text repeats content_html; the summary adds words of its own.
        text=(
            "Two kayakers were rescued off the point on Saturday.\n\nBoth are well.\n\n"
            "Lifeboat crew praised for a fast launch."
        ),
        url="https://radio.example.org/news/1001",
        author="Siobhán Kelly",
        title="Coastguard <b>rescue</b> off the point",  # 1.1: a title is plain text
        published_at=at(2024, 3, 9, 14, 5),
        lang="en-IE",
    )
    assert roadworks == Post(
        source_id="src",
        post_id="1002",
        text="Roadworks on Quay Street until Friday.\nExpect delays at peak times.",
        url="https://radio.example.org/news/1002",
        author="Harbour Radio newsroom",  # the feed's authors
        published_at=at(2024, 3, 8, 9),  # date_modified alone
        lang="ga",
    )


def test_json_feed_10_author_and_summary_inside_content() -> None:
    (post,) = parse("jsonfeed10.json")
    assert post == Post(
        source_id="src",
        post_id="mill-7",
        text="The wheel turned for the first time since 1962 — slowly.",
        url="https://mill.example.com/7",
        author="The Miller",  # 1.0 "author"
        title="Wheel turning again",
        published_at=at(2024, 3, 2, 15),
    )
