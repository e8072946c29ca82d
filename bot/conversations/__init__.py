"""Every conversation of the bot, one module (and one router) per feature."""

from __future__ import annotations

from bot.conversations import groups, privacy, reminders, start, subscribe, topics
from bot.router import Router


def main_router() -> Router:
    """One router that includes every feature's router (the free-text handler answers questions)."""
    router = Router()
    for feature in (start, topics, subscribe, privacy, reminders, groups):
        router.include(feature.router)
    return router
