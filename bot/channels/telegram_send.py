"""Neutral `Outbound` -> Telegram calls, one error classifier, and the outbox `TelegramSender`.

Every text goes out as HTML with everything escaped, so a resident's "<b>" or "&" reaches people as
typed and can never break parsing. Buttons become an inline keyboard (callback data = `Button.data`,
already short ASCII). An image goes with `sendPhoto` and the text as its caption when it fits in
1024 characters, otherwise the text follows as its own message. Limits are counted on the text
before escaping: Telegram counts characters after entity parsing.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.model import Outbound
from bot.rendering import split_text
from scheduler.sender import SEND_ERRORS, SendError, SendResult, classify_code

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CAPTION = MessageLimit.CAPTION_LENGTH  # 1024
# Stop reasons that say the recipient cannot be written to (mark the chat). What each platform answer
# means lives in the one shared table, `scheduler.sender.SEND_ERRORS["telegram"]`.
UNREACHABLE_REASONS = frozenset(
    rule.reason for rule in SEND_ERRORS["telegram"].values() if rule.kind == "stop"
)
DEFAULT_RETRY_SECONDS = 5.0


def file_base_url(api_base_url: str) -> str:
    """The file download URL that goes with an API base URL ('…/bot' -> '…/file/bot')."""
    if api_base_url.endswith("/bot"):
        return api_base_url[: -len("/bot")] + "/file/bot"
    return api_base_url.rstrip("/") + "/file/bot"


def classify_send_error(exc: Exception) -> SendError:
    """python-telegram-bot errors -> `SendError`, by the shared table (`scheduler.sender`)."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return SendError("retry", "rate limited", retry_after=seconds)
    if isinstance(exc, ChatMigrated):
        return SendError("migrated", "group became a supergroup", new_chat_id=str(exc.new_chat_id))
    if isinstance(exc, (Forbidden, BadRequest)):
        code = 403 if isinstance(exc, Forbidden) else 400
        error = classify_code("telegram", code, str(exc.message))
        if error.kind == "message":
            log.warning("telegram refused a message: %s", exc.message)
        return error
    if isinstance(exc, InvalidToken):
        return SendError("retry", "invalid token", retry_after=60.0)
    if isinstance(exc, (TimedOut, NetworkError)):
        return SendError("retry", type(exc).__name__, retry_after=DEFAULT_RETRY_SECONDS)
    if isinstance(exc, TelegramError):
        return SendError("retry", type(exc).__name__, retry_after=DEFAULT_RETRY_SECONDS)
    return SendError("retry", type(exc).__name__, retry_after=DEFAULT_RETRY_SECONDS)


def keyboard(message: Outbound) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in message.buttons
        ]
    )


def _photo(image: str) -> str | bytes:
    """A local file is uploaded; anything else (a URL, a Telegram file id) is passed as is."""
    path = Path(image)
    if "://" not in image and path.is_file():
        return path.read_bytes()
    return image


async def send_outbound(
    bot: Bot, chat_id: int | str, message: Outbound, reply_to: int | None = None
) -> Message:
    """Send one `Outbound`; returns the last Telegram message. Raises PTB errors unchanged."""
    markup = keyboard(message)
    if message.edit_message_id and message.edit_message_id.isdigit() and not message.image:
        try:  # e.g. an approval card whose buttons are spent: edit it in place
            edited = await bot.edit_message_text(
                html.escape(message.text[:MAX_TEXT]), chat_id=chat_id,
                message_id=int(message.edit_message_id), parse_mode=ParseMode.HTML,
                reply_markup=markup)
            if isinstance(edited, Message):
                return edited
        except BadRequest as exc:  # gone or too old to edit: say it in a new message instead
            log.info("telegram edit failed, sending a new message: %s", exc.message)
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    text = message.text or ""
    parts = split_text(text, MAX_TEXT) if text.strip() else []
    last: Message | None = None
    if message.document:  # a report file (issue 17): the text is its caption
        path = Path(message.document)
        caption = text if len(text) <= MAX_CAPTION else ""
        last = await bot.send_document(
            chat_id, InputFile(path.read_bytes(), filename=path.name),
            caption=html.escape(caption) or None, parse_mode=ParseMode.HTML,
            reply_parameters=reply, reply_markup=markup if caption or not parts else None)
        reply = None
        if caption:
            parts = []
    elif message.image:
        caption = text if len(text) <= MAX_CAPTION else ""
        last = await bot.send_photo(
            chat_id,
            _photo(message.image),
            caption=html.escape(caption) or None,
            parse_mode=ParseMode.HTML,
            reply_parameters=reply,
            reply_markup=markup if caption or not parts else None,
        )
        reply = None
        if caption:
            parts = []
    for index, part in enumerate(parts):
        final = index == len(parts) - 1
        last = await bot.send_message(
            chat_id,
            html.escape(part),
            parse_mode=ParseMode.HTML,
            reply_parameters=reply,
            reply_markup=markup if final else None,
        )
        reply = None
    if last is None:
        raise SendError("message", "empty message")
    return last


@dataclass
class TelegramSender:
    """`scheduler.sender.Sender` for Telegram: what the outbox dispatcher calls."""

    bot: Bot
    owns_bot: bool = False
    channel: str = "telegram"
    _ready: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramSender:
        """A sender with its own HTTP client, without starting polling or a webhook."""
        cfg = settings.telegram
        if not cfg.token:
            raise ValueError("telegram token is not configured")
        bot = Bot(
            cfg.token, base_url=cfg.api_base_url, base_file_url=file_base_url(cfg.api_base_url)
        )
        return cls(bot, owns_bot=True)

    async def send(
        self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
    ) -> SendResult:
        reply_to = (
            int(message.reply_to_message_id)
            if (message.reply_to_message_id or "").isdigit()
            else None
        )
        try:
            if self.owns_bot and not self._ready:
                await self.bot.initialize()
                self._ready = True
            sent = await send_outbound(self.bot, int(chat_id), message, reply_to)
        except Exception as exc:  # noqa: BLE001 - every failure is classified for the dispatcher
            error = classify_send_error(exc)
            log.info("telegram send to a %s chat failed: %s", chat_kind, error)
            raise error from exc
        return SendResult(message_id=str(sent.message_id))

    async def close(self) -> None:
        if self.owns_bot and self._ready:
            await self.bot.shutdown()
            self._ready = False
