"""Exit codes of every `postwatch` command, for people, cron and CI alike."""

EXIT_OK = 0
EXIT_CONFIG = 2  # bad usage, an invalid config or query
EXIT_CANNOT_START = 3  # the database cannot be opened
