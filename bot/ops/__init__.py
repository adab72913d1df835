"""Ops: what a deployment watches the running bot by.

- `metrics`: the Prometheus metrics, on a registry of the runtime's own; bounded labels only
  (kind, outcome, status, state: never a source id, a chat or a post's text).
- `probes`: the HTTP endpoint (`metrics.listen`) serving `/metrics`, `/livez` and `/readyz`.

May import: bot.model, bot.errors, bot.config.settings, bot.poll and bot.deliver (for their
reports). The runtime starts the endpoint and records what happens.
"""
