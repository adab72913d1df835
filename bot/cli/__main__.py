"""`python -m bot.cli`: the `postwatch` command."""

import sys

from bot.cli.entry import main

sys.exit(main())
