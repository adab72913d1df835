"""Classify: which tracked topics a post matches. Pure: no I/O, no clock, no config loading.

- `text`: the one text folding (case, Unicode form, accents, scripts) and word splitting.
- `lexer`, `query`: the topic query language, parsed to a tree with column-accurate errors.
- `evaluate`: one query tested against one post; `lang`: language detection for `lang:`.
- `watchlist`: every topic compiled into one `Watchlist` that matches a post against all of
  them at once, and the spans of matched words for highlighting.

May import: bot.model and bot.errors only.
"""
