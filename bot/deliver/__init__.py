"""Deliver: the outbox drained to Telegram, once, paced, oldest first, as its own loop.

outbox → `planner` (what goes next: single alerts, digests, edits, notices) → `pacing`
(Telegram's limits kept before Telegram says so) → `render` and `digest` (valid HTML within
Telegram's lengths) → `send` (one request and what each answer does to the outbox) → record.
`notes` sends what is not a new alert (edits, the admins' notice); `plan` holds the units of
work and their pure helpers; `lease` and `holder` keep one delivering process per database;
`loop` is the `Deliverer` that runs it all.

May import: bot.model, bot.errors, bot.config.settings, bot.store, bot.notify and
bot.classify.watchlist (matched-word highlighting). Never bot.poll or the sources.
"""
