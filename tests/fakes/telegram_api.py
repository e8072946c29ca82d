"""A local fake of the Telegram Bot API for end-to-end tests over real HTTP.

It speaks the Bot API the way python-telegram-bot 22 uses it (see ../shared/telegram-notes.md):
``POST /bot<token>/<method>`` with form-encoded, JSON or multipart parameters, the
``{"ok": true, "result": ...}`` envelope, HTTP status equal to ``error_code`` and the official
server's description strings. It rejects what Telegram rejects, enforces Telegram's flood limits
with real 429 + ``retry_after`` answers, records every call and lets a test inject updates, which
are queued for ``getUpdates`` or POSTed to the webhook.

The module also holds ``FakeApiServer``, the small aiohttp lifecycle shared by the Zalo fakes.

Standalone: ``python -m tests.fakes.telegram_api --port 8081`` (then point ``api_base_url`` at
``http://127.0.0.1:8081/bot``); drive it with ``POST /_fake/push_message`` (JSON body with the
keyword arguments of ``push_message``) and read ``GET /_fake/sent?chat_id=...``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import math
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

DEFAULT_TOKEN = "123456:TEST-TOKEN"
BOT_ID = 123456
BOT_USERNAME = "healthbot_test_bot"
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})
# Telegram delivers these update types only when named in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_UPDATES_PER_CALL = 100
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass
class RecordedCall:
    """One API call as the fake received it."""

    method: str
    params: dict[str, Any]
    time: float
    status: int = 200


class FakeApiServer:
    """aiohttp server on 127.0.0.1 with a free port, call recording and async waiting."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.calls: list[RecordedCall] = []
        self.waiting_polls = 0  # long polls currently held open
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.add_routes(self.app)

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        await self.wake_waiters()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wake_waiters(self) -> None:
        """Wake every coroutine waiting for a change (a call, a send, an update)."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait, without polling, until ``predicate()`` is truthy; return its value."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        return predicate()

    async def long_poll(self, predicate: Callable[[], Any], timeout: float) -> None:
        """Hold a long poll until ``predicate()`` or ``timeout``; visible in ``waiting_polls``."""
        self.waiting_polls += 1
        await self.wake_waiters()
        try:
            await self.wait_until(predicate, timeout)
        except TimeoutError:
            pass
        finally:
            self.waiting_polls -= 1

    async def wait_for_poll(self, timeout: float = 5.0) -> None:
        """Wait until the bot holds a long poll open (so a push is answered, not queued)."""
        await self.wait_until(lambda: self.waiting_polls > 0, timeout)

    async def record(self, method: str, params: dict[str, Any], status: int) -> RecordedCall:
        call = RecordedCall(method, params, time.time(), status)
        self.calls.append(call)
        await self.wake_waiters()
        return call

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for_call(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        await self.wait_until(lambda: len(self.calls_to(method)) >= count, timeout)
        return self.calls_to(method)

    async def post_json(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST a raw JSON body (webhook delivery); status 0 means the bot was unreachable."""
        if self._client is None:
            self._client = ClientSession(timeout=ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS))
        try:
            async with self._client.post(
                url, data=body, headers={"Content-Type": "application/json", **headers}
            ) as resp:
                return resp.status, await resp.text()
        except (TimeoutError, OSError) as exc:
            return 0, repr(exc)


@dataclass
class SentMessage:
    """A message the bot sent, as a test wants to look at it."""

    method: str
    chat_id: int
    message_id: int
    text: str | None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: bool = False
    document: bool = False
    edit_count: int = 0
    deleted: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, flattened row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass
class WebhookDelivery:
    update: dict[str, Any]
    status: int
    body: str
    time: float = field(default_factory=time.time)  # Telegram's last_error_date is this one


JSON_PARAMS = frozenset({
    "reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
    "link_preview_options", "reply_parameters", "media",
})
INT_PARAMS = frozenset({
    "chat_id", "user_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id",
    "cache_time", "max_connections", "from_chat_id",
})
BOOL_PARAMS = frozenset({"drop_pending_updates", "show_alert", "disable_notification"})


def parse_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn PTB's all-strings form values back into JSON values."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if hasattr(value, "filename"):  # multipart upload
            params[key] = {"upload": value.filename, "size": len(value.file.read())}
        elif isinstance(value, str) and key in JSON_PARAMS and value.startswith(("[", "{")):
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise TelegramError(400, f"Bad Request: can't parse {key} JSON object") from None
        elif isinstance(value, str) and key in INT_PARAMS and value.lstrip("-").isdigit():
            params[key] = int(value)
        elif isinstance(value, str) and key in BOOL_PARAMS:
            params[key] = value.lower() == "true"
        else:
            params[key] = value
    return params


# --- What Telegram rejects -------------------------------------------------------------------

MAX_TEXT_LENGTH = 4096  # characters after entity parsing (MessageLimit.MAX_TEXT_LENGTH)
MAX_CAPTION_LENGTH = 1024  # MessageLimit.CAPTION_LENGTH
MAX_CALLBACK_DATA_BYTES = 64  # InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
HTML_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
})
_TAG = re.compile(r"<(/?)([^\s>/]*)([^>]*)>")
_COMMAND_OR_MENTION = re.compile(
    r"(?<!\S)(/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?|@[A-Za-z0-9_]{3,32})"
)


class TelegramError(Exception):
    """An error answer: HTTP status = error_code, official description, optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def plain_text_of(text: str, parse_mode: str | None) -> str:
    """The text a user sees; raises the official 'can't parse entities' errors for bad HTML."""
    if (parse_mode or "").upper() != "HTML":
        return text
    stack: list[str] = []
    pos = 0
    for match in _TAG.finditer(text):
        if "<" in text[pos:match.start()]:
            start = text.index("<", pos)
            raise _entities_error(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
        pos = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        at = _byte_offset(text, match.start())
        if not closing:
            if name not in HTML_TAGS:
                raise _entities_error(f'Unsupported start tag "{name}" at byte offset {at}')
            stack.append(name)
        elif not stack:
            raise _entities_error(f"Unexpected end tag at byte offset {at}")
        elif name and stack[-1] != name:
            raise _entities_error(
                f"Unmatched end tag at byte offset {at}, "
                f'expected "</{stack[-1]}>", found "</{name}>"'
            )
        else:
            stack.pop()
    if "<" in text[pos:]:
        start = text.index("<", pos)
        raise _entities_error(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return html.unescape(_TAG.sub("", text))


def _entities_error(detail: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: can't parse entities: {detail}")


def check_message_text(text: Any, parse_mode: str | None) -> None:
    plain = unicodedata.normalize("NFC", plain_text_of(str(text or ""), parse_mode)).strip()
    if not plain:
        raise TelegramError(400, "Bad Request: message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise TelegramError(400, "Bad Request: message is too long")


def check_caption(caption: Any, parse_mode: str | None) -> None:
    plain = unicodedata.normalize("NFC", plain_text_of(str(caption or ""), parse_mode))
    if len(plain) > MAX_CAPTION_LENGTH:
        raise TelegramError(400, "Bad Request: message caption is too long")


def check_reply_markup(markup: Any) -> None:
    for row in (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")


def command_and_mention_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram computes for /commands and @mentions; offsets in UTF-16 code units."""
    entities = []
    for match in _COMMAND_OR_MENTION.finditer(text):
        offset = len(text[:match.start()].encode("utf-16-le")) // 2
        length = len(match.group(0).encode("utf-16-le")) // 2
        kind = "bot_command" if match.group(0).startswith("/") else "mention"
        entities.append({"type": kind, "offset": offset, "length": length})
    return entities


# --- Flood limits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's flood limits (Bot FAQ); ``scale`` multiplies every rate, e.g. for benchmarks."""

    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    private_per_second: float = 1.0
    private_burst: int = 5  # "short bursts are allowed" before the 1 msg/s limit bites
    scale: float = 1.0


class _Bucket:
    """Token bucket: ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodTracker:
    """Per-chat and overall buckets; answers how long a sender must wait, or 0."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        s = limits.scale
        overall = limits.overall_per_second * s
        self.overall = _Bucket(overall, max(1.0, overall), clock())
        self.chats: dict[int | str, _Bucket] = {}

    def _chat_bucket(self, chat_id: int | str, now: float) -> _Bucket:
        if chat_id not in self.chats:
            s, lim = self.limits.scale, self.limits
            is_group = isinstance(chat_id, str) or chat_id < 0
            self.chats[chat_id] = (
                _Bucket(lim.group_per_minute * s / 60, max(1.0, lim.group_per_minute * s), now)
                if is_group
                else _Bucket(lim.private_per_second * s, max(1.0, lim.private_burst * s), now)
            )
        return self.chats[chat_id]

    def take(self, chat_id: int | str) -> int:
        """Consume one message; return 0 or the retry_after (whole seconds, at least 1)."""
        now = self.clock()
        buckets = (self.overall, self._chat_bucket(chat_id, now))
        wait = max(b.wait_needed(now) for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return 0


def too_many_requests(retry_after: int) -> TelegramError:
    return TelegramError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


# --- Telegram objects ------------------------------------------------------------------------

ADMIN_RIGHTS = dict.fromkeys((
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
), False) | {"can_manage_chat": True, "can_delete_messages": True}
RESTRICTED_RIGHTS = dict.fromkeys((
    "can_change_info", "can_invite_users", "can_pin_messages", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
    "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
    "can_send_voice_notes", "can_edit_tag",
), False) | {"is_member": True, "can_send_messages": False, "until_date": 0}


def user_object(user_id: int, first_name: str = "Test", **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, **extra}


def chat_member(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember of any status with the fields PTB 22 requires for it."""
    member: dict[str, Any] = {"user": user, "status": status}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member |= ADMIN_RIGHTS
    elif status == "restricted":
        member |= RESTRICTED_RIGHTS
    elif status == "kicked":
        member["until_date"] = 0
    return member


# --- The fake server -------------------------------------------------------------------------

SUPERGROUP_ID_BELOW = -1_000_000_000_000  # supergroup/channel ids look like -100xxxxxxxxxx
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class FakeTelegram(FakeApiServer):
    """The Bot API on ``{base_url}/bot<token>/<method>``; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        flood_limits: FloodLimits | None = FloodLimits(),
        flood_clock: Callable[[], float] = time.monotonic,
        strict_chats: bool = False,
        bot_username: str = BOT_USERNAME,
    ) -> None:
        super().__init__(host, port)
        self.token = token
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else BOT_ID
        self.bot_user = {
            "id": bot_id, "is_bot": True, "first_name": "Healthbot", "username": bot_username,
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.flood = FloodTracker(flood_limits, flood_clock) if flood_limits else None
        self.strict_chats = strict_chats
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.deactivated: set[int] = set()
        self.kicked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.admins: dict[int, list[int]] = {}
        self.creators: dict[int, int] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.sent: list[SentMessage] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.allowed_updates: list[str] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self._open_callbacks: set[str] = set()
        self._faults: dict[int | str, list[TelegramError]] = {}
        self._next_message_id: dict[int, int] = {}
        self._next_update_id = 1
        self._poll_generation = 0
        self._stopping = False
        self.revoked = False  # @BotFather /revoke: every call answers 401, nothing is delivered

    @property
    def bot_api_url(self) -> str:
        """What to give python-telegram-bot as ``base_url`` (the token is appended)."""
        return f"{self.base_url}/bot"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_post("/_fake/{action}", self._control)
        app.router.add_get("/_fake/{action}", self._control)

    async def stop(self) -> None:
        self._stopping = True
        await super().stop()

    # -- HTTP plumbing --

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                raw |= await request.json()
            else:
                raw |= dict(await request.post())
        params = raw
        try:
            params = parse_params(raw)
            if request.match_info["token"] != self.token or self.revoked:
                raise TelegramError(401, "Unauthorized")
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise TelegramError(404, "Not Found")
            result = await handler(params)
        except TelegramError as exc:
            await self.record(method, params, exc.code)
            body: dict[str, Any] = {
                "ok": False, "error_code": exc.code, "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)
        await self.record(method, params, 200)
        return web.json_response({"ok": True, "result": result})

    # -- chats and messages --

    def chat_object(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        kind = "supergroup" if chat_id < SUPERGROUP_ID_BELOW else "group"
        return {"id": chat_id, "type": kind, "title": "Test group"}

    def add_chat(self, chat_id: int, chat_type: str | None = None, *, title: str | None = None,
                 first_name: str = "Test") -> dict[str, Any]:
        chat = self.chat_object(chat_id) | ({"type": chat_type} if chat_type else {})
        if chat["type"] == "private":
            chat = {"id": chat_id, "type": "private", "first_name": first_name}
        else:
            chat = {"id": chat_id, "type": chat["type"], "title": title or chat.get("title")}
        self.chats[chat_id] = chat
        return chat

    def _new_message(self, chat_id: int, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": self.chat_object(chat_id), "from": sender, **content}
        self.messages[(chat_id, message_id)] = message
        return message

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise TelegramError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):  # @username: only known chats have one
            raise TelegramError(400, "Bad Request: chat not found")
        return int(chat_id)

    def _reachable(self, chat_id: int) -> None:
        """Raise what Telegram answers for a chat the bot cannot write to."""
        if self._faults.get(chat_id):
            raise self._faults[chat_id].pop(0)
        if chat_id in self.migrated:
            raise TelegramError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                {"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id in self.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.deactivated:
            raise TelegramError(403, "Forbidden: user is deactivated")
        if chat_id in self.kicked:
            kind = self.chat_object(chat_id)["type"]
            raise TelegramError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if self.strict_chats and chat_id not in self.chats:
            raise TelegramError(400, "Bad Request: chat not found")

    def _throttle(self, chat_id: int) -> None:
        if self.flood is not None and (retry_after := self.flood.take(chat_id)):
            raise too_many_requests(retry_after)

    def _replied(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
        target = (params.get("reply_parameters") or {}).get("message_id")
        target = target or params.get("reply_to_message_id")
        replied = self.messages.get((chat_id, int(target))) if target else None
        return {"reply_to_message": replied} if replied else {}

    async def _send(self, method: str, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._reachable(chat_id)
        check_reply_markup(params.get("reply_markup"))
        self._throttle(chat_id)
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) else None
        extra = {"reply_markup": markup} if markup and "inline_keyboard" in markup else {}
        message = self._new_message(chat_id, self.bot_user, **content, **extra,
                                    **self._replied(chat_id, params))
        self.sent.append(SentMessage(
            method=method, chat_id=chat_id, message_id=message["message_id"],
            text=content.get("text"), caption=content.get("caption"),
            parse_mode=params.get("parse_mode"), reply_markup=markup,
            photo="photo" in content, document="document" in content, params=params,
        ))
        return message

    def _file(self, value: Any, kind: str) -> dict[str, Any]:
        size = value.get("size", 0) if isinstance(value, dict) else 0
        unique = f"{kind}{len(self.sent) + 1}"
        return {"file_id": f"AgAC-{unique}", "file_unique_id": unique, "file_size": size}

    # -- Bot API methods (name = _api_<lowercase method>) --

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        self._reachable(self._chat_id(params))
        check_message_text(params.get("text"), params.get("parse_mode"))
        text = plain_text_of(str(params["text"]), params.get("parse_mode"))
        return await self._send("sendMessage", params, text=text)

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file("sendPhoto", "photo", params)

    async def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file("sendDocument", "document", params)

    async def _send_file(self, method: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        self._reachable(self._chat_id(params))
        if not params.get(kind):
            raise TelegramError(400, f"Bad Request: there is no {kind} in the request")
        check_caption(params.get("caption"), params.get("parse_mode"))
        caption = plain_text_of(str(params.get("caption") or ""), params.get("parse_mode"))
        file = self._file(params[kind], kind)
        if kind == "photo":
            content: dict[str, Any] = {"photo": [file | {"width": 800, "height": 600}]}
        else:
            name = params[kind].get("upload") if isinstance(params[kind], dict) else "file"
            content = {"document": file | {"file_name": name}}
        content |= {"caption": caption} if caption else {}
        return await self._send(method, params, **content)

    def _bot_message(self, params: dict[str, Any]) -> tuple[dict[str, Any], SentMessage]:
        chat_id = self._chat_id(params)
        self._reachable(chat_id)
        key = (chat_id, int(params.get("message_id") or 0))
        record = next((s for s in self.sent if (s.chat_id, s.message_id) == key and not s.deleted),
                      None)
        if record is None:
            raise TelegramError(400, "Bad Request: message to edit not found")
        return self.messages[key], record

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message, record = self._bot_message(params)
        check_message_text(params.get("text"), params.get("parse_mode"))
        check_reply_markup(params.get("reply_markup"))
        text = plain_text_of(str(params["text"]), params.get("parse_mode"))
        markup = params.get("reply_markup")
        if text == record.text and markup == record.reply_markup:
            raise TelegramError(400, NOT_MODIFIED)
        record.text, record.reply_markup, record.edit_count = text, markup, record.edit_count + 1
        message["text"] = text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message | {"edit_date": int(time.time())}

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message, record = self._bot_message(params)
        check_reply_markup(params.get("reply_markup"))
        markup = params.get("reply_markup")
        if markup == record.reply_markup:
            raise TelegramError(400, NOT_MODIFIED)
        record.reply_markup, record.edit_count = markup, record.edit_count + 1
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message | {"edit_date": int(time.time())}

    async def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        self._reachable(chat_id)
        key = (chat_id, int(params.get("message_id") or 0))
        if self.messages.pop(key, None) is None:
            raise TelegramError(400, "Bad Request: message to delete not found")
        for record in self.sent:
            if (record.chat_id, record.message_id) == key:
                record.deleted = True
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise TelegramError(400, "Bad Request: query is too old and response timeout "
                                     "expired or query ID is invalid")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    async def _api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        if chat_id in self.migrated or (self.strict_chats and chat_id not in self.chats):
            raise TelegramError(400, "Bad Request: chat not found")
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
             "gifts_from_channels"), False)
        return self.chat_object(chat_id) | {
            "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _status_in(self, chat_id: int, user_id: int) -> str:
        if user_id == self.bot_user["id"]:
            if chat_id in self.kicked:
                return "kicked"
            return "administrator" if user_id in self.admins.get(chat_id, []) else "member"
        if self.creators.get(chat_id) == user_id:
            return "creator"
        return "administrator" if user_id in self.admins.get(chat_id, []) else "member"

    async def _api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        self._reachable(chat_id)
        user_id = int(params.get("user_id") or 0)
        user = self.bot_user if user_id == self.bot_user["id"] else user_object(user_id)
        return chat_member(user, self._status_in(chat_id, user_id))

    async def _api_getchatadministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat_id = self._chat_id(params)
        self._reachable(chat_id)
        if self.chat_object(chat_id)["type"] == "private":
            raise TelegramError(400, "Bad Request: there are no administrators in the private chat")
        ids = ([self.creators[chat_id]] if chat_id in self.creators else []) + self.admins.get(
            chat_id, [])
        return [chat_member(user_object(uid), self._status_in(chat_id, uid)) for uid in ids]

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise TelegramError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = list(commands)
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    async def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def commands_for(self, language_code: str = "", scope: dict[str, Any] | None = None
                     ) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(
            {"scope": scope, "language_code": language_code}), [])

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        if not params.get("url"):
            return await self._api_deletewebhook(params)
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token"),
                        "max_connections": int(params.get("max_connections") or 40)}
        if params.get("allowed_updates") is not None:
            self.allowed_updates = params["allowed_updates"] or None
        await self.wake_waiters()
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False,
                                "pending_update_count": len(self.updates)}
        if self.webhook:
            info |= {"url": self.webhook["url"], "max_connections": self.webhook["max_connections"]}
            failed = [d for d in self.webhook_deliveries if not 200 <= d.status < 300]
            if failed:
                error = f"Wrong response from the webhook: {failed[-1].status}"
                info |= {"last_error_date": int(failed[-1].time), "last_error_message": error}
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        return info

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook:
            raise TelegramError(409, WEBHOOK_ACTIVE)
        if params.get("allowed_updates") is not None:
            self.allowed_updates = params["allowed_updates"] or None
        offset = int(params.get("offset") or 0)
        if offset > 0:  # everything below offset is confirmed
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        timeout = float(params.get("timeout") or 0)
        if not self._deliverable() and timeout > 0:
            await self.long_poll(lambda: self._deliverable() or self._stopping
                                 or self.webhook or generation != self._poll_generation, timeout)
            if generation != self._poll_generation:
                raise TelegramError(409, TERMINATED_BY_OTHER_POLL)
        limit = min(int(params.get("limit") or MAX_UPDATES_PER_CALL), MAX_UPDATES_PER_CALL)
        return self._deliverable()[:limit]

    def _wanted(self, update: dict[str, Any]) -> bool:
        kind = next(k for k in update if k != "update_id")
        return kind in self.allowed_updates if self.allowed_updates else kind not in OPT_IN_UPDATES

    def _deliverable(self) -> list[dict[str, Any]]:
        self.updates = [u for u in self.updates if self._wanted(u)]
        return self.updates

    # -- update injection --

    async def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates, or POST it to the webhook when one is set."""
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        if self.webhook is None or self.revoked:  # a revoked bot's updates are not delivered
            self.updates.append(update)
            await self.wake_waiters()
            return update
        if not self._wanted(update):
            return update
        secret = self.webhook.get("secret_token")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        status, text = await self.post_json(self.webhook["url"], json.dumps(update).encode(),
                                            headers)
        self.webhook_deliveries.append(WebhookDelivery(update, status, text))
        if not 200 <= status < 300:
            self.updates.append(update)  # Telegram keeps it pending and retries later
        await self.wake_waiters()
        return update

    def _chat_for_push(self, chat_id: int, chat_type: str | None, title: str | None,
                       first_name: str) -> dict[str, Any]:
        if chat_id not in self.chats or chat_type or title:
            return self.add_chat(chat_id, chat_type, title=title, first_name=first_name)
        return self.chats[chat_id]

    async def push_message(
        self, chat_id: int, user_id: int, text: str = "", *, chat_type: str | None = None,
        first_name: str = "Test", last_name: str | None = None, username: str | None = None,
        language_code: str | None = "vi", title: str | None = None,
        reply_to_message_id: int | None = None, photo: bool = False,
    ) -> dict[str, Any]:
        """A resident or staff member writes; ``text`` is the caption when ``photo`` is set."""
        self._chat_for_push(chat_id, chat_type, title, first_name)
        if chat_id > 0:
            self.blocked.discard(chat_id)  # one cannot write to a bot one has blocked
        extra = {k: v for k, v in (("last_name", last_name), ("username", username),
                                   ("language_code", language_code)) if v}
        sender = user_object(user_id, first_name, **extra)
        entities = command_and_mention_entities(text)
        content: dict[str, Any] = {}
        if photo:
            content["photo"] = [{"file_id": f"AgAC-in{self._next_update_id}",
                                 "file_unique_id": f"in{self._next_update_id}",
                                 "width": 800, "height": 600, "file_size": 1000}]
            if text:
                content |= {"caption": text}
                content |= {"caption_entities": entities} if entities else {}
        else:
            content["text"] = text
            content |= {"entities": entities} if entities else {}
        replied = self.messages.get((chat_id, reply_to_message_id or 0))
        content |= {"reply_to_message": replied} if replied else {}
        message = self._new_message(chat_id, sender, **content)
        return await self.push_update({"message": message})

    async def push_callback(self, chat_id: int, user_id: int, data: str, message_id: int, *,
                            first_name: str = "Test") -> dict[str, Any]:
        """A tap on an inline button of message ``message_id``."""
        query_id = str(10_000_000 + self._next_update_id)
        self._open_callbacks.add(query_id)
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id, "date": int(time.time()), "chat": self.chat_object(chat_id)}
        return await self.push_update({"callback_query": {
            "id": query_id, "from": user_object(user_id, first_name), "message": message,
            "chat_instance": str(chat_id), "data": data}})

    async def push_my_chat_member(self, chat_id: int, user_id: int, old_status: str,
                                  new_status: str, *, chat_type: str | None = None,
                                  title: str | None = None) -> dict[str, Any]:
        """The bot's own membership changed: added to a group, removed, blocked or unblocked."""
        chat = self._chat_for_push(chat_id, chat_type, title, "Test")
        gone = new_status in ("kicked", "left")
        if chat["type"] == "private":
            (self.blocked.add if gone else self.blocked.discard)(chat_id)
        else:
            (self.kicked.add if gone else self.kicked.discard)(chat_id)
        return await self.push_update({"my_chat_member": {
            "chat": chat, "from": user_object(user_id), "date": int(time.time()),
            "old_chat_member": chat_member(self.bot_user, old_status),
            "new_chat_member": chat_member(self.bot_user, new_status)}})

    async def push_bot_added(self, chat_id: int, user_id: int, *, title: str = "Test group",
                             chat_type: str | None = None) -> list[dict[str, Any]]:
        """Someone adds the bot to a group: Telegram sends my_chat_member and a service message."""
        self.add_chat(chat_id, chat_type, title=title)
        change = await self.push_my_chat_member(chat_id, user_id, "left", "member")
        service = self._new_message(chat_id, user_object(user_id),
                                    new_chat_members=[self.bot_user])
        return [change, await self.push_update({"message": service})]

    async def push_migration(self, old_chat_id: int, new_chat_id: int, user_id: int = 1
                             ) -> list[dict[str, Any]]:
        """A group became a supergroup: both service messages, and old-id sends fail from now."""
        title = self.chat_object(old_chat_id).get("title")
        self.add_chat(new_chat_id, "supergroup", title=title)
        self.migrate_chat(old_chat_id, new_chat_id)
        old = self._new_message(old_chat_id, user_object(user_id), migrate_to_chat_id=new_chat_id)
        new = self._new_message(new_chat_id, user_object(user_id), migrate_from_chat_id=old_chat_id)
        return [await self.push_update({"message": old}), await self.push_update({"message": new})]

    # -- test controls --

    def block_user(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def deactivate_user(self, chat_id: int) -> None:
        self.deactivated.add(chat_id)

    def kick_from(self, chat_id: int) -> None:
        self.kicked.add(chat_id)

    def revoke_token(self) -> None:
        """@BotFather /revoke: the token answers 401 Unauthorized to every call, and Telegram
        stops delivering the bot's updates (they wait, as for a webhook that fails)."""
        self.revoked = True

    def restore_token(self) -> None:
        """The token is accepted again (a transient refusal passed, or the test is done)."""
        self.revoked = False

    def drop_webhook(self) -> None:
        """The webhook is gone on Telegram's side (deleteWebhook by another tool, for one)."""
        self.webhook = None

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        self.migrated[old_chat_id] = new_chat_id

    def set_admins(self, chat_id: int, user_ids: list[int], creator_id: int | None = None) -> None:
        self.admins[chat_id] = list(user_ids)
        if creator_id is not None:
            self.creators[chat_id] = creator_id

    def fail_next(self, chat_id: int, code: int, description: str,
                  parameters: dict[str, Any] | None = None, times: int = 1) -> None:
        """The next ``times`` calls aimed at ``chat_id`` answer this error."""
        error = TelegramError(code, description, parameters)
        self._faults.setdefault(chat_id, []).extend([error] * times)

    def rate_limit_next(self, chat_id: int, retry_after: int, times: int = 1) -> None:
        """The next ``times`` calls aimed at ``chat_id`` answer 429 with ``retry_after``."""
        self._faults.setdefault(chat_id, []).extend([too_many_requests(retry_after)] * times)

    # -- assertions --

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for_sent(self, chat_id: int, count: int = 1, timeout: float = 5.0
                            ) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent to ``chat_id``; return them all."""
        await self.wait_until(lambda: len(self.sent_to(chat_id)) >= count, timeout)
        return self.sent_to(chat_id)

    # -- standalone control API --

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        args = await request.json() if request.can_read_body else {}
        if action in ("push_message", "push_callback", "push_my_chat_member", "push_migration",
                      "push_bot_added"):
            return web.json_response(await getattr(self, action)(**args))
        if action == "sent":
            chat_id = int(request.query["chat_id"])
            return web.json_response([asdict(s) for s in self.sent_to(chat_id)])
        if action == "calls":
            return web.json_response([asdict(c) for c in self.calls], dumps=_dumps)
        raise web.HTTPNotFound()


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def standalone_arguments(description: str, default_port: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    return parser


async def serve_forever(server: FakeApiServer, hint: str) -> None:
    async with server:
        print(f"{type(server).__name__} listening on {server.base_url} ({hint})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = standalone_arguments("Fake Telegram Bot API server for local runs", 8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every flood limit")
    parser.add_argument("--no-flood-limits", action="store_true")
    args = parser.parse_args(argv)
    limits = None if args.no_flood_limits else FloodLimits(scale=args.scale)
    fake = FakeTelegram(args.token, host=args.host, port=args.port, flood_limits=limits)
    try:
        asyncio.run(serve_forever(fake, f"api_base_url = {fake.base_url}/bot"))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
