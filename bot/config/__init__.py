"""Config: a YAML file → one validated, frozen `Config`, every problem reported with its key path.

- `settings`: the frozen types every stage is handed (`Config`, `SourceConfig`, `Secret`, ...).
- `load`: reading the file (`resolve_config_path`, `load_config`), YAML syntax and duplicate keys.
- `build`: the document → `Config`; per area: `sources`, `delivery`; the reads that record
  problems (`section`) and the value grammar: durations, sizes, `${VAR}` (`values`).
- `addresses`: what a source's address names (a Mastodon profile URL, Bluesky's API), shared
  with the adapters so both read it one way.

May import: bot.model, bot.errors, and bot.classify to check topic queries. Never the source
adapters, the network, the store or anything above them.
"""
