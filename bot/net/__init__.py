"""Network: the one polite, capped HTTP client every source fetches through.

- `client`: `HttpClient`: timeouts and an overall deadline per fetch, a User-Agent, conditional
  GET, Retry-After, redirects followed hop by hop.
- `body`: reading a response while streaming, with the decoded-byte cap enforced as it goes.
- `guard`: the private-address guard, applied to the addresses actually connected to.

May import: bot.errors and bot.config.settings (`NetworkSettings`).
"""
