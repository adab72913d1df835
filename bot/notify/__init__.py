"""Notify: how one message reaches a chat. `base`: the `Notifier` protocol, its options and
the console notifier (no token set); `telegram`: python-telegram-bot's Bot behind it; `errors`:
Telegram's answers mapped onto bot.errors' delivery errors (transient, ambiguous, permanent).

May import: bot.model, bot.errors and bot.config.settings (`Secret`).
"""
