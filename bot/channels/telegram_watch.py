"""The health check of a running Telegram bot (`ChannelWatch`, bot/channels/channel_watch.py):
`getMe`, and `getWebhookInfo` in webhook mode, through python-telegram-bot. A refused token is
PTB's `InvalidToken` (Telegram's 401 Unauthorized or 404 Not Found): its message holds the token,
so only its type is ever logged.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram.error import InvalidToken

from bot.channel_health import ChannelHealth
from bot.channels.channel_watch import ChannelWatch, WebhookState


class TelegramWatch(ChannelWatch):
    """`ChannelWatch` over one PTB `Bot` (the application's)."""

    def __init__(self, name: str, bot: Bot, health: ChannelHealth, **kwargs: Any) -> None:
        super().__init__(name, health, **kwargs)
        self.bot = bot

    async def get_me(self) -> None:
        await self.bot.get_me()

    def refused(self, exc: Exception) -> bool:
        return isinstance(exc, InvalidToken)

    async def webhook_info(self) -> WebhookState:
        info = await self.bot.get_webhook_info()
        return WebhookState(
            info.url, info.pending_update_count, info.last_error_date, info.last_error_message or ""
        )
