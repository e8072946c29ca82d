"""Zalo OA Open API v3 sending: consultation messages, OA group messages, and `ZaloOASender`.

Bodies follow zalo-api.md 2.3 and 2.8: text (split under 2000 characters), an image as a `media`
template by URL, and up to `MAX_OA_BUTTONS` `oa.query.hide` buttons whose payload is the button data
behind `BUTTON_PAYLOAD_PREFIX` (a tap comes back as the resident's own `user_send_text`). More buttons
than that, or any buttons in an OA group (groups take text and images only), become a numbered list;
typed numbers work because the core remembers the menu.

Errors (2.7) are read from the shared table `scheduler.sender.SEND_ERRORS["zalo_oa"]`; besides,
-216/-220/-124 refresh the token and retry once, and -230/-213/-232 (the resident has not written in
7 days, or does not follow) mark the chat `zalo_window`. -201/-233 blame the message, not the resident.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.channels.zalo_oa_tokens import OATokens, OAuthError
from bot.i18n import gettext_for
from bot.model import Button, Outbound
from bot.rendering import split_text
from core.clock import utc_clock
from core.stations import own_zalo_oa, settings_for
from scheduler.sender import ZALO_WINDOW, SendError, SendResult, classify_code
from storage import people
from storage.db import Database

log = logging.getLogger(__name__)

CHANNEL = "zalo_oa"
CS_PATH = "/v3.0/oa/message/cs"
GROUP_PATH = "/v3.0/oa/group/message"
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
# What the file upload takes: PDF, DOC, DOCX, at most 5 MB [S] (zalo-api.md 2.3; docs/report.md).
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TEXT = 2000  # reported [S]
MAX_OA_BUTTONS = 5  # public gateway samples send 5 oa.query buttons on /message/cs [S]; docs/zalo.md
BUTTON_PAYLOAD_PREFIX = "#hb:"
API_TIMEOUT_SECONDS = 30.0
TOKEN_ERRORS = frozenset({-216, -220, -124})  # access token invalid / expired: refresh, retry once
RATE_LIMITED = -32
WINDOW_REASON = ZALO_WINDOW  # outside the 7-day window / not a follower (-230, -213, -232)
DEFAULT_RETRY_SECONDS = 5.0
# Codes that need the station's admin (quota, app settings, billing): logged as errors.
ADMIN_ERRORS = frozenset({-211, -219, -221, -223, -224, -320, -321})
NOT_CONNECTED_RETRY_SECONDS = 300.0


class OAApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class OAClient:
    """Authorised JSON calls to the OA API; refreshes the token once on a token error."""

    def __init__(self, db: Database, api_base_url: str, tokens: OATokens,
                 http: aiohttp.ClientSession) -> None:
        self.db = db
        self.base = api_base_url.rstrip("/")
        self.tokens = tokens
        self.http = http

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call(lambda token: self._post(path, body, token))

    async def upload_file(self, file: Path) -> str:
        """Upload a local file (`/v2.0/oa/upload/file`, multipart `file`); returns its token."""
        data = await self._call(lambda token: self._upload(file, token))
        if not data.get("token"):
            raise OAApiError(-100, "upload answered no token")
        return str(data["token"])

    async def _call(self, attempt: Callable[[str], Awaitable[dict[str, Any]]]
                    ) -> dict[str, Any]:
        token = await self.tokens.access_token()
        answer = await attempt(token)
        if answer.get("error") in TOKEN_ERRORS:
            log.info("zalo_oa access token refused (%s); refreshing", answer.get("error"))
            token = await self.tokens.refresh(stale=token)
            answer = await attempt(token)
        code = answer.get("error", 0)
        if code:
            raise OAApiError(int(code), str(answer.get("message") or ""))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    async def _post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        async with self.http.post(
            self.base + path, json=body, headers={"access_token": token},
            timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS),
        ) as response:
            return await self._read(response)

    async def _upload(self, file: Path, token: str) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("file", file.read_bytes(), filename=file.name,
                       content_type=FILE_TYPES.get(file.suffix.lower(), "application/octet-stream"))
        async with self.http.post(
            self.base + UPLOAD_FILE_PATH, data=form, headers={"access_token": token},
            timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS),
        ) as response:
            return await self._read(response)

    @staticmethod
    async def _read(response: aiohttp.ClientResponse) -> dict[str, Any]:
        answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise OAApiError(-100, f"malformed answer (HTTP {response.status})")
        return answer


def classify(exc: Exception, oa: str = CHANNEL) -> SendError:
    """OA failures -> `SendError`, by the shared table `scheduler.sender.SEND_ERRORS["zalo_oa"]`;
    `oa` names the OA in the admin's log (`zalo_oa@2`: station 2's own OA)."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, OAuthError):
        return SendError("retry", "oauth", retry_after=NOT_CONNECTED_RETRY_SECONDS)
    if isinstance(exc, OAApiError):
        if exc.code in ADMIN_ERRORS:
            log.error("%s refused sends with error %s: the OA admin must act (docs/zalo.md)",
                      oa, exc.code)
        return classify_code(CHANNEL, exc.code)
    return SendError("retry", type(exc).__name__, retry_after=DEFAULT_RETRY_SECONDS)


def numbered_list(buttons: list[Button], locale: str) -> str:
    _ = gettext_for(locale)
    lines = [_("Reply with a number:")]
    lines += [f"{i}. {b.label}" for i, b in enumerate(buttons, start=1)]
    return "\n".join(lines)


def message_bodies(message: Outbound, *, group: bool, locale: str) -> list[dict[str, Any]]:
    """The `message` objects to send, in order, for one `Outbound`."""
    buttons = message.all_buttons()
    text = (message.text or "").strip()
    if buttons and (group or len(buttons) > MAX_OA_BUTTONS):
        text = f"{text}\n\n{numbered_list(buttons, locale)}".strip()
        buttons = []
    parts = split_text(text, MAX_TEXT) if text else []
    bodies: list[dict[str, Any]] = []
    if message.image and "://" in message.image:
        media = {"type": "template", "payload": {"template_type": "media", "elements": [
            {"media_type": "image", "url": message.image}]}}
        image: dict[str, Any] = {"attachment": media}
        if len(parts) == 1 and not buttons:  # the text fits as the image's caption
            image["text"] = parts.pop()
        bodies.append(image)
    elif message.image:
        log.info("zalo_oa sends images by URL only; a local image was left out")
    for index, part in enumerate(parts):
        body: dict[str, Any] = {"text": part}
        if buttons and index == len(parts) - 1:
            body["attachment"] = {"type": "template", "payload": {"buttons": [
                {"title": b.label, "type": "oa.query.hide",
                 "payload": BUTTON_PAYLOAD_PREFIX + b.data} for b in buttons]}}
        bodies.append(body)
    if not bodies:
        raise SendError("message", "empty message")
    return bodies


def can_send_file(path: Path) -> bool:
    """Whether the OA file upload takes this file (type and size, as documented)."""
    return path.suffix.lower() in FILE_TYPES and path.stat().st_size <= MAX_FILE_BYTES


def sendable_file(name: str) -> Path:
    path = Path(name)
    if not path.is_file() or not can_send_file(path):
        raise SendError("message", "file type or size the OA upload refuses")
    return path


async def send_outbound(client: OAClient, chat_id: str, message: Outbound, *,
                        chat_kind: str = "private", locale: str = "vi") -> str | None:
    """Send one `Outbound` to a user (cs) or an OA group; returns the last message id."""
    group = chat_kind == "group"
    recipient = {"group_id": chat_id} if group else {"user_id": chat_id}
    if message.document:  # a report file (issue 17): uploaded, then sent as a file message
        body = {"attachment": {"type": "file", "payload": {
            "token": await client.upload_file(sendable_file(message.document))}}}
        data = await client.post(GROUP_PATH if group else CS_PATH,
                                 {"recipient": recipient, "message": body})
        return str(data.get("message_id") or "") or None
    last: str | None = None
    for body in message_bodies(message, group=group, locale=locale):
        data = await client.post(GROUP_PATH if group else CS_PATH,
                                 {"recipient": recipient, "message": body})
        last = str(data.get("message_id")) if data.get("message_id") else last
    return last


def station_code(settings: Any, station_id: int | None) -> str:
    """The code a station's own OA is named by on the command line ("" for the shared OA)."""
    return "" if station_id is None else settings_for(settings, station_id).station.code


async def mark_unreachable(db: Database, chat_id: str, reason: str) -> None:
    async with db.sessions() as session, session.begin():
        await people.mark_chat_unreachable(session, CHANNEL, chat_id, reason)


@dataclass
class ZaloOASender:
    """`scheduler.sender.Sender` for the Zalo OA: what the outbox dispatcher calls."""

    client: OAClient
    default_locale: str = "vi"
    owns_http: bool = False
    channel: str = CHANNEL
    oa: str = CHANNEL  # which OA, in logs: `zalo_oa@2` is station 2's own

    @classmethod
    def from_settings(cls, settings: Any, db: Database, clock: Any = None,
                      station_id: int | None = None) -> ZaloOASender:
        """A sender with its own HTTP session, without the webhook (tests, benchmarks); with
        `station_id`, that station's own OA (`zalo_oa@<id>`)."""
        cfg = settings.zalo_oa if station_id is None else own_zalo_oa(settings, station_id)
        if cfg is None or not cfg.app_id:
            raise ValueError("zalo_oa app_id is not configured")
        http = aiohttp.ClientSession()
        tokens = OATokens(db, cfg, clock or utc_clock, lambda: http, station_id=station_id,
                          station_code=station_code(settings, station_id))
        client = OAClient(db, cfg.api_base_url, tokens, http)
        return cls(client, settings.station.default_language, owns_http=True,
                   oa=tokens.provider)

    async def send(
        self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
    ) -> SendResult:
        try:
            message_id = await send_outbound(
                self.client, chat_id, message, chat_kind=chat_kind, locale=self.default_locale
            )
        except Exception as exc:  # noqa: BLE001 - every failure is classified for the dispatcher
            error = classify(exc, self.oa)
            log.info("%s send to a %s chat failed: %s", self.oa, chat_kind, error)
            if error.kind == "stop" and error.reason == WINDOW_REASON:
                await mark_unreachable(self.client.db, chat_id, WINDOW_REASON)
            raise error from exc
        return SendResult(message_id=message_id)

    async def close(self) -> None:
        if self.owns_http:
            await self.client.http.close()
