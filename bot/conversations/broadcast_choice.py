"""A broadcast to a chosen list of stations (issue 21): "Only some stations" in `/phat`/`/khancap`.

A staff member who works for several stations (province staff: all) may send to some of them: at
the audience step they tap "Only some stations" and type the stations' codes or ward names,
separated by commas ("XUANLA, An Khanh"). The draft keeps the list (`stations`), the audience
question comes again, and the broadcast's `audience.stations` is that list
(`core.stations.reach`): only those stations' residents and groups get it, and its approvers are
those of every listed station, as for any broadcast.
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.conversations.broadcast import _ask_audience, _cancel_row, _draft, _staff
from bot.permissions import Action
from bot.router import Router
from bot.stations import (
    find_stations,
    may_act_on,
    scope_of,
    settings_for,
    station_by_code,
)

STATE = "broadcast.stations"

router = Router()


@router.button("bcs", action=Action.BROADCAST_COMPOSE)
async def ask(ctx: Context) -> None:
    member = _staff(ctx)
    if member is None:
        return
    if not ctx.state.startswith("broadcast"):
        ctx.reply(ctx._("That step has expired. Send /phat to start again."))
        return
    settings = ctx.services.settings
    known = "\n".join(f"{settings_for(settings, s).station.code} – "
                      f"{settings_for(settings, s).station.name}"
                      for s in scope_of(member, settings))
    ctx.set_state(STATE, **_draft(ctx))
    ctx.reply(ctx._("Type the stations' codes or ward names, separated by commas, for example "
                    "“XUANLA, An Khanh”.") + "\n" + known, [_cancel_row(ctx)])


@router.state(STATE, action=Action.BROADCAST_COMPOSE)
async def typed(ctx: Context) -> None:
    member = _staff(ctx)
    if member is None:
        return
    settings = ctx.services.settings
    chosen: list[int] = []
    unknown: list[str] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]", ctx.inbound.text))):
        station_id = station_by_code(settings, part)
        if station_id is None:
            found = find_stations(settings, part, fuzzy=False)
            station_id = found[0] if len(found) == 1 else None
        if station_id is None or not may_act_on(member, station_id):
            unknown.append(part[:40])
        elif station_id not in chosen:
            chosen.append(station_id)
    if unknown or not chosen:
        ctx.reply(ctx._("I do not know these stations: {names}. Please type the codes again.")
                  .format(names=", ".join(unknown) or "–"), [_cancel_row(ctx)])
        return
    ctx.set_state("broadcast", **{**_draft(ctx), "stations": chosen})
    ctx.reply(ctx._("Only these stations: {names}.").format(
        names=", ".join(settings_for(settings, s).station.name for s in chosen)))
    await _ask_audience(ctx)
