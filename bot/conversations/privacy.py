"""Residents see and delete the personal data the station keeps (Decree 13/2023/ND-CP)."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import local_date
from bot.model import Button
from bot.router import Router
from storage import people

router = Router()
router.keyword("dulieu", "du lieu", "du lieu cua toi", "my data", "privacy")

ERASE_STATE = "privacy.erase"


@router.command("dulieu", "mydata", groups=False)
async def my_data(ctx: Context) -> None:
    _ = ctx._
    data = await people.personal_data(ctx.session, ctx.contact.person.id)
    none = _("(nothing)")
    lines = [
        _("What the station keeps about you:"),
        _("Language: {value}").format(value=data.get("locale") or none),
        _("Area: {value}").format(value=data.get("area") or none),
        _("Phone number: {value}").format(value=data.get("phone") or none),
        _("Consent given: {value}").format(
            value=local_date(data["consent_at"], ctx.locale) if data.get("consent_at") else none
        ),
        _("News topics: {value}").format(value=", ".join(data.get("topics") or []) or none),
        _("Children registered for reminders: {value}").format(
            value=len(data.get("children") or [])
        ),
        _("Feedback tickets: {value}").format(value=", ".join(data.get("tickets") or []) or none),
        _("Messages are kept for {days} days, then deleted.").format(
            days=ctx.settings.database.message_log_retention_days
        ),
    ]
    ctx.reply(
        "\n".join(lines),
        [[Button(_("Delete my data"), "erase")], [Button(_("Main menu"), "menu")]],
    )


@router.button("erase")
async def ask_erase(ctx: Context) -> None:
    _ = ctx._
    ctx.set_state(ERASE_STATE)
    ctx.reply(
        _(
            "This deletes your settings, subscriptions, reminders, phone number and chat history. "
            "Feedback you sent stays only as anonymous statistics. Are you sure?"
        ),
        [[Button(_("Yes, delete"), "erase_yes")], [Button(_("No, keep"), "menu")]],
    )


@router.button("erase_yes")
async def erase(ctx: Context) -> None:
    if ctx.state != ERASE_STATE:
        await ask_erase(ctx)
        return
    person = ctx.contact.person
    ctx.clear_state()
    await people.erase_person(ctx.session, person.id)
    ctx.forget_exchange = True
    ctx.reply(ctx._("Your data has been deleted. If you write again, we start afresh."))
