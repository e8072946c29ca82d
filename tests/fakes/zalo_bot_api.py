"""A local fake of the Zalo Bot Platform API (../shared/zalo-api.md section 1) over real HTTP.

``POST /bot<token>/<method>`` with a JSON body; ``{"ok": true, "result": ...}`` on success and
``{"ok": false, "error_code": N, "description": "..."}`` on failure (HTTP status = error_code, as
the PTB-derived clients expect; Zalo's real statuses are undocumented). ``getUpdates`` returns ONE
update per call, has no offsets (a returned update is gone) and answers error 408 when nothing
arrived within ``timeout``. Updates pushed by a test go to the getUpdates queue, or to the
webhook with ``X-Bot-Api-Secret-Token``, as the documented wrapped body or the observed flat one.

Description strings marked [I] in the README are our own wording: Zalo does not document them.

Standalone: ``python -m tests.fakes.zalo_bot_api --port 8082``; drive it with
``POST /_fake/push_text`` (JSON: user_id, text, display_name) and ``GET /_fake/sent?chat_id=``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes.telegram_api import FakeApiServer, serve_forever, standalone_arguments

DEFAULT_TOKEN = "1234567890123456789:fake-zalo-bot-secret"
MAX_TEXT_LENGTH = 2000  # text and caption, zalo-api.md 1.2
SECRET_TOKEN_LENGTH = range(8, 257)  # setWebhook secret_token: 8-256 characters
DEFAULT_POLL_TIMEOUT = 30.0
WEBHOOK_SECRET_HEADER = "X-Bot-Api-Secret-Token"
BodyMode = Literal["wrapped", "flat"]


class ZaloBotError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class ZaloSent:
    """Something the bot sent to a chat."""

    method: str
    chat_id: str
    message_id: str
    text: str | None = None
    photo: str | None = None
    caption: str | None = None
    sticker: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ZaloWebhookDelivery:
    update: dict[str, Any]
    body_mode: str
    status: int
    body: str


def _now_ms() -> int:
    return int(time.time() * 1000)


def new_message_id() -> str:
    """Zalo ids are opaque 20-hex-character strings."""
    return secrets.token_hex(10)


class FakeZaloBot(FakeApiServer):
    """The Zalo Bot Platform on ``{base_url}/bot<token>/<method>``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_body: BodyMode = "flat",
        empty_poll_status: int = 408,
        strict_chats: bool = False,
        require_https: bool = False,
    ) -> None:
        super().__init__(host, port)
        self.token = token
        self.bot_id = token.split(":")[0]
        self.webhook_body: BodyMode = webhook_body
        self.empty_poll_status = empty_poll_status
        self.strict_chats = strict_chats
        self.require_https = require_https  # real Zalo needs https; local bots listen on http
        self.webhook: dict[str, Any] | None = None
        self.webhook_updated_at = _now_ms()
        self.updates: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []
        self.webhook_deliveries: list[ZaloWebhookDelivery] = []
        self.sent: list[ZaloSent] = []
        self.chats: set[str] = set()
        self.chat_actions: list[tuple[str, str]] = []
        self._faults: dict[str, list[ZaloBotError]] = {}
        self._stopping = False
        self.revoked = False  # the token was reset in Zalo Bot Manager: 401 to every call

    @property
    def bot_api_url(self) -> str:
        """Base URL for a client that appends ``<token>/<method>``."""
        return f"{self.base_url}/bot"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/_fake/{action}", self._control)

    async def stop(self) -> None:
        self._stopping = True
        await super().stop()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params |= await request.json()
            else:
                params |= dict(await request.post())
        try:
            if request.match_info["token"] != self.token or self.revoked:
                raise ZaloBotError(401, "Unauthorized")
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ZaloBotError(404, "Not Found")
            result = await handler(params)
        except ZaloBotError as exc:
            await self.record(method, params, exc.code)
            status = self.empty_poll_status if exc.code == 408 else exc.code
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description},
                status=status,
            )
        await self.record(method, params, 200)
        return web.json_response({"ok": True, "result": result})

    # -- methods --

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.bot_id, "account_name": "bot.HealthStation",
                "account_type": "BASIC", "can_join_groups": False}

    async def _api_getupdates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook:
            raise ZaloBotError(409, "Conflict: webhook is active, call deleteWebhook first")
        timeout = float(params.get("timeout") or DEFAULT_POLL_TIMEOUT)
        if not self.updates:
            await self.long_poll(lambda: self.updates or self._stopping, timeout)
        if not self.updates:
            raise ZaloBotError(408, "Request timeout")
        update = self.updates.pop(0)
        self.delivered.append(update)
        return update

    def _chat(self, params: dict[str, Any]) -> str:
        chat_id = str(params.get("chat_id") or "")
        if not chat_id:
            raise ZaloBotError(400, "Bad Request: chat_id is required")
        if self._faults.get(chat_id):
            raise self._faults[chat_id].pop(0)
        if self.strict_chats and chat_id not in self.chats:
            raise ZaloBotError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _check_text(value: Any, what: str, *, required: bool) -> str | None:
        if value is None or value == "":
            if required:
                raise ZaloBotError(400, f"Bad Request: {what} is empty")
            return None
        if len(str(value)) > MAX_TEXT_LENGTH:
            raise ZaloBotError(400, f"Bad Request: {what} is too long")
        return str(value)

    async def _record_sent(self, sent: ZaloSent) -> dict[str, Any]:
        self.sent.append(sent)
        return {"message_id": sent.message_id, "date": _now_ms()}

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text = self._check_text(params.get("text"), "text", required=True)
        return await self._record_sent(
            ZaloSent("sendMessage", chat_id, new_message_id(), text=text, params=params))

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        photo = str(params.get("photo") or "")
        scheme_ok = photo.startswith("https://") or (
            not self.require_https and photo.startswith("http://"))
        if not scheme_ok:
            raise ZaloBotError(400, "Bad Request: photo must be an https URL")
        caption = self._check_text(params.get("caption"), "caption", required=False)
        return await self._record_sent(ZaloSent(
            "sendPhoto", chat_id, new_message_id(), photo=photo, caption=caption, params=params))

    async def _api_sendsticker(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        if not params.get("sticker"):
            raise ZaloBotError(400, "Bad Request: sticker is empty")
        return await self._record_sent(ZaloSent(
            "sendSticker", chat_id, new_message_id(), sticker=str(params["sticker"]),
            params=params))

    async def _api_sendchataction(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        if params.get("action") != "typing":  # upload_photo is "coming soon"
            raise ZaloBotError(400, "Bad Request: unsupported action")
        self.chat_actions.append((chat_id, "typing"))
        return {"ok": True}  # documented literally as the result

    async def _api_setwebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url, secret = str(params.get("url") or ""), str(params.get("secret_token") or "")
        if not url.startswith("https://") and (self.require_https or not url.startswith("http")):
            raise ZaloBotError(400, "Bad Request: url must be https")
        if len(secret) not in SECRET_TOKEN_LENGTH:
            raise ZaloBotError(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook, self.webhook_updated_at = {"url": url, "secret_token": secret}, _now_ms()
        await self.wake_waiters()
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _api_deletewebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook, self.webhook_updated_at = None, _now_ms()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "updated_at": self.webhook_updated_at}

    # -- injection --

    def _message(self, user_id: str, display_name: str, event: str, **content: Any
                 ) -> dict[str, Any]:
        self.chats.add(user_id)
        return {"event_name": event, "message": {
            "message_id": new_message_id(), "date": _now_ms(),
            "from": {"id": user_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"}, **content}}

    async def push_text(self, user_id: str, text: str, *, display_name: str = "Cư dân"
                        ) -> dict[str, Any]:
        """A resident writes to the bot (``message.text.received``)."""
        return await self.deliver(
            self._message(user_id, display_name, "message.text.received", text=text))

    async def push_photo(self, user_id: str, photo_url: str, caption: str | None = None, *,
                         display_name: str = "Cư dân") -> dict[str, Any]:
        """A resident sends an image; it arrives as ``photo_url`` (+ optional caption)."""
        extra = {"caption": caption} if caption else {}
        return await self.deliver(self._message(
            user_id, display_name, "message.image.received", photo_url=photo_url, **extra))

    async def push_sticker(self, user_id: str, sticker: str = "sticker-1", *,
                           display_name: str = "Cư dân") -> dict[str, Any]:
        return await self.deliver(self._message(
            user_id, display_name, "message.sticker.received", sticker=sticker))

    async def push_unsupported(self, user_id: str, *, display_name: str = "Cư dân"
                               ) -> dict[str, Any]:
        """Voice, video or a file: Zalo tells the bot only that something unsupported came."""
        return await self.deliver(
            self._message(user_id, display_name, "message.unsupported.received"))

    async def redeliver(self, update: dict[str, Any] | None = None) -> dict[str, Any]:
        """Deliver an update again, same message_id (Zalo may redeliver); default the last one."""
        previous = update or (self.webhook_deliveries[-1].update if self.webhook_deliveries
                              else self.delivered[-1])
        return await self.deliver(previous)

    async def deliver(self, update: dict[str, Any], *, body_mode: BodyMode | None = None,
                      secret: str | None = None) -> dict[str, Any]:
        """Queue for getUpdates, or POST to the webhook (``secret`` forges the header); a
        revoked bot's updates are queued, not delivered."""
        if self.webhook is None or self.revoked:
            self.updates.append(update)
            await self.wake_waiters()
            return update
        mode = body_mode or self.webhook_body
        body = {"ok": True, "result": update} if mode == "wrapped" else update
        header = self.webhook["secret_token"] if secret is None else secret
        status, text = await self.post_json(
            self.webhook["url"], json.dumps(body).encode(), {WEBHOOK_SECRET_HEADER: header})
        self.webhook_deliveries.append(ZaloWebhookDelivery(update, mode, status, text))
        await self.wake_waiters()
        return update

    # -- controls and assertions --

    def revoke_token(self) -> None:
        """Every call answers 401 ``Unauthorized`` (as for an unknown token, zalo-api.md 5) and
        nothing is delivered, until ``restore_token``."""
        self.revoked = True

    def restore_token(self) -> None:
        self.revoked = False

    def fail_next(self, chat_id: str, code: int, description: str, times: int = 1) -> None:
        self._faults.setdefault(chat_id, []).extend([ZaloBotError(code, description)] * times)

    def sent_to(self, chat_id: str) -> list[ZaloSent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for_sent(self, chat_id: str, count: int = 1, timeout: float = 5.0
                            ) -> list[ZaloSent]:
        await self.wait_until(lambda: len(self.sent_to(chat_id)) >= count, timeout)
        return self.sent_to(chat_id)

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action in ("push_text", "push_photo", "push_sticker", "push_unsupported"):
            return web.json_response(await getattr(self, action)(**await request.json()))
        if action == "sent":
            return web.json_response([asdict(s) for s in self.sent_to(request.query["chat_id"])])
        raise web.HTTPNotFound()


def main(argv: list[str] | None = None) -> None:
    parser = standalone_arguments("Fake Zalo Bot Platform API server for local runs", 8082)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--webhook-body", choices=("wrapped", "flat"), default="flat")
    args = parser.parse_args(argv)
    fake = FakeZaloBot(args.token, host=args.host, port=args.port, webhook_body=args.webhook_body)
    try:
        asyncio.run(serve_forever(fake, f"methods at {fake.base_url}/bot<token>/<method>"))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
