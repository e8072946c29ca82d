"""Telegram command menus for staff chats (BotCommandScopeChat): each staff member's private chat
lists the resident commands plus what their role may do; each Telegram staff group lists the
ticket commands. Read from `bot.permissions`, so the menu never offers a refused command."""

from __future__ import annotations

import logging
from collections.abc import Container

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.channels.telegram_commands import COMMAND_DESCRIPTIONS, MENU_COMMANDS
from bot.config import Settings
from bot.feedback.routing import parse_staff_chat
from bot.i18n import gettext_for
from bot.permissions import commands_for

log = logging.getLogger(__name__)
MAX_COMMANDS = 100  # Telegram's limit per scope and language


def staff_groups(settings: Settings) -> list[str]:
    """Telegram group chats that receive ticket cards."""
    values = [settings.feedback.staff_chat, *(c.staff_chat for c in settings.feedback.categories)]
    chats = {parse_staff_chat(v, settings) for v in values if v}
    return sorted(c.chat_id for c in chats if c and c.channel == "telegram" and c.kind == "group")


def menu_for(role: str | None, available: Container[str], language: str,
             *, residents: bool = True) -> list[BotCommand]:
    tr = gettext_for(language)
    found = [BotCommand(c, tr(COMMAND_DESCRIPTIONS[c])) for c in MENU_COMMANDS
             if residents and c in available and c != "trogiup"]
    found += [BotCommand(c, tr(text)[:256]) for c, text in commands_for(role) if c in available]
    if "trogiup" in available:
        found.append(BotCommand("trogiup", tr(COMMAND_DESCRIPTIONS["trogiup"])))
    return found[:MAX_COMMANDS]


async def set_staff_command_menus(bot: Bot, settings: Settings, available: Container[str]) -> int:
    """setMyCommands per staff chat, in Vietnamese and English; returns how many scopes were set."""
    targets: list[tuple[str, str | None, bool]] = [
        (m.telegram_id, m.role, True) for m in settings.staff if m.telegram_id.lstrip("-").isdigit()
    ]
    # In a staff group anyone there sees the menu: list what plain staff may do with tickets.
    targets += [(chat_id, "staff", False) for chat_id in staff_groups(settings)]
    done = 0
    for chat_id, role, residents in targets:
        for language in ("vi", "en"):
            commands = menu_for(role, available, language, residents=residents)
            if not residents:
                commands = [c for c in commands if c.command not in ("phat", "khancap", "huyphat")]
            try:
                await bot.set_my_commands(
                    commands, scope=BotCommandScopeChat(int(chat_id)),
                    language_code=None if language == "vi" else language)
                done += 1
            except TelegramError as exc:  # a chat the bot cannot see yet: the rest still get theirs
                log.warning("setMyCommands for a staff chat (%s) failed: %s", language, exc)
    return done



