"""Admin jobs over what the bot stores and watches: `export` writes posts as JSON Lines or CSV;
`opml` reads and writes feed readers' subscription lists, `sources_import` checks them.

May import: bot.model, bot.errors, bot.config, bot.net.addresses and bot.store. The command line
(bot.cli) calls these.
"""
