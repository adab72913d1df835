"""The Store's delivery contract on real SQLite and PostgreSQL: the lease, claims, crash
recovery, recording outcomes and latency, channel facts, edit requests, and the migration."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from deliver_helpers import T0, add_alerts

from bot.deliver import holder as leases
from bot.model import SentMessage
from bot.store.database import Store
from bot.store.engine import alembic_config, create_engine, parse_url

TTL = timedelta(seconds=60)


def test_the_lease_has_one_holder_until_it_expires_or_is_released(store: Store) -> None:
    assert store.acquire_lease("a", T0, TTL).held
    refused = store.acquire_lease("b", T0 + timedelta(seconds=30), TTL)
    assert (refused.held, refused.holder) == (False, "a")
    assert store.acquire_lease("a", T0 + timedelta(seconds=30), TTL).held  # renewed
    assert not store.acquire_lease("b", T0 + timedelta(seconds=89), TTL).held
    taken = store.acquire_lease("b", T0 + timedelta(seconds=90), TTL)  # a stopped renewing
    assert (taken.held, taken.previous) == (True, "a")
    assert not store.acquire_lease("a", T0 + timedelta(seconds=91), TTL).held

    store.release_lease("b", T0 + timedelta(seconds=100))  # a clean stop
    assert store.acquire_lease("c", T0 + timedelta(seconds=100), TTL).held


def test_a_holder_known_dead_is_taken_over_before_expiry(store: Store) -> None:
    assert store.acquire_lease("crashed", T0, TTL).held
    lease = store.acquire_lease("next", T0, TTL, is_dead=lambda holder: holder == "crashed")
    assert (lease.held, lease.previous) == (True, "crashed")


def test_only_the_lease_holder_can_claim_alerts(store: Store) -> None:
    add_alerts(store, [1, 2], ["news"], T0)
    ids = [item.alert_id for item in store.pending_alerts(T0)]
    assert store.claim(ids, "nobody", T0) == {}
    store.acquire_lease("me", T0, TTL)
    store.request_edit(ids[0], ["@A (X)"], T0)
    assert store.claim(ids[:1], "me", T0) == {ids[0]: ("@A (X)",)}  # with its names now
    assert store.claim(ids[:1], "me", T0) == {}  # already sending
    assert store.claim(ids[1:], "me", T0 + TTL) == {}  # the lease has expired by then
    assert store.outbox_counts() == {"pending": 1, "sent": 0, "failed": 0, "sending": 1}


def test_alerts_left_sending_by_a_crash_are_resent_then_given_up(store: Store) -> None:
    add_alerts(store, [1], ["news"], T0)
    (item,) = store.pending_alerts(T0)
    store.acquire_lease("me", T0, TTL)
    for crash in range(1, 4):
        assert list(store.claim([item.alert_id], "me", T0)) == [item.alert_id]
        resent, failed = store.recover_sending(T0, max_strikes=3)
        if crash < 3:
            assert (resent, failed) == ([item.alert_id], [])
            (again,) = store.pending_alerts(T0)
            assert again.strikes == crash
        else:
            assert (resent, failed) == ([], [item.alert_id])
    assert store.outbox_counts() == {"pending": 0, "sent": 0, "failed": 1}


def test_sent_records_message_chat_and_latency_from_first_seen(store: Store) -> None:
    add_alerts(store, [1, 2], ["news"], T0)
    first, second = store.pending_alerts(T0)
    sent = SentMessage(2**40, "@news", chat_number=-1001234567890123)  # 64-bit ids
    store.record_sent([first.alert_id, second.alert_id], sent, T0 + timedelta(seconds=2.5))
    stats = store.delivery_stats(T0)
    assert stats.latencies == (2.5, 2.5)
    assert stats.statuses["sent"] == 2


def test_retries_count_attempts_ambiguity_and_strikes(store: Store) -> None:
    add_alerts(store, [1], ["news"], T0)
    (item,) = store.pending_alerts(T0)
    store.record_retry(item.alert_id, "read timeout", T0, ambiguous=True)
    store.record_retry(item.alert_id, "Bad Request", T0 + timedelta(seconds=5), strike=True)
    assert store.pending_alerts(T0) == []  # not due before its backoff
    (again,) = store.pending_alerts(T0 + timedelta(seconds=5))
    assert (again.attempts, again.ambiguous, again.strikes) == (2, 1, 1)
    store.record_failed(item.alert_id, "maybe delivered", T0, uncertain=True)
    assert store.outbox_counts()["uncertain"] == 1


def test_channel_facts_follow_the_configured_chat(store: Store) -> None:
    states = store.channel_states({"news": "-4012345"})
    assert states["news"].chat_number is None
    store.update_channel("news", "-4012345", chat_id=-1009876543210)
    assert store.channel_states({"news": "-4012345"})["news"].chat_number == -1009876543210
    # The operator points the channel elsewhere: what was learned no longer applies.
    assert store.channel_states({"news": "@other"})["news"].chat_number is None


def test_disabling_a_channel_fails_what_waits_for_it_until_restart(store: Store) -> None:
    add_alerts(store, [1, 2], ["news", "markets"], T0)
    store.channel_states({"news": "@news", "markets": "@markets"})
    assert store.disable_channel("news", "@news", "bot was kicked", T0) == 2
    state = store.channel_states({"news": "@news", "markets": "@markets"})["news"]
    assert state.disabled_reason == "bot was kicked"
    assert [i.channel_id for i in store.pending_alerts(T0)] == ["markets", "markets"]
    assert store.enable_channels() == ["news"]
    assert store.channel_states({"news": "@news"})["news"].disabled_reason is None


def test_edit_requests_pending_sent_and_too_old(store: Store) -> None:
    add_alerts(store, [1, 2, 3], ["news"], T0)
    pending, sent, old = store.pending_alerts(T0)
    message = SentMessage(7, "@news", chat_number=-100123)
    store.record_sent([sent.alert_id], message, T0, "message", {sent.alert_id: T0})
    store.record_sent([old.alert_id], message, T0 - timedelta(hours=25))

    store.request_edit(pending.alert_id, ["@A (X)"], T0)
    store.request_edit(sent.alert_id, ["@A (X)"], T0)
    store.request_edit(old.alert_id, ["@A (X)"], T0)
    store.request_edit(sent.alert_id, ["@A (X)", "@B (X)"], T0)  # names merge, in order

    assert store.pending_alerts(T0)[0].also_posted_by == ("@A (X)",)  # shown when first sent
    (due,) = store.due_edits(T0)
    assert (due.item.alert_id, due.message_id, due.chat_number) == (sent.alert_id, 7, -100123)
    assert due.item.also_posted_by == ("@A (X)", "@B (X)")

    store.record_edited(sent.alert_id, due.item.also_posted_by, T0)
    store.request_edit(sent.alert_id, ["@C (X)"], T0 + timedelta(seconds=5))
    assert store.due_edits(T0 + timedelta(seconds=59)) == []  # once a minute at most
    assert len(store.due_edits(T0 + timedelta(seconds=60))) == 1
    assert store.due_edits(T0 + timedelta(hours=25)) == []  # dropped after 24h


def test_names_recorded_while_sending_leave_an_edit_due(store: Store) -> None:
    add_alerts(store, [1], ["news"], T0)
    (item,) = store.pending_alerts(T0)
    store.acquire_lease("me", T0, TTL)
    store.claim([item.alert_id], "me", T0)  # rendered and on the wire without names
    store.request_edit(item.alert_id, ["@Late (X)"], T0)
    store.record_sent([item.alert_id], SentMessage(1, "@news", -1001), T0)
    (due,) = store.due_edits(T0)
    assert due.item.also_posted_by == ("@Late (X)",)


def test_migration_0002_keeps_existing_outbox_rows(db_url: str) -> None:
    config = alembic_config()
    engine = create_engine(parse_url(db_url))  # also makes SQLite's directory
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            sa.text(
                "INSERT INTO post (id, source_id, post_id, text, seen_at) "
                "VALUES (1, 'wire', 'p1', 'ceasefire', :t)"
            ),
            {"t": T0.replace(tzinfo=None)},
        )
        connection.execute(
            sa.text(
                "INSERT INTO outbox (post_pk, channel_id, topic_ids, status, attempts, "
                "next_attempt_at, created_at, status_changed_at) "
                "VALUES (1, 'news', '[]', 'pending', 0, :t, :t, :t)"
            ),
            {"t": T0.replace(tzinfo=None)},
        )
    engine.dispose()
    store = Store.open(db_url)  # upgrades to the newest revision
    try:
        (item,) = store.pending_alerts(T0 + timedelta(days=1))
        assert (item.ambiguous, item.strikes, item.also_posted_by) == (0, 0, ())
    finally:
        store.close()


def test_a_dead_local_process_is_known_dead_and_a_live_one_is_not() -> None:
    me = leases.new_holder()
    machine = me.rsplit("/", 2)[0]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert leases.is_dead(f"{machine}/{child.pid}/abcd1234")
    assert not leases.is_dead(me)  # this process, in use
    assert leases.is_dead(f"{machine}/{me.rsplit('/', 2)[1]}/00000000")  # ours, retired
    assert not leases.is_dead(f"otherhost/boot/4026531836/{child.pid}/abcd1234")
    leases.retire(me)


@pytest.mark.parametrize("holder", ["", "garbage", "a/b/c/notapid/x"])
def test_unreadable_holders_are_never_taken_for_dead(holder: str) -> None:
    assert not leases.is_dead(holder)
