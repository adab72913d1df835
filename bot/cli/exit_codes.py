"""Exit codes of every `postwatch` command, for people, cron and CI alike."""

EXIT_OK = 0
EXIT_CONFIG = 2  # bad usage, an invalid config or query, a bot token Telegram refuses
EXIT_CANNOT_START = 3  # the database cannot be opened
EXIT_SOURCES = 4  # run --once: a source failed, or waits out a backoff and was not polled
EXIT_ALERTS = 5  # run --once: an alert failed, or is still waiting after the run
