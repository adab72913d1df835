"""The Store's delivery methods: the lease, claiming and recording sends, channel facts, edits
and stats. Mixed into `Store`; each method is one transaction, like the rest of the Store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.model import ChannelState, DeliveryStats, EditItem, Lease, OutboxItem, SentMessage
from bot.store import channels, edits, flood, lease, outbox, stats


class DeliveryStore:
    def _transaction(self) -> AbstractContextManager[Session]:
        raise NotImplementedError  # Store provides it

    # --- the lease ---------------------------------------------------------------------

    def acquire_lease(
        self,
        holder: str,
        now: datetime,
        ttl: timedelta,
        is_dead: Callable[[str], bool] = lambda _holder: False,
        name: str = outbox.DELIVERY_LEASE,
    ) -> Lease:
        """Take or renew the delivery lease; `held` says whether `holder` has it now."""
        with self._transaction() as session:
            return lease.acquire(session, name, holder, now, ttl=ttl, is_dead=is_dead)

    def release_lease(self, holder: str, now: datetime, name: str = outbox.DELIVERY_LEASE) -> None:
        with self._transaction() as session:
            lease.release(session, name, holder, now)

    # --- Telegram's flood waits ----------------------------------------------------------

    def hold_sends(self, scopes: Sequence[str], until: datetime) -> None:
        """Nothing goes to these chats (flood.ALL_CHATS: to any) before `until`."""
        with self._transaction() as session:
            flood.hold(session, scopes, until)

    def flood_holds(self, now: datetime) -> dict[str, datetime]:
        """scope -> until for every hold still running at `now`."""
        with self._transaction() as session:
            return flood.active(session, now)

    # --- what is due -------------------------------------------------------------------

    def due_alerts(
        self, now: datetime, limit: int = 100, exclude: Sequence[str] = ()
    ) -> list[OutboxItem]:
        """Pending alerts due by `now`, oldest first, skipping the channels in `exclude`."""
        with self._transaction() as session:
            return outbox.pending_alerts(session, now, limit, exclude)

    def channel_alerts(self, channel_id: str, now: datetime, limit: int = 1000) -> list[OutboxItem]:
        with self._transaction() as session:
            return outbox.channel_alerts(session, channel_id, now, limit)

    def recent_sends(self, since: datetime) -> list[tuple[str, datetime]]:
        """(channel id, sent_at) of each message sent since `since`, oldest first."""
        with self._transaction() as session:
            return outbox.recent_sends(session, since)

    def backlog(self) -> dict[str, tuple[int, datetime]]:
        """channel id -> (alerts pending or being sent, oldest created_at)."""
        with self._transaction() as session:
            return outbox.backlog(session)

    # --- recording sends -----------------------------------------------------------------

    def claim(
        self, alert_ids: Sequence[int], holder: str, now: datetime
    ) -> dict[int, tuple[str, ...]]:
        """Mark alerts `sending` before their request leaves; only while `holder` holds the
        delivery lease. Returns the claimed ids, each with its also-posted-by names now."""
        with self._transaction() as session:
            return outbox.claim(session, alert_ids, holder, now)

    def record_sent(
        self,
        alert_ids: Sequence[int],
        sent: SentMessage,
        sent_at: datetime,
        delivered_as: str = "message",
        created: Mapping[int, datetime] | None = None,
        *,
        claim_next: Sequence[int] = (),
        holder: str = "",
    ) -> dict[int, tuple[str, ...]]:
        """Telegram answered: the alerts are sent (several for a digest), with their latency
        from `created` (alert id -> created_at; read from the outbox when not given). In the
        same transaction, `claim_next` is claimed for `holder` (see `claim`): one commit per
        message instead of two. Returns what that claimed."""
        with self._transaction() as session:
            outbox.mark_sent(
                session, alert_ids, sent, sent_at, delivered_as=delivered_as, created=created
            )
            if not claim_next:
                return {}
            return outbox.claim(session, claim_next, holder, sent_at)

    def release_claims(self, alert_ids: Sequence[int]) -> None:
        """Claimed alerts whose request never started: pending again, no attempt counted."""
        with self._transaction() as session:
            outbox.release(session, alert_ids)

    def record_retry(
        self,
        alert_ids: int | Sequence[int],
        error: str,
        next_attempt_at: datetime,
        *,
        ambiguous: bool = False,
        strike: bool = False,
    ) -> None:
        with self._transaction() as session:
            outbox.mark_retry(
                session, alert_ids, error, next_attempt_at, ambiguous=ambiguous, strike=strike
            )

    def record_failed(
        self, alert_ids: int | Sequence[int], error: str, now: datetime, *, uncertain: bool = False
    ) -> None:
        """Give up: `failed`, or `uncertain` when the message may have arrived."""
        with self._transaction() as session:
            outbox.mark_failed(
                session, alert_ids, error, now, status="uncertain" if uncertain else "failed"
            )

    def recover_sending(self, now: datetime, max_strikes: int) -> tuple[list[int], list[int]]:
        """Alerts a dead process left `sending`: (queued again, failed after too many)."""
        with self._transaction() as session:
            return outbox.recover_sending(session, now, max_strikes)

    # --- channels ------------------------------------------------------------------------

    def channel_states(self, configured: Mapping[str, str]) -> dict[str, ChannelState]:
        """State of each configured channel (channel id -> configured chat id)."""
        with self._transaction() as session:
            return channels.channel_states(session, configured)

    def update_channel(self, channel_id: str, config_chat: str, **facts: object) -> None:
        """Set facts (chat_id, admins_told_at, last_digest_at) while the chat is unchanged."""
        with self._transaction() as session:
            channels.update(session, channel_id, config_chat, **facts)

    def disable_channel(self, channel_id: str, config_chat: str, reason: str, now: datetime) -> int:
        """The chat takes no messages: disable it and fail what waits for it (how many)."""
        with self._transaction() as session:
            channels.update(
                session, channel_id, config_chat, disabled_reason=reason, disabled_at=now
            )
            return outbox.fail_waiting(session, channel_id, f"channel disabled: {reason}", now)

    def fail_channel_alerts(self, channel_id: str, reason: str, now: datetime) -> int:
        with self._transaction() as session:
            return outbox.fail_waiting(session, channel_id, reason, now)

    def enable_channels(self) -> list[str]:
        """Lift every disable; the channel ids that were disabled."""
        with self._transaction() as session:
            return channels.enable_all(session)

    # --- edits ---------------------------------------------------------------------------

    def request_edit(self, alert_id: int, also_posted_by: Sequence[str], now: datetime) -> None:
        """Record other accounts that carried the alert's story. A pending alert shows them
        when sent; a sent one is edited, at most once a minute, if sent in the last 24h."""
        with self._transaction() as session:
            edits.request_edit(session, alert_id, also_posted_by, now)

    def due_edits(self, now: datetime, limit: int = 100) -> list[EditItem]:
        with self._transaction() as session:
            return edits.due_edits(session, now, limit)

    def record_edited(self, alert_id: int, shown: Sequence[str], now: datetime) -> None:
        with self._transaction() as session:
            edits.mark_edited(session, alert_id, shown, now)

    def defer_edit(self, alert_id: int, until: datetime | None) -> None:
        """Retry an edit at `until`, or drop it (None)."""
        with self._transaction() as session:
            edits.defer_edit(session, alert_id, until)

    # --- stats ---------------------------------------------------------------------------

    def delivery_stats(self, since: datetime) -> DeliveryStats:
        with self._transaction() as session:
            return stats.delivery_stats(session, since)
