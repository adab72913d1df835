"""Sources: one adapter module per kind, and the registry (`registry.ADAPTERS`) with one line
per kind.

Each adapter pairs a pure `parse_...` function (bytes in, Posts out; golden-file tested) with a
thin async `fetch` that builds the requests through the shared HttpClient and returns the next
SourceState. Adding a kind is one file and one line in ADAPTERS. Anything an adapter cannot
read raises a SourceError (bot.errors), which the poll records against that source alone.

May import: bot.model, bot.errors, bot.config.settings and bot.config.addresses (what a source
is configured with), bot.net (the one HTTP client). Never the config builders.
"""
