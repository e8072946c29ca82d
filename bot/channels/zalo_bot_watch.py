"""The health check of a Zalo Bot in webhook mode (`ChannelWatch`, bot/channels/channel_watch.py):
`getMe` and `getWebhookInfo` (zalo-api.md 1.2) through the channel's own client. A refused token
is a 401 (zalo-api.md 1.1 [I] and 5); polling needs no watch: each poll says so itself.

`getWebhookInfo` has no delivery errors (only `url` and `updated_at`), so a Zalo webhook is
`webhook_lost` or set again, never `webhook_failing`.
"""

from __future__ import annotations

from typing import Any

from bot.channel_health import ChannelHealth
from bot.channels.channel_watch import ChannelWatch, WebhookState
from bot.channels.zalo_bot_send import ZaloBotClient, ZaloBotError

UNAUTHORIZED = 401


class ZaloBotWatch(ChannelWatch):
    """`ChannelWatch` over one `ZaloBotClient`."""

    def __init__(
        self, name: str, client: ZaloBotClient, health: ChannelHealth, **kwargs: Any
    ) -> None:
        super().__init__(name, health, **kwargs)
        self.client = client

    async def get_me(self) -> None:
        await self.client.call("getMe")

    def refused(self, exc: Exception) -> bool:
        return isinstance(exc, ZaloBotError) and exc.code == UNAUTHORIZED

    async def webhook_info(self) -> WebhookState:
        info = await self.client.call("getWebhookInfo")
        url = info.get("url") if isinstance(info, dict) else None
        return WebhookState(url if isinstance(url, str) else "")
