"""Admin jobs over what the bot has stored: `export` writes posts as JSON Lines or CSV.

May import: bot.model and bot.store. The command line (bot.cli) calls these.
"""
