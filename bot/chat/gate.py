"""The one gate every update passes: commands, button presses, edited messages, channel posts.

Decisions are by numeric user id only. Usernames change hands and chat titles are anyone's to
write, so neither ever grants anything. Telegram's own stand-ins never act as a person:
GroupAnonymousBot (an anonymous group admin), the service account 777000 (channel posts
forwarded into a linked group) and any message sent as a chat (`sender_chat`).

    decision = gate.decide(incoming, now)      # Decision(allowed=..., role=..., reply=...)

Things that go wrong, decided here too:
- After downtime Telegram hands over up to 24 hours of pending updates: a command that would
  change something and was sent more than STALE_AFTER ago is refused, saying when it was sent.
- An edited message never changes anything (editing "/unwatch x" into "/unwatch y" must not
  act twice).
- A button on a message older than BUTTON_LIFETIME answers that it has expired.
- Strangers get one polite refusal a minute at most, however many updates they send.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.log import RepeatLimiter

GROUP_ANONYMOUS_BOT = 1087968824  # https://core.telegram.org/bots/api#message: anonymous admins
TELEGRAM_SERVICE = 777000  # posts a linked channel forwards into its discussion group
STALE_AFTER = timedelta(minutes=10)
BUTTON_LIFETIME = timedelta(hours=48)
REFUSAL_EVERY = timedelta(minutes=1)


class Role(enum.IntEnum):
    """What a user may do; each role may do what the ones below it may."""

    NOBODY = 0
    SUBSCRIBER = 1
    OPERATOR = 2
    ADMIN = 3


class Openness(enum.Enum):
    """`telegram.subscribers`: who may subscribe in a private chat."""

    OPEN = "open"  # anyone
    INVITE = "invite"  # only through an invite deep link an operator made
    CLOSED = "closed"  # nobody but operators


@dataclass(frozen=True, slots=True)
class Incoming:
    """What the gate needs of an update, as plain values (the runtime reads them off PTB's)."""

    user_id: int | None  # the sender; None for channel posts and messages sent as a chat
    chat_id: int
    private: bool  # a private chat with the bot
    sent_at: datetime  # the message's date (a button's: the message the button is on)
    command: str | None = None  # "/watch" → "watch"; None for buttons and plain text
    mutating: bool = False  # the command or button changes something
    required: Role = Role.SUBSCRIBER
    edited: bool = False  # an edited message
    button: bool = False  # a callback query
    sender_chat: bool = False  # sent on behalf of a chat, not a person
    invited: bool = False  # arrived through an operator's invite link


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    role: Role
    reply: str | None = None  # what to answer instead (None: say nothing)


class Gate:
    def __init__(
        self,
        admins: Collection[int],
        operators: Collection[int] = (),
        subscribers: Openness = Openness.OPEN,
    ) -> None:
        self.admins = frozenset(admins)
        self.operators = frozenset(operators)  # granted from chat, stored; the runtime keeps this
        self.subscribers = subscribers
        self._refusals = RepeatLimiter(every=REFUSAL_EVERY)

    def role_of(self, incoming: Incoming) -> Role:
        """The sender's role, by numeric id alone."""
        user = incoming.user_id
        if user is None or incoming.sender_chat or user in (GROUP_ANONYMOUS_BOT, TELEGRAM_SERVICE):
            return Role.NOBODY
        if user in self.admins:
            return Role.ADMIN
        if user in self.operators:
            return Role.OPERATOR
        if not incoming.private:
            return Role.NOBODY  # subscribing happens in a private chat only
        if self.subscribers is Openness.OPEN or (
            self.subscribers is Openness.INVITE and incoming.invited
        ):
            return Role.SUBSCRIBER
        return Role.NOBODY

    def decide(self, incoming: Incoming, now: datetime) -> Decision:
        role = self.role_of(incoming)
        if role < incoming.required:
            return Decision(False, role, self._refusal(incoming, role, now))
        if incoming.button and now - incoming.sent_at > BUTTON_LIFETIME:
            return Decision(False, role, "This button has expired; send the command again.")
        if incoming.mutating and incoming.edited:
            return Decision(False, role, None)  # an edit never acts; the original did, or not
        if incoming.mutating and now - incoming.sent_at > STALE_AFTER:
            return Decision(
                False,
                role,
                f"This command was sent at {incoming.sent_at:%H:%M} UTC while I was offline; "
                "send it again if you still want it.",
            )
        return Decision(True, role)

    def _refusal(self, incoming: Incoming, role: Role, now: datetime) -> str | None:
        """One polite answer a minute per user; silence in groups, where others would see it."""
        if not incoming.private or incoming.user_id is None:
            return None
        if not self._refusals.due(incoming.user_id, now):
            return None
        if role is Role.NOBODY:
            return "Sorry, this bot does not take commands from you."
        return "Sorry, only the bot's operators may do that."
