"""The `postwatch` command line: the argument grammar (`args`), the entry point (`entry`) and
one module per command, each mapping its outcome to an exit code (`exit_codes`). No pipeline
logic lives here: commands call the runtime, the store or a stage and print what they return.

May import anything below it: bot.runtime, bot.admin, bot.store, bot.config and the stages.
Nothing imports bot.cli.
"""

from bot.cli.entry import main

__all__ = ["main"]
