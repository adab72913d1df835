"""Runtime: the wiring of a running bot.

- `core`: the `Runtime` built from a Config (store, HTTP client, notifier, watchlist, clock).
- `jobs`: APScheduler interval jobs, one per source and per digest channel, and the delivery
  loop beside them.
- `reload`: SIGHUP re-reads the config and swaps it in whole, or changes nothing.
- `run`: `run_once` and `run_until_stopped`, with the graceful stop.

May import: bot.poll, bot.deliver and everything below them. Only bot.cli imports it.
"""
