"""Stories around the store: the `stories:` config section, who "Also posted by" names, the
`postwatch stories` listing, a piped export cut short, and the upgrade that added stories."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from cli_helpers import write_config

from bot.cli.stories import format_story, list_stories, story_record
from bot.config.build import build_config
from bot.config.settings import StorySettings
from bot.errors import ConfigError
from bot.model import Post, SourceState, StoryMember, StorySummary
from bot.store.database import Store
from bot.store.engine import alembic_config
from bot.stories.carrier import carrier_label
from bot.stories.keys import FINGERPRINT_VERSION, fingerprint

T0 = datetime(2026, 3, 18, 14, 2, tzinfo=UTC)


def document(**extra: Any) -> dict[str, Any]:
    return {
        "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        "topics": [{"id": "t1", "query": "ceasefire"}],
        **extra,
    }


def test_stories_settings_default_and_read() -> None:
    assert build_config(document(), {}).stories == StorySettings(timedelta(hours=72), 0.6)
    config = build_config(document(stories={"window": "12h", "threshold": 0.8}), {})
    assert config.stories == StorySettings(timedelta(hours=12), 0.8)
    assert build_config(document(stories={"threshold": "0.75"}), {}).stories.threshold == 0.75


@pytest.mark.parametrize(
    ("stories", "expected"),
    [
        ({"threshold": 1.5}, "stories.threshold: 1.5 is out of range (expected 0.3 to 1.0)"),
        ({"threshold": "high"}, "stories.threshold: expected a number such as 0.6, got 'high'"),
        ({"threshold": True}, "stories.threshold: expected a number such as 0.6"),
        ({"window": "30s"}, "stories.window: 30s is too short (at least 1m)"),
        ({"window": "90d"}, "stories.window: 90d is too long (at most 30d)"),
        ({"windw": "1h"}, "stories.windw"),
    ],
)
def test_bad_stories_settings_are_reported_with_their_key(
    stories: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build_config(document(stories=stories), {})
    assert any(problem.startswith(expected) for problem in caught.value.problems), caught.value


@pytest.mark.parametrize(
    ("author", "url", "source", "label"),
    [
        ("@TrumpDailyPosts", "https://x.com/TrumpDailyPosts/status/1", "m", "@TrumpDailyPosts (X)"),
        (
            "Donald J. Trump (@realDonaldTrump)",
            "https://truthsocial.com/@r/1",
            "t",
            "@realDonaldTrump (Truth Social)",
        ),
        (
            "Kyiv Independent (@kyivindependent.com)",
            "https://bsky.app/profile/k/post/3",
            "b",
            "@kyivindependent.com (Bluesky)",
        ),
        ("Зеленський", "https://t.me/V_Zelenskiy_official/1", "z", "Зеленський (Telegram)"),
        ("@WarMonitor", "https://nitter.net/WarMonitor/status/9#m", "w", "@WarMonitor (X)"),
        (None, "https://www.whitehouse.gov/briefings/readout", "wh", "wh (whitehouse.gov)"),
        (None, None, "wire", "wire"),
    ],
)
def test_carrier_labels_name_the_account_and_platform(
    author: str | None, url: str | None, source: str, label: str
) -> None:
    assert carrier_label(Post(source, "1", "text", url=url, author=author)) == label


def story() -> StorySummary:
    def member(source: str, author: str, minutes: int, text: str) -> StoryMember:
        post = Post(
            source,
            str(minutes),
            text,
            url=f"https://x.com/{author}/status/{minutes}",
            author=f"@{author}",
        )
        return StoryMember(post, T0 + timedelta(minutes=minutes), ("ukraine-ceasefire",))

    return StorySummary(
        7,
        (
            member("trump-x", "realDonaldTrump", 0, "Productive call with President Putin. " * 8),
            member("mirror-x", "TrumpDailyPosts", 3, "JUST IN: \x1b[31mProductive\x1b[0m call"),
        ),
    )


def test_a_story_prints_its_posts_in_order_with_controls_blanked() -> None:
    text = format_story(story())
    lines = text.splitlines()
    assert lines[0] == (
        "story 7  first seen 2026-03-18 14:02 UTC  2 posts from 2 sources  "
        "topics: ukraine-ceasefire"
    )
    assert lines[1] == "  2026-03-18 14:02  trump-x  @realDonaldTrump (X)"
    assert lines[3].endswith("…") and len(lines[3]) == 4 + 160
    assert "\x1b" not in text
    assert lines[4] == "  2026-03-18 14:05  mirror-x  @TrumpDailyPosts (X)"
    record = story_record(story())
    assert record["story"] == 7 and [p["source"] for p in record["posts"]] == [
        "trump-x",
        "mirror-x",
    ]
    json.dumps(record)  # plain JSON values only


def test_listing_from_the_store(store: Store) -> None:
    out = io.StringIO()
    assert (
        list_stories(store, since=T0, topic_id=None, min_posts=1, limit=5, fmt="text", out=out) == 0
    )
    assert out.getvalue() == "0 stories\n"


def test_a_piped_export_cut_short_exits_quietly(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "postwatch.yaml",
        {**document(), "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}"},
    )
    Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}").close()
    with sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}").begin() as connection:
        connection.execute(  # 400 posts of ~10 KB: far more than a pipe holds
            sa.text(
                "INSERT INTO post (source_id, post_id, text, seen_at) "
                "VALUES ('wire', :n, :text, '2026-03-18 14:02:00')"
            ),
            [{"n": str(n), "text": f"post {n} " + "x" * 10_000} for n in range(400)],
        )
    # `postwatch export | head -1`: the reader goes away after one line.
    export = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None
    export.stdout.readline()
    export.stdout.close()
    _, err = export.communicate(timeout=120)
    assert export.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_the_upgrade_makes_each_stored_post_its_own_story(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    alembic = alembic_config()
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0002")
        for pk in (1, 2):
            connection.execute(
                sa.text(
                    "INSERT INTO post (id, source_id, post_id, text, seen_at) "
                    "VALUES (:pk, 'wire', :pk, 'The same words in both posts, long enough.', :at)"
                ),
                {"pk": pk, "at": "2026-03-18 14:02:00"},
            )
        connection.execute(
            sa.text(
                "INSERT INTO outbox (post_pk, channel_id, topic_ids, status, attempts, "
                "next_attempt_at, created_at, status_changed_at) "
                "VALUES (2, 'news', '[]', 'sent', 1, :at, :at, :at)"
            ),
            {"at": "2026-03-18 14:02:00"},
        )
    engine.dispose()
    store = Store.open(url)
    try:
        stories = {row.id: row.story for row in store.export_posts()}
        assert stories == {"1": 1, "2": 2}
        [summary] = store.stories(T0 - timedelta(days=1), min_posts=1, limit=1)
        assert summary.story_id == 2
    finally:
        store.close()
    with sa.create_engine(url).connect() as connection:
        assert connection.execute(sa.text("SELECT story_id FROM outbox")).scalar_one() == 2


def test_the_upgrade_to_new_keys_lets_copies_find_posts_stored_before_it(tmp_path: Path) -> None:
    """0005: keys of the previous fingerprint version never equal today's; the window's posts
    get theirs rebuilt, so a copy arriving after the upgrade still joins the story."""
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    text = "Energy ceasefire agreed: both sides will halt strikes on power plants for 30 days."
    seen = datetime.now(UTC) - timedelta(hours=1)
    engine = sa.create_engine(url)
    alembic = alembic_config()
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0004")
        connection.execute(
            sa.text(
                "INSERT INTO post (id, source_id, post_id, text, seen_at, story_id) "
                "VALUES (1, 'truth', 'a1', :text, :at, 1)"
            ),
            {"text": text, "at": seen.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
        connection.execute(
            sa.text("INSERT INTO story_key VALUES (12345, :at, 1, 1)"),
            {"at": seen.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
        connection.execute(
            sa.text(
                "INSERT INTO story_print VALUES (1, 2, 'old', '[]', '[]', '[12345]')",
            )
        )
    engine.dispose()
    with Store.open(url) as store, sa.create_engine(url).connect() as connection:
        keys = set(connection.execute(sa.text("SELECT key FROM story_key")).scalars())
        version = connection.execute(sa.text("SELECT version FROM story_print")).scalar_one()
        assert keys == set(fingerprint(Post("truth", "a1", text)).keys)
        assert version == FINGERPRINT_VERSION
        copy = Post("x-mirror", "m1", text)
        store.save_poll(SourceState("x-mirror"), [copy], {}, [], datetime.now(UTC))
        stories = {row.source: row.story for row in store.export_posts()}
    assert stories == {"truth": 1, "x-mirror": 1}
