"""Resident groups and chat lifecycle: joining, the group's area (`/khuvuc`), leaving, migration, blocks.

Channel adapters turn platform membership updates into events; this module keeps the `Chat` rows
right so broadcasts reach the groups of an area and never a chat that cannot be written to:
- "joined_group" (event_arg = the group's title): record the group as active, post an introduction;
- "left_group": the bot was removed: inactive, unreachable ("removed");
- "migrated" (event_arg = the new chat id): the group became a supergroup, keep its area;
- "blocked" / "unblocked": a resident blocked the bot in a private chat, or came back.
"""

from __future__ import annotations

from bot.context import Context
from bot.router import Router
from storage import people

router = Router()
router.keyword("khuvuc", "khu vuc", "area")

REMOVED = "removed"
BLOCKED = "blocked"
MAX_TITLE_CHARS = 255


@router.event("joined_group")
async def joined_group(ctx: Context) -> None:
    chat = ctx.contact.chat
    chat.kind = "group"
    chat.title = (ctx.inbound.event_arg or chat.title or "")[:MAX_TITLE_CHARS] or None
    chat.active = True
    chat.unreachable_reason = None
    _ = ctx._
    lines = [
        _("Hello everyone! I am the assistant of {station}.").format(
            station=ctx.settings.station.name
        ),
        _(
            "In this group I share health news and reminders from the station, and I answer "
            "only when you speak to me: a command, a mention of me, or a reply to my message."
        ),
        _("Ask a health question: /hoi followed by your question."),
        _(
            "Group admins: set this group's area with /khuvuc followed by the area code, "
            "for example /khuvuc {code}."
        ).format(code=ctx.settings.areas[0].code if ctx.settings.areas else "TDP1"),
        _("In an emergency, call 115 right away."),
    ]
    ctx.reply("\n\n".join(lines))


@router.event("left_group")
async def left_group(ctx: Context) -> None:
    chat = ctx.contact.chat
    chat.active = False
    chat.unreachable_reason = REMOVED


@router.event("migrated")
async def migrated(ctx: Context) -> None:
    new_id = (ctx.inbound.event_arg or "").strip()
    if new_id and new_id != ctx.inbound.chat_id:
        await ctx.session.flush()
        await people.migrate_chat(ctx.session, ctx.inbound.channel, ctx.inbound.chat_id, new_id)


@router.event("blocked")
async def blocked(ctx: Context) -> None:
    ctx.contact.chat.unreachable_reason = BLOCKED


@router.event("unblocked")
async def unblocked(ctx: Context) -> None:
    if ctx.contact.chat.unreachable_reason == BLOCKED:
        ctx.contact.chat.unreachable_reason = None


@router.command("khuvuc", "area")
async def set_area(ctx: Context) -> None:
    """`/khuvuc <code>`: in a group, by its admin or a staff member; in private, one's own area."""
    _ = ctx._
    valid = ", ".join(f"{a.code} ({a.name})" for a in ctx.settings.areas)
    in_group = ctx.inbound.chat_kind == "group"
    if in_group and not (ctx.inbound.sender_is_group_admin or ctx.staff_member()):
        ctx.reply(
            _(
                "Sorry, only this group's admins or the health station's staff can set "
                "the group's area."
            )
        )
        return
    code = ctx.args.split()[0] if ctx.args.split() else ""
    if not code:
        current = ctx.contact.chat.area_code if in_group else ctx.contact.person.area_code
        area = ctx.settings.area(current) if current else None
        intro = (
            _("Current area: {area}.").format(area=area.name) if area else _("No area is set yet.")
        )
        ctx.reply(
            intro
            + "\n"
            + _("To set it, send /khuvuc followed by one of these codes: {codes}").format(
                codes=valid
            )
        )
        return
    area = ctx.settings.area(code)
    if area is None:
        ctx.reply(
            _("I don't know the area code {code}. Valid codes: {codes}").format(
                code=code[:32], codes=valid
            )
        )
        return
    if in_group:
        ctx.contact.chat.area_code = area.code
        ctx.reply(_("Done: this group now receives the news for {area}.").format(area=area.name))
    else:
        ctx.contact.person.area_code = area.code
        ctx.reply(_("Done: your area is now {area}.").format(area=area.name))
