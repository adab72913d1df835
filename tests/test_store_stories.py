"""Stories in the store, on SQLite and PostgreSQL: which story a new post joins, one alert per
(story, channel), names added to an alert by later copies, and the index surviving a restart."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.model import AlertIntent, Post, SentMessage, SourceState, TopicMatch
from bot.store.database import Store
from bot.store.tables import STORY_PRINT

T0 = datetime(2026, 3, 18, 14, 2, tzinfo=UTC)
ORIGINAL = (
    "Productive call with President Putin. We agreed to an immediate CEASEFIRE on all Energy "
    "and Infrastructure, ending the war between Russia and Ukraine!"
)
MIRROR = (
    "Productive call with President Putin. We agreed to an immediate CEASEFIRE on all Energy "
    "and Infrastructure, ending the war… — Donald J. Trump Posts From His Truth Social"
)
RELAY = "JUST IN: Trump: " + ORIGINAL.lower()


def truth(post_id: str = "101", text: str = ORIGINAL) -> Post:
    return Post(
        source_id="trump-truth",
        post_id=post_id,
        text=text,
        url=f"https://truthsocial.com/@realDonaldTrump/{post_id}",
        author="Donald J. Trump (@realDonaldTrump)",
        published_at=T0,
    )


def x_post(source: str, handle: str, post_id: str, text: str) -> Post:
    return Post(
        source_id=source,
        post_id=post_id,
        text=text,
        url=f"https://x.com/{handle}/status/{post_id}",
        author=f"@{handle}",
        published_at=T0,
    )


def poll(
    store: Store, posts: Sequence[Post], now: datetime, channels: Sequence[str] = ("ceasefire",)
) -> int:
    """Store one poll of `posts` (each matched and routed to `channels`); alerts created."""
    matches = {p.key: [TopicMatch("ukraine-ceasefire", ("ceasefire",))] for p in posts}
    alerts = [
        AlertIntent(p.source_id, p.post_id, c, ("ukraine-ceasefire",))
        for p in posts
        for c in channels
    ]
    state = SourceState(posts[0].source_id, baseline_done=True)
    return store.save_poll(state, posts, matches, alerts, now).alerts


def stories_of(store: Store) -> dict[str, int | None]:
    return {row.id: row.story for row in store.export_posts()}


def test_a_copy_from_another_source_joins_the_story_and_names_its_account(store: Store) -> None:
    assert poll(store, [truth()], T0) == 1
    assert (
        poll(
            store, [x_post("mirror-x", "TrumpDailyPosts", "m1", MIRROR)], T0 + timedelta(minutes=3)
        )
        == 0
    )
    assert (
        poll(store, [x_post("relay-x", "WarMonitor", "r1", RELAY)], T0 + timedelta(minutes=4)) == 0
    )

    [alert] = store.pending_alerts(T0 + timedelta(minutes=5))
    assert alert.post.post_id == "101"
    assert alert.also_posted_by == ("@TrumpDailyPosts (X)", "@WarMonitor (X)")
    stories = stories_of(store)
    assert stories["101"] == stories["m1"] == stories["r1"]


def test_a_sent_alert_gets_one_edit_and_a_copy_after_a_day_changes_nothing(store: Store) -> None:
    poll(store, [truth()], T0)
    [alert] = store.pending_alerts(T0)
    store.record_sent([alert.alert_id], SentMessage(42, "@c", chat_number=-100123), T0)

    poll(store, [x_post("mirror-x", "TrumpDailyPosts", "m1", MIRROR)], T0 + timedelta(minutes=3))
    poll(store, [x_post("relay-x", "WarMonitor", "r1", RELAY)], T0 + timedelta(minutes=3))
    [edit] = store.due_edits(T0 + timedelta(minutes=3))
    assert edit.message_id == 42
    assert edit.item.also_posted_by == ("@TrumpDailyPosts (X)", "@WarMonitor (X)")
    store.record_edited(alert.alert_id, edit.item.also_posted_by, T0 + timedelta(minutes=3))
    assert store.due_edits(T0 + timedelta(hours=1)) == []

    # 25 hours on, still inside the story window: it joins, but neither alerts nor edits.
    late = T0 + timedelta(hours=25)
    assert (
        poll(store, [x_post("late-x", "SlowRelay", "s1", RELAY + " (via @WarMonitor)")], late) == 0
    )
    assert store.due_edits(late + timedelta(minutes=5)) == []
    assert store.pending_alerts(late) == []
    assert stories_of(store)["s1"] == stories_of(store)["101"]


def test_a_copy_after_the_window_starts_a_new_story(store: Store) -> None:
    poll(store, [truth()], T0)
    later = T0 + timedelta(hours=73)
    assert poll(store, [x_post("mirror-x", "TrumpDailyPosts", "m1", MIRROR)], later) == 1
    assert stories_of(store)["m1"] != stories_of(store)["101"]
    # A shorter window is a setting.
    assert store.save_poll(
        SourceState("x2", baseline_done=True),
        [x_post("x2", "Other", "o1", MIRROR)],
        {},
        [],
        later + timedelta(hours=2),
        story_window=timedelta(hours=1),
    ).posts
    assert stories_of(store)["o1"] != stories_of(store)["m1"]


def test_copies_in_one_poll_are_one_story_and_one_alert_per_channel(store: Store) -> None:
    posts = [truth(), x_post("trump-truth", "TrumpDailyPosts", "m1", MIRROR)]
    assert poll(store, posts, T0, channels=("ceasefire", "all")) == 2
    alerts = store.pending_alerts(T0)
    assert sorted(a.channel_id for a in alerts) == ["all", "ceasefire"]
    assert all(a.post.post_id == "101" for a in alerts)
    assert all(a.also_posted_by == ("@TrumpDailyPosts (X)",) for a in alerts)


def test_the_same_account_repeating_itself_is_not_listed_as_another(store: Store) -> None:
    poll(store, [truth("101")], T0)
    poll(store, [truth("102", ORIGINAL + " 🇺🇸")], T0 + timedelta(minutes=1))
    [alert] = store.pending_alerts(T0 + timedelta(minutes=1))
    assert alert.also_posted_by == ()
    assert stories_of(store)["102"] == stories_of(store)["101"]


def test_unrelated_posts_with_the_same_boilerplate_stay_apart(store: Store) -> None:
    footer = "\nRead more at kyivindependent.com\nFollow us on Telegram: t.me/kyivindependent"
    texts = [
        "Russian drones attacked Kharkiv overnight, injuring five people, the governor said.",
        "Zelensky met European leaders in Paris to discuss security guarantees for Ukraine.",
        "Ukraine's parliament extended martial law and general mobilization for 90 days.",
    ]
    posts = [
        x_post("kyiv", "KyivIndependent", f"k{i}", text + footer) for i, text in enumerate(texts)
    ]
    assert poll(store, posts[:1], T0) == 1
    assert poll(store, posts[1:], T0 + timedelta(minutes=10)) == 2
    assert len(set(stories_of(store).values())) == 3


@pytest.mark.parametrize("prints", ["kept", "lost"])
def test_the_index_survives_a_restart(db_url: str, prints: str) -> None:
    first = Store.open(db_url)
    try:
        poll(first, [truth()], T0)
    finally:
        first.close()
    if prints == "lost":  # or of an older FINGERPRINT_VERSION: recomputed from the post
        engine = sa.create_engine(db_url)
        with engine.begin() as connection:
            assert connection.execute(sa.delete(STORY_PRINT)).rowcount == 1
        engine.dispose()
    second = Store.open(db_url)  # a new process: nothing cached
    try:
        mirror = x_post("mirror-x", "TrumpDailyPosts", "m1", MIRROR)
        assert poll(second, [mirror], T0 + timedelta(hours=5)) == 0
        assert len(second.pending_alerts(T0 + timedelta(hours=5))) == 1
    finally:
        second.close()


def test_two_workers_storing_copies_at_once_make_one_story(db_url: str) -> None:
    """Each round, two processes' stores save the original and a copy at the same instant."""
    stores = [Store.open(db_url), Store.open(db_url)]
    try:
        for round_no in range(8):
            now = T0 + timedelta(days=4 * round_no)  # past the window: a new story each round
            text = f"Round {round_no}: " + ORIGINAL
            batches = [
                [truth(f"t{round_no}", text)],
                [x_post("mirror-x", "TrumpDailyPosts", f"m{round_no}", "JUST IN: " + text)],
            ]
            barrier = threading.Barrier(2)
            created: list[int] = []
            threads = [
                threading.Thread(target=_save_together, args=(s, b, now, barrier, created))
                for s, b in zip(stores, batches, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(created) == [0, 1]
            stories = stories_of(stores[0])
            assert stories[f"t{round_no}"] == stories[f"m{round_no}"]
    finally:
        for opened in stores:
            opened.close()


def _save_together(
    store: Store, batch: list[Post], now: datetime, barrier: threading.Barrier, created: list[int]
) -> None:
    barrier.wait()
    created.append(poll(store, batch, now))


def test_stories_lists_members_by_topic_and_size(store: Store) -> None:
    poll(store, [truth()], T0)
    poll(store, [x_post("mirror-x", "TrumpDailyPosts", "m1", MIRROR)], T0 + timedelta(minutes=2))
    other = x_post("news", "Reuters", "n1", "Markets closed higher on strong earnings today.")
    store.save_poll(
        SourceState("news", baseline_done=True), [other], {}, [], T0 + timedelta(minutes=3)
    )

    everything = store.stories(T0 - timedelta(hours=1))
    assert [len(s.members) for s in everything] == [1, 2]  # newest first
    [story] = store.stories(T0 - timedelta(hours=1), min_posts=2)
    assert [m.post.post_id for m in story.members] == ["101", "m1"]
    assert story.members[0].topics == ("ukraine-ceasefire",)
    assert [
        s.story_id for s in store.stories(T0 - timedelta(hours=1), topic_id="ukraine-ceasefire")
    ] == [story.story_id]
    assert store.stories(T0 + timedelta(minutes=1)) == everything[:1]  # first seen after
