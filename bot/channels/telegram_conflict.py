"""Polling is one process per bot token: say so clearly when two pollers collide.

Telegram answers a second `getUpdates` on the same token with 409 "Conflict: terminated by other
getUpdates request", and python-telegram-bot retries it forever with a generic log line. This
error callback for `Updater.start_polling` names the cause and the way out (webhook mode for
several workers, docs/deploy.md), at most once a minute; other polling errors are logged by type
only (their messages may carry the request URL, and the URL carries the token).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram.error import Conflict, TelegramError

log = logging.getLogger("bot.channels.telegram")

REPEAT_SECONDS = 60.0
TWO_POLLERS = (
    "telegram: another process is polling this bot token (Telegram answered 409 Conflict). "
    "Polling mode runs ONE worker per bot: stop the other one, or run several workers in "
    'webhook mode (mode = "webhook", see docs/deploy.md)'
)
WEBHOOK_SET = (
    "telegram: this bot token has a webhook set, so polling is refused (409 Conflict): use "
    'mode = "webhook", or delete the webhook'
)


def polling_error_callback(clock: Callable[[], float] = time.monotonic
                           ) -> Callable[[TelegramError], None]:
    last = {"at": float("-inf")}

    def on_error(error: TelegramError) -> None:
        if isinstance(error, Conflict):
            now = clock()
            if now - last["at"] >= REPEAT_SECONDS:
                last["at"] = now
                log.error(WEBHOOK_SET if "webhook" in str(error).lower() else TWO_POLLERS)
            return
        log.warning("telegram: polling failed (%s); retrying", type(error).__name__)

    return on_error
