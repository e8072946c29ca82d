"""Zalo Bot Platform client (`POST <api_base_url><token>/<method>`), sending, and `ZaloBotSender`.

A small aiohttp client instead of python-zalo-bot (zalo-api.md 1.5). Every method is a JSON POST
answered with `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": ...}`.
The token sits in every URL, so no URL is ever logged.

The platform shows plain text only and has no buttons: the conversation core already turned buttons
into numbered menus for direct replies. Texts are split under 2000 characters; an image goes with
`sendPhoto` (a URL: Zalo fetches it itself) and the text as its caption when it fits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.model import Outbound
from bot.rendering import split_text
from scheduler.sender import SendError, SendResult, classify_code

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

CHANNEL = "zalo_bot"
MAX_TEXT = 2000  # text and caption (zalo-api.md 1.2 [C])
CALL_TIMEOUT_SECONDS = 30.0  # sendPhoto waits while Zalo fetches the image (1.5)
DEFAULT_RETRY_SECONDS = 5.0
INVALID_TOKEN_RETRY_SECONDS = 60.0


class ZaloBotError(Exception):
    """An `{"ok": false}` answer (or a non-JSON HTTP error) from the Bot Platform."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class ZaloBotClient:
    """Calls Bot Platform methods; owns its aiohttp session."""

    def __init__(self, token: str, api_base_url: str) -> None:
        self._url = f"{api_base_url}{token}/"  # "https://bot-api.zaloplatforms.com/bot" + token
        self._session: aiohttp.ClientSession | None = None

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, *, timeout: float = CALL_TIMEOUT_SECONDS
    ) -> Any:
        """The `result` of one method call; raises `ZaloBotError` or aiohttp/timeout errors."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            self._url + method, json=payload or {}, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            try:
                body = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                raise ZaloBotError(response.status, f"HTTP {response.status}") from None
        if not isinstance(body, dict):
            raise ZaloBotError(response.status, "malformed answer")
        if not body.get("ok"):
            code = body.get("error_code")
            return_code = code if isinstance(code, int) else response.status
            raise ZaloBotError(return_code, str(body.get("description") or ""))
        return body.get("result")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def classify_send_error(exc: Exception) -> SendError:
    """Bot Platform failures -> retry / stop (statuses are undocumented: see the module doc)."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, ZaloBotError):
        # Zalo documents no error strings or statuses [I]: the shared table reads them HTTP-like.
        return classify_code(CHANNEL, exc.code, exc.description)
    return SendError("retry", type(exc).__name__, retry_after=DEFAULT_RETRY_SECONDS)


async def send_outbound(client: ZaloBotClient, chat_id: str, message: Outbound) -> str | None:
    """Send one `Outbound` as plain text (and a photo); returns the last message id."""
    if message.buttons:
        # Direct replies arrive with buttons already numbered by the core; an outbox message with
        # buttons cannot offer them here, and its text must make sense without them.
        log.info("zalo_bot cannot show buttons; sending the text only")
    text = (message.text or "").strip()
    parts = split_text(text, MAX_TEXT) if text else []
    last: str | None = None
    if message.image:
        caption = parts[0] if len(parts) == 1 else None
        payload: dict[str, Any] = {"chat_id": chat_id, "photo": message.image}
        if caption:
            payload["caption"] = caption
            parts = []
        last = _message_id(await client.call("sendPhoto", payload))
    for part in parts:
        last = _message_id(await client.call("sendMessage", {"chat_id": chat_id, "text": part}))
    if last is None and not message.image:
        raise SendError("message", "empty message")
    return last


def _message_id(result: Any) -> str | None:
    return str(result.get("message_id")) if isinstance(result, dict) else None


@dataclass
class ZaloBotSender:
    """`scheduler.sender.Sender` for the Zalo Bot Platform: what the outbox dispatcher calls."""

    client: ZaloBotClient
    owns_client: bool = False
    channel: str = CHANNEL

    @classmethod
    def from_settings(cls, settings: Settings, db: object = None) -> ZaloBotSender:
        """A sender with its own HTTP client, without polling or a webhook (tests, benchmarks)."""
        cfg = settings.zalo_bot
        if not cfg.token:
            raise ValueError("zalo_bot token is not configured")
        return cls(ZaloBotClient(cfg.token, cfg.api_base_url), owns_client=True)

    async def send(
        self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
    ) -> SendResult:
        try:
            message_id = await send_outbound(self.client, chat_id, message)
        except Exception as exc:  # noqa: BLE001 - every failure is classified for the dispatcher
            error = classify_send_error(exc)
            log.info("zalo_bot send to a %s chat failed: %s", chat_kind, error)
            raise error from exc
        return SendResult(message_id=message_id)

    async def close(self) -> None:
        if self.owns_client:
            await self.client.close()
