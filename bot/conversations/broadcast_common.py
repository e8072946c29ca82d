"""What every step of a staff broadcast shares: the limits, the staff check, the draft.

Part of `/phat` / `/khancap` / `/huyphat` (`bot.conversations.broadcast`).
"""

from __future__ import annotations

import logging

from bot.config import StaffMember
from bot.context import Context
from bot.model import Button

log = logging.getLogger("bot.conversations.broadcast")

TEXT_STATE = "broadcast.text"
WHEN_STATE = "broadcast.when"
PLACE_STATE = "broadcast.place"
MAX_TEXT_CHARS = 1500
PREVIEW_CHARS = 600
ID_FIELDS = {"telegram": "telegram_id", "zalo_bot": "zalo_bot_id", "zalo_oa": "zalo_oa_id",
             "web": "web_id"}
OPEN_STATUSES = ("pending_approval", "scheduled", "queued")


def _cancel_row(ctx: Context) -> list[Button]:
    return [Button(ctx._("Cancel"), "bc:quit")]


def _staff(ctx: Context) -> StaffMember | None:
    """The staff member behind this tap or text, in a private chat; refuse (and log) otherwise."""
    member = ctx.staff_member()
    if member is None or ctx.inbound.chat_kind != "private":
        log.warning("refused a broadcast action from a non-staff %s user", ctx.inbound.channel)
        ctx.clear_state()
        ctx.reply(ctx._("Sorry, this is only for the health station's staff, in a private chat."))
        return None
    return member


def _draft(ctx: Context) -> dict[str, object]:
    return {k: v for k, v in ctx.data.items() if k != "menu"}

