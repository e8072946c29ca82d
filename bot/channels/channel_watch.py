"""Each running bot is checked every `health_check_seconds`, and a bot that is down is retried
until it works again, without a restart (`ChannelWatch`; the platform's calls are in
`telegram_watch.TelegramWatch` and `zalo_bot_watch.ZaloBotWatch`).

Why: a token revoked while the bot runs in webhook mode was only noticed when a send failed (the
platform simply stops posting the bot's updates), and a station bot's token refused at start kept
the channel down until a restart, even when the refusal was transient. Now:

- a bot that is up is asked `getMe` every interval, and in webhook mode `getWebhookInfo` too;
- a refused token (Telegram 401/404, PTB `InvalidToken`; Zalo Bot 401) marks the channel
  `token_rejected` in `/readyz` and `/metrics`;
- a webhook the platform no longer has is set again (when `webhook_url` is ours to set), one
  that points elsewhere is `webhook_lost`, and one Telegram fails to deliver to while updates
  wait is `webhook_failing` (its `last_error_message` is logged once);
- a bot that is down, or that never started, is retried sooner (2 s doubling up to 60 s, never
  later than the interval): when the token is accepted again the channel starts again (menus,
  polling or the webhook registered again) and is marked up.

Other failures (a network cut, a 5xx) change nothing but the next try's time: the channel's state
is what the platform last said about the token. Only the error's type is ever logged: PTB puts the
token in `InvalidToken`'s message, and request URLs carry it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.channel_health import TOKEN_REJECTED, WEBHOOK_FAILING, WEBHOOK_LOST, ChannelHealth

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 2.0  # a bot that is down: then doubling, up to the maximum
RETRY_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class WebhookState:
    """What the platform says about the bot's webhook (getWebhookInfo)."""

    url: str
    pending: int = 0  # updates waiting to be delivered
    error_at: datetime | None = None  # the last failed delivery
    error: str = ""  # the platform's words about it (never carries the token)


class ChannelWatch:
    """The health check and the restarts of one bot (`name`: e.g. `telegram`, `zalo_bot@2`).

    `connect` (re)starts the channel and marks it up; `running` says whether its update intake
    still runs (the poller stops on a refused token); `webhook_url` is None in polling mode, ""
    for a webhook set by hand (not ours to set again); `register_webhook` sets ours.
    """

    def __init__(
        self,
        name: str,
        health: ChannelHealth,
        *,
        connect: Callable[[], Awaitable[None]],
        running: Callable[[], bool],
        interval: float,
        webhook_url: str | None = None,
        register_webhook: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.health = health
        self.connect = connect
        self.running = running
        self.interval = interval
        self.webhook_url = webhook_url
        self.register_webhook = register_webhook
        self.connected = False
        self.failures = 0  # checks that failed in a row (a start that failed counts as one)

    def delay(self) -> float:
        """Seconds to the next check: the interval while up, a growing pause while down."""
        if self.failures == 0:
            return self.interval
        cap = min(RETRY_MAX_SECONDS, self.interval) if self.interval else RETRY_MAX_SECONDS
        return min(RETRY_FIRST_SECONDS * 2 ** min(self.failures - 1, 16), cap)

    async def run(self) -> None:
        """Check until cancelled (with `interval` 0: only until the bot has started)."""
        while self.failures or self.interval:
            await asyncio.sleep(self.delay())
            self.failures = 0 if await self.check() else self.failures + 1

    async def check(self) -> bool:
        """One check (or restart); True when the bot is up."""
        try:
            await self.get_me()  # first: a refused token goes no further (no menus tried)
            if not self.connected or not self.running():
                await self.connect()  # menus, polling or the webhook again; marks it up
                self.connected = True
                return True
            if self.webhook_url is not None:
                return await self._check_webhook()
            self.health.up(self.name)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - only the type: messages may carry the token
            if self.refused(exc):
                self.health.down(self.name, TOKEN_REJECTED)
                self.connected = False  # accepted again: started again (the webhook set again)
                return False
            log.warning(
                "%s: health check failed (%s); tried again soon", self.name, type(exc).__name__
            )
            return False

    # -- the platform's side --

    async def get_me(self) -> None:
        """Ask the platform who the bot is (raises when it refuses the token)."""
        raise NotImplementedError

    def refused(self, exc: Exception) -> bool:
        """Whether `exc` says the platform refused the token."""
        raise NotImplementedError

    async def webhook_info(self) -> WebhookState:
        raise NotImplementedError

    async def _check_webhook(self) -> bool:
        info = await self.webhook_info()
        if not info.url:
            if self.register_webhook is None:  # set by hand: not ours to set again
                self.health.down(self.name, WEBHOOK_LOST)
                return False
            log.warning("%s: the platform had no webhook for the bot; setting it again", self.name)
            await self.register_webhook()
        elif self.webhook_url and info.url != self.webhook_url:
            self.health.down(self.name, WEBHOOK_LOST)  # another deployment took it: no tug of war
            return False
        elif info.pending and self._recent(info.error_at):
            if self.health.states.get(self.name) != WEBHOOK_FAILING:
                log.warning("%s: the webhook is not delivered to: %s", self.name, info.error)
            self.health.down(self.name, WEBHOOK_FAILING)
            return False
        self.health.up(self.name)
        return True

    def _recent(self, when: datetime | None) -> bool:
        """A delivery failed within the last check period (the platform's clock, whole seconds)."""
        if when is None:
            return False
        window = timedelta(seconds=max(self.interval, RETRY_MAX_SECONDS) + 1)
        return when >= datetime.now(UTC) - window
