"""Greeting, main menu, help, language choice and the station's contact card."""

from __future__ import annotations

from bot.context import Context
from bot.conversations.staff_menu import staff_help_lines
from bot.conversations.topics import show_entry
from bot.i18n import LOCALES, gettext_for
from bot.model import Button
from bot.router import Router
from bot.stations import parse_start
from content.normalize import normalize
from core.stations import entry_for, settings_for

ENGLISH_GREETINGS = ("hello", "hi", "hey", "good morning", "good afternoon", "good evening")

router = Router()
router.keyword("menu", "menu", "memu", "danh muc", "bat dau lai", "main menu")
router.keyword("start", "start", "bat dau", "xin chao", "chao", *ENGLISH_GREETINGS)
router.keyword("trogiup", "tro giup", "help", "huong dan", "giup toi")
router.keyword("ngonngu", "ngon ngu", "language", "english", "tieng anh", "tieng viet",
               "english please", "english pls", "in english", "speak english",
               "do you speak english", "can you speak english", "hello do you speak english",
               "hi do you speak english", "i speak english", "i don t speak vietnamese",
               "i dont speak vietnamese", "i do not speak vietnamese")
router.keyword("lienhe", "lien he", "contact", "so dien thoai tram")


def main_menu_buttons(ctx: Context) -> list[list[Button]]:
    _ = ctx._
    return [
        [Button(_("Health topics"), "topics")],
        [Button(_("Ask a question"), "ask")],
        [Button(_("Feedback / complaint"), "cmd:gopy")],
        [Button(_("Subscribe to news"), "cmd:theodoi")],
        [Button(_("Vaccination & BHYT reminders"), "cmd:nhaclich")],
        [Button(_("Contact the station"), "cmd:lienhe")],
        [Button("Tiếng Việt / English", "cmd:ngonngu")],
        *([[Button(_("Staff menu"), "cmd:canbo")]] if ctx.staff_member() is not None else []),
    ]


def move_to_station(ctx: Context, station_id: int) -> None:
    """The resident (in a private chat) or the group now belongs to `station_id`."""
    if station_id == ctx.station_id:
        return
    ctx.contact.chat.station_id = station_id
    if ctx.inbound.chat_kind == "private":
        ctx.contact.person.station_id = station_id
        ctx.contact.person.area_code = None  # an area of the old station means nothing here


def points_to_own_bot(ctx: Context, station_id: int) -> bool:
    """On the shared Telegram bot, Zalo Bot or Zalo OA, a station that has its own there: its link
    is the answer instead of a move (its own bot or OA could not write to this chat: Zalo user ids
    are per OA and per Zalo Bot, and a Telegram bot writes only to who started it). True when it
    answered so."""
    entry = entry_for(ctx.services.settings, station_id)
    if entry is None or ctx.inbound.station_id is not None:
        return False
    _ = ctx._
    name = settings_for(ctx.services.settings, station_id).station.name
    if ctx.inbound.channel == "telegram" and entry.telegram.token:
        username = entry.telegram.bot_username
        ctx.reply(_("{station} has its own Telegram bot: {link}").format(
            station=name, link=f"https://t.me/{username}") if username else _(
            "{station} has its own Telegram bot; please ask the station for its address.").format(
            station=name))
        return True
    if ctx.inbound.channel == "zalo_bot" and entry.zalo_bot.token:
        ctx.reply(_own_zalo_bot(ctx, name, entry.zalo_bot.name, entry.zalo_bot.link))
        return True
    if ctx.inbound.channel == "zalo_oa" and entry.zalo_oa.app_id:
        oa_id = entry.zalo_oa.oa_id
        ctx.reply(_("{station} has its own Zalo Official Account: {link}").format(
            station=name, link=f"https://zalo.me/{oa_id}") if oa_id else _(
            "{station} has its own Zalo Official Account; please ask the station for its "
            "address.").format(station=name))
        return True
    return False


def _own_zalo_bot(ctx: Context, station: str, bot: str, link: str) -> str:
    """A Zalo Bot has no documented public link (shared/zalo-api.md): the link Zalo Bot Manager
    shows if configured, else the bot's name to search for in Zalo."""
    _ = ctx._
    if link:
        return _("{station} has its own Zalo Bot: {link}").format(station=station, link=link)
    if bot:
        return _("{station} has its own Zalo Bot, \u201c{bot}\u201d: please search for this "
                 "name in Zalo and write to it there.").format(station=station, bot=bot)
    return _("{station} has its own Zalo Bot; please ask the station for its name in "
             "Zalo.").format(station=station)


def ward_choice_open(ctx: Context) -> bool:
    """Several stations on the shared bot, a private chat: the resident may pick their ward."""
    return (bool(ctx.services.settings.stations) and ctx.inbound.station_id is None
            and ctx.inbound.chat_kind == "private")


@router.command("start", "batdau")
async def start(ctx: Context) -> None:
    """Greet by the station's name; a deep-link payload (`/start TDP1`) sets the area."""
    _ = ctx._
    station_id, area = parse_start(ctx.services.settings, ctx.args) if ctx.args else (None, None)
    if station_id is not None:  # a shared provincial bot: the link names the station (issue 21)
        if points_to_own_bot(ctx, station_id):
            return
        move_to_station(ctx, station_id)
    elif ctx.args:
        area = ctx.settings.area(ctx.args)
    station = ctx.settings.station
    if area is not None and ctx.inbound.chat_kind == "private":
        ctx.contact.person.area_code = area.code
    greeting = _(
        "Hello! This is the assistant of {station}. I can tell you about health topics, "
        "answer your questions and pass your feedback to the station."
    ).format(station=station.name)
    if area is not None:
        greeting += "\n" + _("Your area: {area}.").format(area=area.name)
    greeting += "\n" + _("In an emergency, call 115 right away.")
    if station_id is None and area is None and ward_choice_open(ctx):  # a shared provincial bot
        greeting += "\n" + _("Not your ward? Send /phuong and the name of your ward or commune.")
    if ctx.locale != "en" and normalize(ctx.inbound.text) in ENGLISH_GREETINGS:
        # Greeted in English by someone whose language is still Vietnamese: show the way to English.
        greeting += "\n\n" + gettext_for("en")(
            "Hello! To continue in English, choose \u201cTiếng Việt / English\u201d below."
        )
    ctx.reply(greeting, main_menu_buttons(ctx))


@router.command("menu")
async def menu(ctx: Context) -> None:
    ctx.reply(ctx._("Main menu: please choose."), main_menu_buttons(ctx))


@router.button("menu")
async def menu_button(ctx: Context) -> None:
    ctx.clear_state()
    await menu(ctx)


@router.command("trogiup", "help")
async def help_(ctx: Context) -> None:
    _ = ctx._
    lines = [
        _(
            "You can type a question in your own words, with or without accents, for example: "
            '"sot xuat huyet co lay khong".'
        ),
        _("Commands:"),
        "/menu – " + _("main menu"),
        "/hoi – " + _("ask a question"),
        "/gopy – " + _("send feedback or a complaint"),
        "/theodoi – " + _("subscribe to health news"),
        "/huy – " + _("stop all news"),
        "/nhaclich – " + _("vaccination and BHYT card reminders"),
        "/khamsuckhoe – " + _("free yearly check-up: book, move or cancel"),
        "/danhgia – " + _("rate the station's services"),
        "/ngonngu – " + _("change language"),
        "/dulieu – " + _("see or delete your data"),
        _("Station phone: {phone}. Emergency: 115.").format(phone=ctx.settings.station.phone),
    ]
    staff_lines = staff_help_lines(ctx)  # the staff part, by role
    if staff_lines:
        lines += ["", *staff_lines]
    buttons = [[Button(_("Main menu"), "menu")]]
    if staff_lines:
        buttons.append([Button(_("Staff menu"), "cmd:canbo")])
    ctx.reply("\n".join(lines), buttons)


@router.command("ngonngu", "language")
async def language(ctx: Context) -> None:
    arg = ctx.args.strip().lower()
    if arg in LOCALES:
        await _set_language(ctx, arg)
        return
    ctx.reply(
        "Chọn ngôn ngữ / Choose a language:",
        [[Button("Tiếng Việt", "lang:vi"), Button("English", "lang:en")]],
    )


@router.button("lang")
async def language_button(ctx: Context) -> None:
    await _set_language(ctx, ctx.args if ctx.args in LOCALES else "vi")


async def _set_language(ctx: Context, locale: str) -> None:
    ctx.contact.person.locale = locale
    ctx.locale = locale
    ctx.reply(ctx._("From now on I will write in English."), main_menu_buttons(ctx))


@router.command("lienhe", "contact")
async def contact(ctx: Context) -> None:
    await show_station_contact(ctx)


async def show_station_contact(ctx: Context) -> None:
    """The station card comes from the content library's station-info entry, filled from config."""
    await show_entry(ctx, "station-info.contact")
