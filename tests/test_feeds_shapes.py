"""Shapes feeds really use (issue 9): the fallback's links and ids, malformed links, TypePad's
escaped HTML in a div, items outside a channel, non-standard full-text elements, both
spellings of the iTunes namespace, doubly encoded UTF-8, encodings that are not ASCII-based and
an HTML doctype on a feed."""

from __future__ import annotations

import pytest

from bot.sources.feed_entry import build_posts
from bot.sources.feed_fallback import read_with_feedparser
from bot.sources.feed_xml import read_xml_feed
from bot.sources.rss import parse_feed

FEED_URL = "https://news.example.com/world/feed/"


def test_the_fallback_keeps_utf8_and_resolves_nested_xml_base_against_the_document() -> None:
    # The raw &nbsp; sends this to feedparser; relative xml:base chains still resolve against
    # the URL the feed was fetched from, ids stay as written, UTF-8 stays UTF-8.
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xml:base="../"><title>t</title><entry xml:base="posts/2024/"><id>entry-1</id>'
        '<title>Café&nbsp;crème</title><link href="one/"/>'
        '<content type="html" xml:base="one/">&lt;img src="a.png"&gt;Zürich</content></entry>'
        "</feed>"
    ).encode()
    assert read_xml_feed(body, FEED_URL) is None
    (post,) = parse_feed("src", body, base_url=FEED_URL)
    assert post.post_id == "entry-1"
    assert post.title == "Café crème"
    assert post.text == "Zürich"
    assert post.url == "https://news.example.com/world/posts/2024/one/"
    assert post.image_url == "https://news.example.com/world/posts/2024/one/a.png"


def test_a_permalink_guid_keeps_its_spelling_on_the_fallback() -> None:
    # RSS 2.0 guids are permalinks by default; feedparser resolves them like links.
    body = (
        b"<rss version='2.0'><channel><title>t&nbsp;</title><item><guid>item-7</guid>"
        b"<title>T</title></item><item><guid>/items/8</guid><title>U</title></item>"
        b"</channel></rss>"
    )
    assert read_xml_feed(body, FEED_URL) is None
    assert [p.post_id for p in parse_feed("src", body, base_url=FEED_URL)] == ["item-7", "/items/8"]


def test_a_malformed_permalink_guid_costs_only_the_link() -> None:
    # The link that crashed the run in issue 9: urllib raises "Invalid IPv6 URL" on it.
    body = (
        b'<rss xml:base="http://example.test/"><channel><item>'
        b'<guid isPermaLink="true">http://example.c[o.test/</guid><title>Still here</title>'
        b"<link>http://[::1</link></item></channel></rss>"
    )
    (post,) = parse_feed("src", body, base_url=FEED_URL)
    assert post.post_id == "http://example.c[o.test/"
    assert post.url is None
    assert post.title == "Still here"


def test_typepad_escaped_html_inside_an_xhtml_div() -> None:
    # type="html" must not hold elements (RFC 4287 3.1.1.2); TypePad wraps escaped HTML in one.
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>e</id>'
        b'<content type="html"><div xmlns="http://www.w3.org/1999/xhtml">Example '
        b"&lt;b&gt;Atom&lt;/b&gt; &amp;amp; more</div></content></entry></feed>"
    )
    assert parse_feed("src", body)[0].text == "Example Atom & more"


def test_xhtml_text_that_looks_like_markup_stays_text() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>e</id>'
        b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">History of the '
        b"&lt;blink&gt; tag</div></content>"
        b'<title type="text">a &lt;b&gt; c</title></entry></feed>'
    )
    (post,) = parse_feed("src", body)
    assert post.text == "History of the <blink> tag"
    assert post.title == "a <b> c"


def test_rss_items_outside_a_channel_and_full_text_elements() -> None:
    body = (
        b"<rss><item><guid>a</guid><fullitem>&lt;p&gt;Full text&lt;/p&gt;</fullitem></item>"
        b"<item><guid>b</guid><body><p>Body <b>text</b></p></body></item>"
        b"<item><guid>c</guid><summary>Only a summary</summary></item></rss>"
    )
    assert [p.text for p in parse_feed("src", body)] == [
        "Full text",
        "Body text",
        "Only a summary",
    ]


def test_the_itunes_namespace_in_either_spelling() -> None:
    for namespace in (
        b"http://www.itunes.com/dtds/podcast-1.0.dtd",
        b"http://www.itunes.com/DTDs/Podcast-1.0.dtd",
    ):
        body = (
            b'<rss version="2.0" xmlns:itunes="' + namespace + b'"><channel><title>t</title>'
            b"<item><guid>g</guid><itunes:summary>Episode notes</itunes:summary>"
            b"<itunes:author>Host</itunes:author></item></channel></rss>"
        )
        (post,) = parse_feed("src", body)
        assert (post.text, post.author) == ("Episode notes", "Host")


def test_utf8_read_as_latin1_is_undone_on_both_paths() -> None:
    # "CafÃ©" is "Café" encoded twice; feedparser repairs it, so the fast path does too.
    body = (
        "<rss version='2.0'><channel><title>t</title><item><guid>g</guid>"
        "<title>CafÃ© au lait</title><description>Â¡Hola!</description></item></channel></rss>"
    ).encode()
    fast = read_xml_feed(body, None)
    assert fast is not None
    assert build_posts("src", fast, base_url=None) == build_posts(
        "src", read_with_feedparser(body), base_url=None
    )
    (post,) = parse_feed("src", body)
    assert (post.title, post.text) == ("Café au lait", "¡Hola!")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16", "utf-32", "cp500"])
def test_feeds_in_encodings_that_are_not_ascii_compatible(codec: str) -> None:
    # XML 1.0 Appendix F: these start "<?xml" in their own bytes, not in ASCII.
    declared = "ebcdic-cp-us" if codec == "cp500" else codec.removesuffix("-le").removesuffix("-be")
    text = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>g</guid><title>Grüße aus Köln</title></item></channel></rss>"
    )
    (post,) = parse_feed("src", text.encode(codec))
    assert post.title == "Grüße aus Köln"


def test_an_html_doctype_on_a_feed_does_not_make_it_a_page() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
        b'Transitional//EN" "http://site.invalid/"><rss version="2.0"><channel><title>t</title>'
        b"<item><guid>g</guid><title>Found</title></item></channel></rss>"
    )
    assert [p.title for p in parse_feed("src", body)] == ["Found"]
