"""postwatch: poll public feeds, deduplicate and classify posts, alert Telegram channels."""

__version__ = "0.1.0"
