"""A fake Telegram Bot API server on 127.0.0.1, the seam python-telegram-bot designs for tests.

    with FakeTelegram() as telegram:                # or the `fake_telegram` fixture
        bot = Bot(telegram.token, base_url=telegram.base_url)
        telegram.fail_next("sendMessage", error_code=429, retry_after=1)
        ...
        assert [c.text for c in telegram.sent_messages("-100123")] == [...]

Routes /bot<token>/<method> answer like the real API (https://core.telegram.org/bots/api):
JSON, form-encoded or multipart parameters in; `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": ..., "description": ..., "parameters": ...}` out, with the error
code as HTTP status. Texts are checked as Telegram checks them (telegram_rules), so a
renderer bug fails here as it would in production; flood limits are enforced on request.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from fakes import ThreadedServer
from fakes.telegram_rules import ApiError, Limits, RateLimiter, check_text

TOKEN = "123456789:AAH-fake-token-for-tests-only_0123456"  # the shape of a real token, not one
BOT_ID = 123456789

KICKED = "Forbidden: bot was kicked from the channel chat"
CHAT_NOT_FOUND = "Bad Request: chat not found"
CANT_PARSE = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
_DESCRIPTIONS = {
    400: CHAT_NOT_FOUND,
    401: "Unauthorized",
    403: KICKED,
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_SENDS = ("sendMessage", "sendPhoto")
_GIFT_TYPES = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
_GIFT_TYPES += ("gifts_from_channels",)  # required by python-telegram-bot 22.6+


@dataclass(frozen=True)
class Call:
    method: str
    chat_id: str | None
    params: dict[str, Any]
    at: float  # the server clock
    status: int  # HTTP status answered; 0 when the connection was dropped
    message_id: int | None = None

    @property
    def text(self) -> str | None:
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None


@dataclass
class _Fault:
    error_code: int = 0
    description: str = ""
    parameters: dict[str, int] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    # Handle the call as usual (a message is posted), then answer this instead of Telegram's
    # answer: what a proxy, a load balancer or a Telegram incident puts between us.
    garbled: tuple[int, bytes, str] | None = None


class FakeTelegram(ThreadedServer):
    def __init__(
        self,
        token: str = TOKEN,
        *,
        enforce_limits: bool = False,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        super().__init__(app)
        self.token = token
        self.enforce_limits = enforce_limits
        self._limiter = RateLimiter(limits or Limits())
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._last_ids: dict[str, int] = defaultdict(int)
        self._photos: set[tuple[str, int]] = set()  # (chat, message id) sent as photos
        self._usernames: dict[str, int] = {}
        self._throttled = 0
        self._updates: list[dict[str, Any]] = []  # what getUpdates hands out, by update_id
        self.members: dict[tuple[str, int], str] = {}  # (chat, user id) -> getChatMember status

    @property
    def base_url(self) -> str:
        return f"{self.origin()}/bot"

    # --- what tests read ---------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def sent_messages(self, chat_id: str | None = None) -> list[Call]:
        """Messages Telegram accepted (sendMessage and sendPhoto answered 200), in order."""
        return [
            c
            for c in self.calls()
            if c.method in _SENDS and c.status == 200 and (chat_id is None or c.chat_id == chat_id)
        ]

    @property
    def throttled(self) -> int:
        """How many 429s the limit enforcer answered (programmed failures not included)."""
        with self._lock:
            return self._throttled

    # --- what tests program ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        n: int = 1,
        error_code: int = 429,
        *,
        retry_after: int = 2,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer the next `n` calls of `method` with an error, as Telegram words it."""
        parameters: dict[str, int] = {}
        if migrate_to_chat_id is not None:
            error_code, parameters = 400, {"migrate_to_chat_id": migrate_to_chat_id}
            description = description or MIGRATED
        elif error_code == 429:
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        fault = _Fault(
            error_code, description or _DESCRIPTIONS.get(error_code, "Error"), parameters
        )
        self._program(method, n, fault)

    def drop_next(self, method: str, n: int = 1) -> None:
        """Close the connection without answering the next `n` calls of `method`."""
        self._program(method, n, _Fault(drop=True))

    def garble_next(
        self,
        method: str,
        n: int = 1,
        *,
        status: int = 200,
        body: bytes = b"<html><body>upstream answered</body></html>",
        content_type: str = "text/html",
    ) -> None:
        """Post the next `n` calls of `method` as usual, but answer `status` with `body`."""
        self._program(method, n, _Fault(garbled=(status, body, content_type)))

    def delay_next(self, method: str, seconds: float, n: int = 1) -> None:
        """Answer the next `n` calls of `method` normally, but only after `seconds`."""
        self._program(method, n, _Fault(delay=seconds))

    # --- updates, as users would send them -------------------------------------------------

    def push_message(
        self,
        user_id: int | None,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        date: float | None = None,
        edited: bool = False,
        sender_chat: int | None = None,
    ) -> int:
        """Queue a message (or an edit of one) from `user_id` for getUpdates; its update id."""
        chat = chat_id if chat_id is not None else (user_id or -1001)
        message: dict[str, Any] = {
            "message_id": len(self._updates) + 1,
            "date": int(date if date is not None else time.time()),
            "chat": {"id": chat, "type": chat_type, **({} if chat > 0 else {"title": "A group"})},
            "text": text,
        }
        if user_id is not None:
            message["from"] = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        if sender_chat is not None:
            message["sender_chat"] = {"id": sender_chat, "type": "channel", "title": "A channel"}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if edited:
            message["edit_date"] = int(time.time())
        return self._push({"edited_message" if edited else "message": message})

    def push_button(
        self,
        user_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        message_date: float | None = None,
    ) -> int:
        """Queue a press of an inline button carrying `data`, on a message of the bot's."""
        chat = chat_id if chat_id is not None else user_id
        message = {
            "message_id": 1,
            "date": int(message_date if message_date is not None else time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
            "text": "…",
        }
        query = {
            "id": f"q{len(self._updates) + 1}",
            "from": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
            "chat_instance": "1",
            "message": message,
            "data": data,
        }
        return self._push({"callback_query": query})

    def _push(self, update: dict[str, Any]) -> int:
        with self._lock:
            update_id = len(self._updates) + 1
            self._updates.append({"update_id": update_id, **update})
            return update_id

    def _program(self, method: str, n: int, fault: _Fault) -> None:
        with self._lock:
            self._faults[method].extend(fault for _ in range(n))

    # --- the server --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _parameters(request)
        chat_id = str(params["chat_id"]) if "chat_id" in params else None
        with self._lock:
            fault = self._faults[method].popleft() if self._faults[method] else None
        if fault and fault.delay:
            await asyncio.sleep(fault.delay)
        if method == "getUpdates":  # a long poll: hold it a little, so pollers do not spin
            await asyncio.sleep(min(float(params.get("timeout") or 0), 0.5))
        if fault and fault.drop:
            self._record(method, chat_id, params, 0)
            assert request.transport is not None
            request.transport.abort()
            return web.Response()  # never written: the connection is gone
        if fault and fault.error_code:
            self._record(method, chat_id, params, fault.error_code)
            return _error(fault.error_code, fault.description, fault.parameters)
        status, body = self._answer(method, chat_id, params)
        if fault and fault.garbled:
            code, raw, content_type = fault.garbled
            return web.Response(status=code, body=raw, content_type=content_type)
        return web.json_response(body, status=status)

    def _answer(
        self, method: str, chat_id: str | None, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if method in _SENDS and chat_id is not None and self.enforce_limits:
                wait = self._limiter.admit(chat_id, self._clock())
                if wait is not None:
                    self._throttled += 1
                    self._record_locked(method, chat_id, params, 429)
                    return _error_body(429, f"Too Many Requests: retry after {wait}", wait)
            try:
                result = self._result(method, chat_id, params)
            except ApiError as exc:
                self._record_locked(method, chat_id, params, exc.code)
                return _error_body(exc.code, exc.description)
            message_id = result.get("message_id") if isinstance(result, dict) else None
            self._record_locked(method, chat_id, params, 200, message_id)
            return 200, {"ok": True, "result": result}

    def _result(self, method: str, chat_id: str | None, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self._bot_user()
        if method in ("deleteWebhook", "setMyCommands", "deleteMyCommands"):
            return True
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            return [u for u in self._updates if u["update_id"] >= offset]
        if method == "answerCallbackQuery":
            return True
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if method == "getChatMember":
            status = self.members.get((chat_id, int(params.get("user_id", 0))), "left")
            user = {"id": int(params.get("user_id", 0)), "is_bot": False, "first_name": "Member"}
            if status == "administrator":
                return {
                    "status": status,
                    "user": user,
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_messages": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            return {"status": status, "user": user}
        if method == "getChat":
            return {
                **self._chat(chat_id),
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": dict.fromkeys(_GIFT_TYPES, False),
            }
        if method == "sendMessage":
            return self._message(chat_id, check_text(params, "text"))
        if method == "sendPhoto":
            caption = check_text(params, "caption") if params.get("caption") else None
            message = self._message(chat_id, None)
            message["photo"] = [
                {
                    "file_id": f"photo-{message['message_id']}",
                    "file_unique_id": f"u{message['message_id']}",
                    "width": 640,
                    "height": 480,
                }
            ]
            if caption is not None:
                message["caption"] = caption
            self._photos.add((self._chat_key(chat_id), message["message_id"]))
            return message
        if method in ("editMessageText", "editMessageCaption"):
            return self._edit(method, chat_id, params)
        raise ApiError(404, "Not Found")

    def _edit(self, method: str, chat_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Telegram's answers: a text message has no caption to edit, a photo no text."""
        message_id = int(params.get("message_id", 0))
        if not 0 < message_id <= self._last_ids[self._chat_key(chat_id)]:
            raise ApiError(400, "Bad Request: message to edit not found")
        photo = (self._chat_key(chat_id), message_id) in self._photos
        if method == "editMessageText":
            if photo:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            text = check_text(params, "text")
            return {**self._message(chat_id, text, message_id), "edit_date": int(time.time())}
        if not photo:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        message = self._message(chat_id, None, message_id)
        message["caption"] = check_text(params, "caption")
        return {**message, "edit_date": int(time.time())}

    def _record(self, *args: Any) -> None:
        with self._lock:
            self._record_locked(*args)

    def _record_locked(
        self,
        method: str,
        chat_id: str | None,
        params: dict[str, Any],
        status: int,
        message_id: int | None = None,
    ) -> None:
        self._calls.append(Call(method, chat_id, params, self._clock(), status, message_id))

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "postwatch (fake)",
            "username": "postwatch_fake_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _chat_key(self, chat_id: str) -> str:
        if chat_id.startswith("@"):
            number = self._usernames.setdefault(chat_id, -1001000000000 - len(self._usernames))
            return str(number)
        return chat_id

    def _chat(self, chat_id: str) -> dict[str, Any]:
        key = int(self._chat_key(chat_id))
        if key > 0:
            return {"id": key, "type": "private", "first_name": "Test user"}
        chat: dict[str, Any] = {"id": key, "type": "channel", "title": f"Channel {key}"}
        if chat_id.startswith("@"):
            chat["username"] = chat_id[1:]
        return chat

    def _message(
        self, chat_id: str, text: str | None, message_id: int | None = None
    ) -> dict[str, Any]:
        if message_id is None:
            key = self._chat_key(chat_id)
            self._last_ids[key] += 1
            message_id = self._last_ids[key]
        chat = self._chat(chat_id)
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        if chat["type"] == "private":
            message["from"] = self._bot_user()
        if text is not None:
            message["text"] = text
        return message


async def _parameters(request: web.Request) -> dict[str, Any]:
    """Parameters as the Bot API takes them: query string, JSON body, or form fields (whose
    object and array values are JSON, as python-telegram-bot sends them)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[name] = f"<file {value.filename}>"
            elif value.startswith(("{", "[")):
                params[name] = json.loads(value)
            else:
                params[name] = value
    return params


def _error_body(
    code: int, description: str, retry_after: int | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return code, body


def _error(code: int, description: str, parameters: dict[str, int] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
