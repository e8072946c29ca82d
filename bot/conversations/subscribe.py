"""Residents choose which health news they receive (`/theodoi`) or stop everything (`/huy`)."""

from __future__ import annotations

from bot.context import Context
from bot.model import Button
from bot.router import Router
from storage import people, report_facts

router = Router()
router.keyword("theodoi", "theo doi", "dang ky", "dang ky nhan tin", "subscribe")
router.keyword("huy", "huy", "huy dang ky", "dung nhan tin", "unsubscribe", "stop")

# Topics that campaigns send about; station-info, emergency and feedback are not news topics.
NEWS_EXCLUDED = {"station-info", "emergency", "feedback"}


def news_topics(ctx: Context) -> list[tuple[str, str]]:
    return [
        (t.id, t.title(ctx.locale))
        for t in ctx.services.library.topics.values()
        if t.id not in NEWS_EXCLUDED
    ]


@router.command("theodoi", "subscribe", groups=False)
async def subscribe(ctx: Context) -> None:
    """Show every news topic with a mark for those already chosen."""
    chosen = set(await people.subscriptions(ctx.session, ctx.contact.person.id))
    rows = [
        [Button(("✅ " if tid in chosen else "") + title, f"sub:{tid}")]
        for tid, title in news_topics(ctx)
    ]
    rows.append([Button(ctx._("All topics"), "sub:*"), Button(ctx._("Done"), "menu")])
    ctx.reply(ctx._("Choose the topics you want news about (tap again to remove):"), rows)


@router.button("sub")
async def toggle(ctx: Context) -> None:
    person_id = ctx.contact.person.id
    known = dict(news_topics(ctx))
    chosen = set(await people.subscriptions(ctx.session, person_id))
    if ctx.args == "*":
        for tid in known:
            await people.subscribe(ctx.session, person_id, tid, ctx.station_id)
        ctx.reply(ctx._("You will receive news on all health topics. Send /huy to stop."))
        return
    if ctx.args not in known:
        await subscribe(ctx)
        return
    if ctx.args in chosen:
        await people.unsubscribe(ctx.session, person_id, ctx.args)
        await report_facts.record(ctx.session, report_facts.OPTOUT, channel=ctx.inbound.channel,
                                  station_id=ctx.station_id,
                                  at=ctx.now, topic=ctx.args,
                                  area_code=ctx.contact.person.area_code)
        ctx.reply(ctx._("Removed: {topic}.").format(topic=known[ctx.args]))
    else:
        await people.subscribe(ctx.session, person_id, ctx.args, ctx.station_id)
        ctx.reply(
            ctx._("Subscribed: {topic}. Send /huy to stop all news.").format(topic=known[ctx.args])
        )
    await subscribe(ctx)


@router.command("huy", "unsubscribe")
async def unsubscribe(ctx: Context) -> None:
    if await people.unsubscribe_all(ctx.session, ctx.contact.person.id):
        await report_facts.record(ctx.session, report_facts.OPTOUT, channel=ctx.inbound.channel,
                                  station_id=ctx.station_id,
                                  at=ctx.now, topic="*", area_code=ctx.contact.person.area_code)
    ctx.reply(
        ctx._(
            "Done: you will no longer receive news from the station. Send /theodoi to subscribe again."
        ),
        [[Button(ctx._("Main menu"), "menu")]],
    )
