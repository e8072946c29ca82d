"""The command menu Telegram shows next to the text box: Vietnamese by default, English for
clients set to English. Only commands some conversation module provides are listed."""

from __future__ import annotations

import logging
from collections.abc import Container

from telegram import Bot, BotCommand, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.i18n import gettext_for

log = logging.getLogger(__name__)

# Commands shown in Telegram's menu, in this order, if a conversation module provides them.
MENU_COMMANDS = tuple(
    "start menu hoi gopy theodoi huy nhaclich khamsuckhoe danhgia khuvuc ngonngu lienhe dulieu "
    "trogiup".split()
)


def _(text: str) -> str:
    """Mark a string for extraction; it is translated when the menu is built."""
    return text


COMMAND_DESCRIPTIONS = {
    "start": _("Start and show the main menu"),
    "menu": _("Main menu"),
    "hoi": _("Ask a health question"),
    "gopy": _("Send feedback or a complaint"),
    "theodoi": _("Subscribe to health news"),
    "huy": _("Stop all news"),
    "nhaclich": _("Vaccination and health insurance reminders"),
    "khamsuckhoe": _("Free yearly check-up: book a time"),
    "danhgia": _("Rate the station's services"),
    "khuvuc": _("Set the area of this group (group admins)"),
    "ngonngu": _("Change language"),
    "lienhe": _("Contact the health station"),
    "dulieu": _("See or delete your data"),
    "trogiup": _("Help"),
}


async def set_command_menu(bot: Bot, available: Container[str]) -> None:
    """setMyCommands for the default (Vietnamese) and English clients; failures are logged."""
    names = [c for c in MENU_COMMANDS if c in available]
    for language in ("vi", "en"):
        tr = gettext_for(language)
        commands = [BotCommand(c, tr(COMMAND_DESCRIPTIONS[c])) for c in names]
        try:
            await bot.set_my_commands(
                commands,
                scope=BotCommandScopeDefault(),
                language_code=None if language == "vi" else language,
            )
        except TelegramError as exc:
            log.warning("setMyCommands (%s) failed: %s", language, exc)
