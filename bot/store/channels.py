"""Session-first queries for what delivery learns about channels: the resolved 64-bit chat id,
a migration to a supergroup, being disabled (bot kicked), admins told, the last digest.

Facts are kept per configured chat: when a channel's `chat_id` changes in the config, its row
starts afresh, because they were facts about another chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import ChannelState
from bot.store.queries import clip_error, dialect_insert
from bot.store.tables import CHANNEL


def channel_states(session: Session, configured: Mapping[str, str]) -> dict[str, ChannelState]:
    """State of each configured channel (channel id -> its configured chat id); rows of
    channels whose chat id changed are reset first."""
    rows = {row.channel_id: row for row in session.execute(sa.select(CHANNEL))}
    states: dict[str, ChannelState] = {}
    for channel_id, config_chat in configured.items():
        row = rows.get(channel_id)
        if row is None or row.config_chat != config_chat:
            _reset(session, channel_id, config_chat)
            states[channel_id] = ChannelState(channel_id, config_chat)
        else:
            states[channel_id] = _state(row)
    return states


def all_states(session: Session) -> list[ChannelState]:
    return [
        _state(row) for row in session.execute(sa.select(CHANNEL).order_by(CHANNEL.c.channel_id))
    ]


def _reset(session: Session, channel_id: str, config_chat: str) -> None:
    values = {
        "config_chat": config_chat,
        "chat_id": None,
        "disabled_reason": None,
        "disabled_at": None,
        "admins_told_at": None,
        "last_digest_at": None,
    }
    stmt = dialect_insert(session, CHANNEL).values(channel_id=channel_id, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["channel_id"], set_=values))


def update(session: Session, channel_id: str, config_chat: str, **values: Any) -> None:
    """Set facts about `channel_id`, only while it still points at `config_chat`."""
    if "disabled_reason" in values:
        values["disabled_reason"] = clip_error(values["disabled_reason"])
    session.execute(
        sa.update(CHANNEL)
        .where(CHANNEL.c.channel_id == channel_id, CHANNEL.c.config_chat == config_chat)
        .values(**values)
    )


def enable_all(session: Session) -> list[str]:
    """Lift every disable (at start: the operator may have re-added the bot); their ids."""
    disabled = list(
        session.execute(
            sa.select(CHANNEL.c.channel_id).where(CHANNEL.c.disabled_at.is_not(None))
        ).scalars()
    )
    if disabled:
        session.execute(
            sa.update(CHANNEL)
            .where(CHANNEL.c.channel_id.in_(disabled))
            .values(disabled_reason=None, disabled_at=None)
        )
    return disabled


def _state(row: sa.Row[Any]) -> ChannelState:
    return ChannelState(
        channel_id=row.channel_id,
        config_chat=row.config_chat,
        chat_number=row.chat_id,
        disabled_reason=row.disabled_reason,
        disabled_at=row.disabled_at,
        admins_told_at=row.admins_told_at,
        last_digest_at=row.last_digest_at,
    )
