"""Every conversation of the bot, one module (and one router) per feature."""

from __future__ import annotations

from bot.conversations import (
    broadcast,
    broadcast_choice,
    checkups,
    checkups_edit,
    checkups_staff,
    feedback,
    groups,
    privacy,
    reminders,
    report_files,
    staff_menu,
    start,
    subscribe,
    survey,
    tickets_staff,
    topics,
    wards,
)
from bot.router import Router


def main_router() -> Router:
    """One router that includes every feature's router (the free-text handler answers questions)."""
    router = Router()
    # feedback comes after topics: its free-text handler routes ticket replies, then asks topics.
    for feature in (start, topics, subscribe, privacy, reminders, groups, feedback, tickets_staff,
                    broadcast, broadcast_choice, staff_menu, report_files, checkups, checkups_staff,
                    checkups_edit, survey, wards):
        router.include(feature.router)
    return router
