"""Ward search on a shared provincial bot (issue 21): a resident who came without a deep link
types their ward's name, with or without diacritics ("phuong an khanh", "an khanh"), picks their
station from a short list (buttons, or numbers on channels without buttons), and belongs to it.

- `/phuong [name]` (also "chọn phường", "choose ward"): the list, or a question for the name;
- free text that plainly names a ward (`core.stations.names_a_ward`) gets the list before it is
  taken for a health question;
- the choice moves the resident to the station (`move_to_station`) and shows its contact card.

Private chats only (a group's station comes from its deep link). On a station's own bot the
station is already known and nothing moves.
"""

from __future__ import annotations

from bot.context import Context
from bot.conversations.start import move_to_station, points_to_own_bot
from bot.model import Button
from bot.router import Router
from core.stations import (
    find_stations,
    names_a_ward,
    settings_for,
    station_ids,
)

STATE = "ward"

router = Router()
router.keyword("phuong", "chon phuong", "doi phuong", "tim phuong", "chon xa", "phuong xa",
               "choose ward", "find ward", "change ward", "my ward")


@router.command("phuong", "ward", "chonphuong", groups=False)
async def ward_command(ctx: Context) -> None:
    """`/phuong An Khanh`: the matching stations; `/phuong`: ask for the name."""
    if not await _may_search(ctx):
        return
    if ctx.args:
        await _show(ctx, ctx.args)
        return
    ctx.set_state(STATE)
    ctx.reply(ctx._('Type the name of your ward or commune, e.g. "An Khanh" '
                    "(accents are not needed)."))


@router.state(STATE)
async def typed_name(ctx: Context) -> None:
    await _show(ctx, ctx.inbound.text)


@router.probe
async def named_a_ward(ctx: Context) -> bool:
    """A message that plainly is a ward's name gets the list; anything else is a question."""
    settings = ctx.services.settings
    if ctx.inbound.chat_kind != "private" or ctx.inbound.station_id is not None:
        return False
    found = names_a_ward(settings, ctx.inbound.text)
    if not found:
        return False
    _choices(ctx, found)
    return True


@router.button("ward")
async def chose(ctx: Context) -> None:
    _ = ctx._
    settings = ctx.services.settings
    ctx.clear_state()
    if ctx.inbound.chat_kind != "private" or not await _may_search(ctx):
        return
    station_id = int(ctx.args) if ctx.args.isdigit() else 0
    if station_id not in station_ids(settings):
        ctx.reply(_("That button is no longer valid. Here is the menu again."),
                  [[Button(_("Main menu"), "menu")]])
        return
    chosen = settings_for(settings, station_id).station
    if points_to_own_bot(ctx, station_id):  # its residents are written to by its own bot / OA
        return
    move_to_station(ctx, station_id)
    ctx.reply(_("Your health station is now {station}, {address}. Phone: {phone}.").format(
        station=chosen.name, address=chosen.address, phone=chosen.phone),
        [[Button(_("Main menu"), "menu")]])


async def _may_search(ctx: Context) -> bool:
    """Only where there is a choice: several stations, on the shared bot."""
    settings = ctx.services.settings
    if ctx.inbound.station_id is not None or not settings.stations:
        ctx.clear_state()
        ctx.reply(ctx._("This chatbot serves {station}.").format(station=ctx.settings.station.name))
        return False
    return True


async def _show(ctx: Context, query: str) -> None:
    found = find_stations(ctx.services.settings, query)
    if not found:
        ctx.set_state(STATE)
        ctx.reply(ctx._('I found no ward or commune called "{name}". Please type the name again, '
                        'e.g. "An Khanh".').format(name=query.strip()[:60]),
                  [[Button(ctx._("Main menu"), "menu")]])
        return
    ctx.clear_state()
    _choices(ctx, found)


def _choices(ctx: Context, found: list[int]) -> None:
    settings = ctx.services.settings
    buttons = [[Button(settings_for(settings, sid).station.name, f"ward:{sid}")] for sid in found]
    ctx.reply(ctx._("Which is your health station? Please choose:"), buttons)
