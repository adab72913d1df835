"""One rooted exception hierarchy; callers catch the level they mean.

    PostwatchError
    ├── ConfigError            the config file is invalid (every problem, with its key path)
    ├── QueryError             a topic query does not parse (message and 1-based column)
    ├── SourceError            one source failed this poll; recorded, the others go on
    │   ├── FetchError         the HTTP exchange failed
    │   │   ├── BlockedAddressError    target resolves to a private/loopback/... address
    │   │   ├── ResponseTooLargeError  body (decoded) exceeded network.max_bytes
    │   │   ├── FetchTimeoutError      connect/read timeout or the overall fetch deadline
    │   │   ├── HttpStatusError        4xx/5xx; carries status and Retry-After seconds
    │   │   └── TransportError         DNS, refused connection, TLS, too many redirects
    │   └── ParseError         the body is not the feed/JSON/page expected (HTML challenge, junk)
    ├── StoreError             the database cannot be reached or migrated
    └── DeliveryError          a notifier could not deliver an alert
        ├── TransientDeliveryError   retry later (429 with retry_after, network trouble)
        │   ├── AmbiguousDeliveryError  the request may have reached Telegram (read timeout, ...)
        │   └── TokenRejectedError      Telegram refused the bot token (401/404 on every call)
        └── PermanentDeliveryError   this message will not go as it is (400 Bad Request)
            ├── ChatMigratedError    the group became a supergroup; carries new_chat_id
            └── ChatUnavailableError the chat refuses every message (bot kicked, chat not found)

Anything outside this tree is a bug and propagates, except at a source's poll boundary
(bot.poll), where it is recorded on that source and logged, and the other sources go on.
"""

from __future__ import annotations


class PostwatchError(Exception):
    """Root of every error postwatch raises on purpose."""


class ConfigError(PostwatchError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class QueryError(PostwatchError):
    def __init__(self, message: str, column: int) -> None:
        self.message = message
        self.column = column  # 1-based
        super().__init__(f"{message} at column {column}")


class SourceError(PostwatchError):
    """A source failed this poll. `retry_after` (seconds), when set, delays its next poll."""

    retry_after: float | None = None


class FetchError(SourceError):
    pass


class BlockedAddressError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class HttpStatusError(FetchError):
    def __init__(self, status: int, url: str, retry_after: float | None = None) -> None:
        self.status = status
        self.url = url
        self.retry_after = retry_after
        super().__init__(f"HTTP {status} from {url}")


class TransportError(FetchError):
    pass


class ParseError(SourceError):
    pass


class StoreError(PostwatchError):
    pass


class DeliveryError(PostwatchError):
    pass


class TransientDeliveryError(DeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class AmbiguousDeliveryError(TransientDeliveryError):
    """The request was sent but no answer came (read/write timeout, connection dropped): the
    message may or may not have been posted. Telegram has no idempotency key to ask."""


class TokenRejectedError(TransientDeliveryError):
    """Telegram refused the bot token. Fatal at start (`run` and `check --online` ask getMe);
    while running it is retried, as a token can be restored without a restart."""


class PermanentDeliveryError(DeliveryError):
    pass


class ChatUnavailableError(PermanentDeliveryError):
    """The chat takes no message at all (403 kicked or blocked, 400 chat not found, no rights)."""


class ChatMigratedError(PermanentDeliveryError):
    """The group was upgraded to a supergroup: sending to `new_chat_id` will work."""

    def __init__(self, message: str, new_chat_id: int) -> None:
        self.new_chat_id = new_chat_id
        super().__init__(message)
