"""A local fake of the Zalo Official Account Open API v3 and OAuth v4 (zalo-api.md section 2).

One aiohttp server answers both hosts (``oauth.zaloapp.com`` and ``openapi.zalo.me``): point the
bot's OAuth and API base URLs at ``base_url``. Replies use Zalo's ``{error, message, data}``
envelope with HTTP 200 even on errors; the OAuth endpoint answers ``access_token``,
``refresh_token`` (rotated: the old one dies) and ``expires_in`` as a string. Webhook events are
POSTed to ``webhook_url`` signed like Zalo: ``X-ZEvent-Signature: mac=<hex>`` with
``hex = sha256(app_id + raw_body + timestamp + oa_secret_key)``.

Standalone: ``python -m tests.fakes.zalo_oa_api --port 8083 --webhook-url URL``; then
``POST /_fake/send_text`` (JSON: user_id, text) sends a signed ``user_send_text``,
``GET /_fake/tokens`` shows a valid token pair and ``GET /_fake/sent`` lists sends.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.telegram_api import FakeApiServer, serve_forever, standalone_arguments

ACCESS_TOKEN_LIFETIME = 90_000  # seconds (25 h), sent as the string "90000"
REFRESH_TOKEN_LIFETIME = 90 * 86_400  # three months
AUTH_CODE_LIFETIME = 600  # ten minutes
INTERACTION_WINDOW = 7 * 86_400  # consultation messages need an interaction in the last 7 days
MAX_TEXT_LENGTH = 2000  # reported [S]
MAX_CS_BUTTONS = 5  # public gateway samples send 5 oa.query buttons on /message/cs [S]
MAX_LIST_COUNT = 50  # user/getlist page size every known caller stays within
# /v2.0/oa/upload/file: PDF, DOC and DOCX only, at most 5 MB [S] (zalo-api.md 2.3; two public
# SDKs say the same). Over the size Zalo answers -210 "parameter exceeds the allowed range" [S];
# which code a refused type gets is not documented (one client says "silently rejected"): -201 [I].
MAX_FILE_BYTES = 5 * 1024 * 1024
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
BUTTON_TYPES = frozenset({"oa.query.show", "oa.query.hide", "oa.open.url", "oa.open.phone",
                          "oa.open.sms"})
SIGNATURE_HEADER = "X-ZEvent-Signature"

# Zalo's codes (zalo-api.md 2.7); the message strings are paraphrases, not Zalo's exact text.
OA_ERRORS = {
    -32: "Reached limit call api",  # [C] wording seen in two implementations
    -100: "Unknown error",
    -124: "Access token has expired",
    -201: "Parameters are invalid",
    -210: "Parameter exceeds the allowed range",
    -211: "Out of quota",
    -213: "User has not followed the OA",
    -216: "Access token is invalid",
    -217: "User has blocked invitations from the OA",
    -219: "Application is disabled",
    -221: "Official account is not verified",
    -223: "Application has not been granted this API",
    -224: "Official account needs a higher tier package",
    -220: "Access token has expired or has been removed",
    -227: "User is banned or has been inactive for more than 45 days",
    -230: "User has not interacted with the OA in the past 7 days",
    -232: "User's interaction has expired",
    -233: "Message type is not supported",
    -234: "Promotion messages cannot be sent at night",
    -237: "Group has expired",
    -240: "Message API v2 has been shut down, use v3",
    -244: "User has restricted this message type",
    -320: "No Zalo Cloud Account linked",
    -321: "Zalo Cloud Account is out of money",
    -403: "OA is not in the group",
}
# OAuth v4 errors are {error, error_name, error_description}; -14003 (invalid parameter) is seen
# in public reports, -14014 and -14019 are our own choice: clients should treat any error alike.
OAUTH_INVALID_PARAMETER = -14003
OAUTH_INVALID_REFRESH_TOKEN = -14014
OAUTH_INVALID_CODE = -14019


class OAError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(OA_ERRORS.get(code, "Error"))
        self.code = code


@dataclass
class OASent:
    """A message the OA sent: to a user (``/message/cs``) or to a group (``/group/message``)."""

    endpoint: str
    recipient_id: str
    message_id: str
    text: str | None
    image: str | None = None
    buttons: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)
    file: UploadedFile | None = None  # a file message: what was uploaded under its token


@dataclass
class UploadedFile:
    """A file uploaded with ``/v2.0/oa/upload/file``, kept under the token Zalo answered."""

    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False, default=b"")


@dataclass
class SignedDelivery:
    """A webhook event the fake POSTed, with what the bot answered."""

    event: dict[str, Any]
    raw_body: bytes
    signature: str
    status: int
    response: str


def zalo_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The ``X-ZEvent-Signature`` value Zalo sends for ``raw_body``."""
    payload = app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    return "mac=" + hashlib.sha256(payload).hexdigest()


def _token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(24)}"


class FakeZaloOA(FakeApiServer):
    """OA Open API v3 + OAuth v4 on ``base_url``; see the module docstring."""

    def __init__(
        self,
        *,
        app_id: str = "4242424242424242424",
        app_secret: str = "fake-app-secret",
        oa_id: str = "1111222233334444555",
        oa_secret_key: str = "fake-oa-secret-key",
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        send_rate_per_second: float | None = None,
        trial: bool = False,
    ) -> None:
        super().__init__(host, port)
        # S7's 20 sends/s is unverified [S]: off unless a test asks; over it sends answer -32.
        self.send_rate_per_second = send_rate_per_second
        self._send_times: list[float] = []
        self.trial = trial  # a trial (unverified) OA gets no refresh token (zalo-api.md 2.2 [S])
        self.app_id, self.app_secret = app_id, app_secret
        self.oa_id, self.oa_secret_key = oa_id, oa_secret_key
        self.webhook_url = webhook_url
        self._clock, self.clock_offset = clock, 0.0
        self.access_tokens: dict[str, float] = {}  # token -> expiry
        self.refresh_tokens: dict[str, float] = {}  # only unused ones are here
        self.auth_codes: dict[str, tuple[float, str | None]] = {}  # code -> (expiry, challenge)
        self.token_error_code = -216  # what an expired token answers; -220 and -124 also occur
        self.refreshes = 0
        self.sent: list[OASent] = []
        self.deliveries: list[SignedDelivery] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, str] = {}
        self.users_outside_window: set[str] = set()
        self.user_errors: dict[str, int] = {}
        self.user_error_times: dict[str, int] = {}  # recipient -> remaining answers (absent: always)
        self.last_interaction: dict[str, float] = {}
        self.uploads: dict[str, str] = {}
        self.file_uploads: dict[str, UploadedFile] = {}  # token -> the file
        self._next_errors: list[int] = []

    @property
    def oauth_base_url(self) -> str:
        return self.base_url  # real: https://oauth.zaloapp.com

    @property
    def api_base_url(self) -> str:
        return self.base_url  # real: https://openapi.zalo.me

    def now(self) -> float:
        return self._clock() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake clock: tokens, codes and the 7-day window age with it."""
        self.clock_offset += seconds

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v4/oa/access_token", self._oauth_token)
        app.router.add_get("/v4/oa/permission", self._oauth_permission)
        app.router.add_post("/v3.0/oa/message/cs", self._message_cs)
        app.router.add_post("/v3.0/oa/group/message", self._group_message)
        app.router.add_post("/v2.0/oa/upload/image", self._upload_image)
        app.router.add_post("/v2.0/oa/upload/file", self._upload_file)
        app.router.add_get("/v3.0/oa/user/detail", self._user_detail)
        app.router.add_get("/v3.0/oa/user/getlist", self._user_list)
        app.router.add_get("/v2.0/oa/getoa", self._get_oa)
        app.router.add_route("*", "/_fake/{action}", self._control)

    # -- OAuth v4 --

    def issue_tokens(self) -> tuple[str, str]:
        """A fresh valid (access_token, refresh_token) pair, e.g. to seed the bot's database."""
        access, refresh = _token("at"), _token("rt")
        self.access_tokens[access] = self.now() + ACCESS_TOKEN_LIFETIME
        self.refresh_tokens[refresh] = self.now() + REFRESH_TOKEN_LIFETIME
        return access, refresh

    def issue_auth_code(self, code_challenge: str | None = None) -> str:
        """What the OA admin's browser brings back to the redirect_uri after granting access."""
        code = _token("code")
        self.auth_codes[code] = (self.now() + AUTH_CODE_LIFETIME, code_challenge)
        return code

    def expire_access_token(self) -> None:
        """Every access token issued so far stops working (as after 25 h or a revocation)."""
        for token in self.access_tokens:
            self.access_tokens[token] = self.now() - 1

    async def _oauth_permission(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("app_id") != self.app_id or not query.get("redirect_uri"):
            raise web.HTTPFound(f"/v4/permission/error?error_code={OAUTH_INVALID_PARAMETER}")
        code = self.issue_auth_code(query.get("code_challenge"))
        back = {"code": code, "oa_id": self.oa_id, "state": query.get("state", "")}
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(back)}")

    async def _oauth_token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        await self.record("oauth/access_token", form, 200)

        def refuse(code: int, description: str) -> web.Response:
            return web.json_response({"error": code, "error_name": "Invalid parameter",
                                      "error_description": description})

        secret_ok = request.headers.get("secret_key") == self.app_secret
        if not secret_ok or form.get("app_id") != self.app_id:
            return refuse(OAUTH_INVALID_PARAMETER, "Invalid app_id or secret_key")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            expiry = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
            if expiry is None or expiry < self.now():
                return refuse(OAUTH_INVALID_REFRESH_TOKEN, "Invalid refresh token")
            self.refreshes += 1
        elif grant == "authorization_code":
            expiry, challenge = self.auth_codes.pop(str(form.get("code")), (0.0, None))
            verifier = str(form.get("code_verifier") or "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if expiry < self.now() or (challenge and digest.rstrip(b"=").decode() != challenge):
                return refuse(OAUTH_INVALID_CODE, "Invalid authorization code")
        else:
            return refuse(OAUTH_INVALID_PARAMETER, "Invalid grant_type")
        access, refresh = self.issue_tokens()
        if self.trial:  # a trial OA is given an access token only
            self.refresh_tokens.pop(refresh, None)
            return web.json_response({"access_token": access,
                                      "expires_in": str(ACCESS_TOKEN_LIFETIME)})
        return web.json_response({"access_token": access, "refresh_token": refresh,
                                  "expires_in": str(ACCESS_TOKEN_LIFETIME)})

    # -- API plumbing --

    def _authorise(self, request: web.Request) -> None:
        expiry = self.access_tokens.get(request.headers.get("access_token", ""))
        if expiry is None:
            raise OAError(-216)
        if expiry < self.now():
            raise OAError(self.token_error_code)
        if self._next_errors:
            raise OAError(self._next_errors.pop(0))

    async def _answer(self, name: str, request: web.Request, params: dict[str, Any],
                      work: Callable[[], Any]) -> web.Response:
        try:
            self._authorise(request)
            data = await work() if asyncio.iscoroutinefunction(work) else work()
        except OAError as exc:
            await self.record(name, params, exc.code)
            return web.json_response({"error": exc.code, "message": str(exc)})
        await self.record(name, params, 0)
        return web.json_response({"error": 0, "message": "Success", "data": data})

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise OAError(-201) from None
        if not isinstance(body, dict):
            raise OAError(-201)
        return body

    @staticmethod
    def _query_data(request: web.Request) -> dict[str, Any]:
        try:
            data = json.loads(request.query.get("data") or "{}")
        except ValueError:
            raise OAError(-201) from None
        return data if isinstance(data, dict) else {}

    # -- sending --

    def _file(self, message: Any) -> UploadedFile | None:
        """The uploaded file a file message points at (an unknown token: -100, re-upload)."""
        attachment = (message or {}).get("attachment") if isinstance(message, dict) else None
        if not isinstance(attachment, dict) or attachment.get("type") != "file":
            return None
        token = str((attachment.get("payload") or {}).get("token") or "")
        if token not in self.file_uploads:
            raise OAError(-100)
        return self.file_uploads[token]

    def _content(self, message: Any, *, group: bool) -> tuple[str | None, str | None, list]:
        """(text, image, buttons) of a message body, refusing what Zalo refuses."""
        if not isinstance(message, dict):
            raise OAError(-201)
        text = message.get("text")
        if text is not None and (not str(text).strip() or len(str(text)) > MAX_TEXT_LENGTH):
            raise OAError(-201)
        attachment = message.get("attachment")
        if attachment is None:
            if text is None:
                raise OAError(-201)
            return str(text), None, []
        payload = attachment.get("payload") or {}
        if attachment.get("type") == "file" and payload.get("token"):
            return text, None, []
        if attachment.get("type") != "template":
            raise OAError(-233)
        if payload.get("template_type") == "media":
            element = (payload.get("elements") or [{}])[0]
            image = element.get("url") or element.get("attachment_id")
            if element.get("media_type") != "image" or not image:
                raise OAError(-201)
            return text, str(image), []
        buttons = payload.get("buttons")
        if group or payload.get("template_type") or not isinstance(buttons, list):
            raise OAError(-233)  # groups take no buttons; cs takes only the plain buttons payload
        if not 1 <= len(buttons) <= MAX_CS_BUTTONS or text is None:
            raise OAError(-201)
        for button in buttons:
            if button.get("type") not in BUTTON_TYPES or not button.get("title"):
                raise OAError(-201)
        return str(text), None, buttons

    def _recipient_error(self, recipient_id: str) -> None:
        if self.send_rate_per_second is not None:
            now = time.monotonic()
            self._send_times = [t for t in self._send_times if now - t < 1.0]
            if len(self._send_times) >= self.send_rate_per_second:
                raise OAError(-32)
            self._send_times.append(now)
        if recipient_id in self.user_errors:
            code = self.user_errors[recipient_id]
            if recipient_id in self.user_error_times:
                self.user_error_times[recipient_id] -= 1
                if self.user_error_times[recipient_id] <= 0:
                    self.set_user_error(recipient_id, None)
            raise OAError(code)

    async def _message_cs(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {}

        async def send() -> dict[str, Any]:
            body.update(await self._json_body(request))
            user_id = str((body.get("recipient") or {}).get("user_id") or "")
            if not user_id:
                raise OAError(-201)
            self._recipient_error(user_id)
            last = self.last_interaction.get(user_id)
            if user_id in self.users_outside_window or (
                    last is not None and self.now() - last > INTERACTION_WINDOW):
                raise OAError(-230)
            text, image, buttons = self._content(body.get("message"), group=False)
            sent = OASent("message/cs", user_id, secrets.token_hex(16), text, image, buttons, body,
                          self._file(body.get("message")))
            self.sent.append(sent)
            return {"message_id": sent.message_id, "user_id": user_id}

        return await self._answer("message/cs", request, body, send)

    async def _group_message(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {}

        async def send() -> dict[str, Any]:
            body.update(await self._json_body(request))
            group_id = str((body.get("recipient") or {}).get("group_id") or "")
            self._recipient_error(group_id)
            if group_id not in self.groups:
                raise OAError(-403)
            text, image, _ = self._content(body.get("message"), group=True)
            sent = OASent("group/message", group_id, secrets.token_hex(16), text, image, [], body,
                          self._file(body.get("message")))
            self.sent.append(sent)
            return {"message_id": sent.message_id}

        return await self._answer("group/message", request, body, send)

    async def _upload_image(self, request: web.Request) -> web.Response:
        async def upload() -> dict[str, Any]:
            form = await request.post()
            upload = form.get("file")
            if not hasattr(upload, "filename"):
                raise OAError(-201)
            attachment_id = secrets.token_hex(16)
            self.uploads[attachment_id] = upload.filename
            return {"attachment_id": attachment_id}

        return await self._answer("upload/image", request, {}, upload)

    async def _upload_file(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = {}

        async def upload() -> dict[str, Any]:
            form = await request.post()
            upload = form.get("file")
            if not hasattr(upload, "filename"):
                raise OAError(-201)
            content = upload.file.read()
            suffix = "." + str(upload.filename).rsplit(".", 1)[-1].lower()
            params.update(filename=upload.filename, size=len(content))
            if suffix not in FILE_TYPES:
                raise OAError(-201)
            if len(content) > MAX_FILE_BYTES:
                raise OAError(-210)
            token = secrets.token_urlsafe(32)
            self.file_uploads[token] = UploadedFile(
                str(upload.filename), upload.content_type or FILE_TYPES[suffix], len(content),
                content)
            return {"token": token}

        return await self._answer("upload/file", request, params, upload)

    # -- followers and profiles --

    def add_user(self, user_id: str, display_name: str = "Cư dân", *, follower: bool = True,
                 interacted_seconds_ago: float | None = 0.0) -> None:
        """A resident the OA knows; ``interacted_seconds_ago=None`` means never wrote."""
        self.users[user_id] = {"display_name": display_name, "follower": follower}
        if interacted_seconds_ago is not None:
            self.last_interaction[user_id] = self.now() - interacted_seconds_ago

    def add_group(self, group_id: str, name: str = "Nhóm tổ dân phố") -> None:
        self.groups[group_id] = name

    async def _user_detail(self, request: web.Request) -> web.Response:
        def detail() -> dict[str, Any]:
            user_id = str(self._query_data(request).get("user_id") or "")
            if user_id not in self.users:
                raise OAError(-201)
            user = self.users[user_id]
            avatar = f"https://s120-ava-talk.zadn.vn/fake/{user_id}.jpg"
            return {"user_id": user_id, "user_id_by_app": f"app-{user_id}",
                    "display_name": user["display_name"], "avatar": avatar,
                    "avatars": {"120": avatar, "240": avatar},
                    "user_is_follower": user["follower"], "shared_info": {}}

        return await self._answer("user/detail", request, dict(request.query), detail)

    async def _user_list(self, request: web.Request) -> web.Response:
        def listing() -> dict[str, Any]:
            query = self._query_data(request)
            offset, count = int(query.get("offset", 0)), int(query.get("count", 0))
            if not 1 <= count <= MAX_LIST_COUNT or offset < 0:
                raise OAError(-201)
            wanted = str(query.get("is_follower", "")).lower()
            ids = [uid for uid, u in self.users.items()
                   if wanted not in ("true", "false") or str(u["follower"]).lower() == wanted]
            page = ids[offset:offset + count]
            return {"total": len(ids), "count": len(page), "offset": offset,
                    "users": [{"user_id": uid} for uid in page]}

        return await self._answer("user/getlist", request, dict(request.query), listing)

    async def _get_oa(self, request: web.Request) -> web.Response:
        def info() -> dict[str, Any]:
            return {"oa_id": self.oa_id, "name": "Trạm Y tế Phường (fake)", "is_verified": True}

        return await self._answer("getoa", request, {}, info)

    # -- test controls --

    def set_user_error(self, recipient_id: str, code: int | None, *, times: int | None = None
                       ) -> None:
        """Sends to this user or group answer ``code`` (``times`` times, or until set to None)."""
        self.user_error_times.pop(recipient_id, None)
        if code is None:
            self.user_errors.pop(recipient_id, None)
        else:
            self.user_errors[recipient_id] = code
            if times is not None:
                self.user_error_times[recipient_id] = times

    def fail_next(self, code: int, times: int = 1) -> None:
        """The next ``times`` authorised API calls answer ``code`` (e.g. -32 rate limit)."""
        self._next_errors.extend([code] * times)

    def sent_to(self, recipient_id: str) -> list[OASent]:
        return [s for s in self.sent if s.recipient_id == recipient_id]

    async def wait_for_sent(self, recipient_id: str, count: int = 1, timeout: float = 5.0
                            ) -> list[OASent]:
        await self.wait_until(lambda: len(self.sent_to(recipient_id)) >= count, timeout)
        return self.sent_to(recipient_id)

    # -- webhook events --

    def _event(self, event_name: str, sender: str, recipient: str, *,
               timestamp_ms: int | None = None, **fields: Any) -> dict[str, Any]:
        stamp = timestamp_ms if timestamp_ms is not None else int(self.now() * 1000)
        return {"app_id": self.app_id, "user_id_by_app": f"app-{sender}",
                "event_name": event_name, "timestamp": str(stamp),
                "sender": {"id": sender}, "recipient": {"id": recipient}, **fields}

    def user_send_text(self, user_id: str, text: str, *, msg_id: str | None = None,
                       quote_msg_id: str | None = None, oa_id: str | None = None,
                       timestamp_ms: int | None = None) -> dict[str, Any]:
        """``oa_id`` other than ours builds an event meant for another OA."""
        message = {"msg_id": msg_id or secrets.token_hex(16), "text": text}
        message |= {"quote_msg_id": quote_msg_id} if quote_msg_id else {}
        return self._event("user_send_text", user_id, oa_id or self.oa_id,
                           timestamp_ms=timestamp_ms, message=message)

    def user_send_image(self, user_id: str, url: str, caption: str | None = None, *,
                        timestamp_ms: int | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"msg_id": secrets.token_hex(16), "attachments": [
            {"type": "image", "payload": {"url": url, "thumbnail": url}}]}
        message |= {"text": caption} if caption else {}
        return self._event("user_send_image", user_id, self.oa_id, timestamp_ms=timestamp_ms,
                           message=message)

    def user_send_location(self, user_id: str, latitude: float, longitude: float, *,
                           timestamp_ms: int | None = None) -> dict[str, Any]:
        coordinates = {"latitude": str(latitude), "longitude": str(longitude)}
        message = {"msg_id": secrets.token_hex(16), "attachments": [
            {"type": "location", "payload": {"coordinates": coordinates}}]}
        return self._event("user_send_location", user_id, self.oa_id, timestamp_ms=timestamp_ms,
                           message=message)

    def oa_send_text(self, user_id: str, text: str) -> dict[str, Any]:
        """The echo Zalo sends after the OA itself wrote to a user: a bot must ignore it."""
        return self._event("oa_send_text", self.oa_id, user_id,
                           message={"msg_id": secrets.token_hex(16), "text": text})

    def follow(self, user_id: str, *, unfollow: bool = False) -> dict[str, Any]:
        stamp = str(int(self.now() * 1000))
        return {"app_id": self.app_id, "oa_id": self.oa_id, "user_id_by_app": f"app-{user_id}",
                "event_name": "unfollow" if unfollow else "follow", "source": "oa_profile",
                "follower": {"id": user_id}, "timestamp": stamp}

    def user_send_group_text(self, group_id: str, user_id: str, text: str) -> dict[str, Any]:
        return self._event("user_send_group_text", user_id, group_id,
                           message={"msg_id": secrets.token_hex(16), "text": text})

    def stale_timestamp_ms(self, age_seconds: float = 3600) -> int:
        """A timestamp ``age_seconds`` in the past, for replayed-event tests."""
        return int((self.now() - age_seconds) * 1000)

    async def send_event(self, event: dict[str, Any], *, forge_signature: bool = False,
                         signature: str | None = None, url: str | None = None) -> SignedDelivery:
        """POST ``event`` to the bot's webhook, signed like Zalo (or forged on request)."""
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("set FakeZaloOA.webhook_url to the bot's webhook endpoint first")
        raw = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        key = "forged-" + self.oa_secret_key if forge_signature else self.oa_secret_key
        mac = signature or zalo_signature(
            str(event.get("app_id", "")), raw, str(event.get("timestamp", "")), key)
        sender = str((event.get("sender") or event.get("follower") or {}).get("id", ""))
        if event.get("event_name", "").startswith(("user_send", "follow")):
            self.last_interaction[sender] = self.now()
        status, text = await self.post_json(target, raw, {SIGNATURE_HEADER: mac})
        delivery = SignedDelivery(event, raw, mac, status, text)
        self.deliveries.append(delivery)
        await self.wake_waiters()
        return delivery

    async def send_text(self, user_id: str, text: str) -> SignedDelivery:
        """Shortcut: a resident writes ``text`` (signed ``user_send_text``)."""
        return await self.send_event(self.user_send_text(user_id, text))

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "send_text":
            delivery = await self.send_text(**await request.json())
            return web.json_response({"status": delivery.status})
        if action == "tokens":
            access, refresh = self.issue_tokens()
            return web.json_response({"access_token": access, "refresh_token": refresh})
        if action == "sent":
            return web.json_response([asdict(s) for s in self.sent])
        raise web.HTTPNotFound()


def main(argv: list[str] | None = None) -> None:
    parser = standalone_arguments("Fake Zalo OA Open API + OAuth server for local runs", 8083)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--app-id", default="4242424242424242424")
    parser.add_argument("--app-secret", default="fake-app-secret")
    parser.add_argument("--oa-secret-key", default="fake-oa-secret-key")
    args = parser.parse_args(argv)
    fake = FakeZaloOA(app_id=args.app_id, app_secret=args.app_secret,
                      oa_secret_key=args.oa_secret_key, webhook_url=args.webhook_url,
                      host=args.host, port=args.port)
    try:
        asyncio.run(serve_forever(fake, "OAuth and API base URL"))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
