"""Fuzzing the Telegram adapter: the golden t.me/s page cut, duplicated and spliced with the
widget's own markup, and pages of message blocks built from random snippets, through the parse
function and through story fingerprinting (the check is in social_fuzzing.py).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from social_fuzzing import DATA, NASTY, TEXT, check, telegram

PAGE = (DATA / "telegram_kinds.html").read_text()
CLASSES = [
    "tgme_widget_message",
    "tgme_widget_message_text",
    "tgme_widget_message_reply",
    "tgme_widget_message_poll_question",
    "tgme_widget_message_poll_option_text",
    "tgme_widget_message_link_preview",
    "link_preview_title",
    "tgme_widget_message_forwarded_from_name",
    "tgme_widget_message_photo_wrap",
    "tgme_widget_message_video_thumb",
    "service_message",
]
SNIPPET = st.one_of(
    TEXT,
    st.builds(
        lambda tag, cls, attr, value: f'<{tag} class="{cls}" {attr}="{value}">',
        st.sampled_from(["div", "a", "i", "span", "time", "b"]),
        st.sampled_from(CLASSES),
        st.sampled_from(["href", "style", "data-post", "datetime"]),
        st.one_of(
            NASTY,
            st.sampled_from(
                [
                    "frontlinewire/99",
                    "https://t.me/other/1",
                    "background-image:url('//x')",
                    "background-image:url(''",
                    "background-image:url('javascript:x')",
                    "/1",
                ]
            ),
        ),
    ),
    st.sampled_from(["</div>", "</a>", "<br>", "<!--", "]]>", "<![CDATA[", "&nbsp;"]),
)


@st.composite
def mutated_page(draw: st.DrawFn) -> bytes:
    page = PAGE
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.integers(0, len(page)))
        end = draw(st.integers(start, min(len(page), start + 400)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            page = page[:start] + page[end:]
        elif action == "insert":
            page = page[:start] + draw(SNIPPET) + page[start:]
        else:
            page = page[:start] + page[start:end] * 2 + page[end:]
    body = page.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return body


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_page())
def test_mutated_telegram_pages(body: bytes) -> None:
    check(telegram, body)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(SNIPPET, max_size=8).map("".join), min_size=1, max_size=5))
def test_pages_of_random_messages(messages: list[str]) -> None:
    """Message blocks built from the widget's own classes in random order and nesting."""
    blocks = "".join(
        f'<div class="tgme_widget_message" data-post="frontlinewire/{n}">{inner}</div>'
        for n, inner in enumerate(messages, start=1)
    )
    page = f"<html><body><section>{blocks}</section></body></html>"
    check(telegram, page.encode("utf-8", "surrogatepass"))
