"""`healthbot qr --area <code>`: printable posters with a QR code per channel, A4 and A5.

`--channel all` (the default without `--out`) writes one poster per configured channel and size
into `--out-dir`: Telegram (`https://t.me/<bot_username>?start=<area code>`; `/start <code>` then
sets the resident's area), Zalo Bot and Zalo OA (their configured links; the OA's follow link
`https://zalo.me/<oa_id>` by default) and the web chat (`[posters] web_url`). `--out FILE` writes a
single poster (Telegram, A4, unless `--channel`/`--size` say otherwise). Each poster carries the
station's name, the area's name, one line of instructions, the station's phone and hours.
Nothing it prints or logs contains a token: the Bot API's URLs (which carry it) are kept out of
the HTTP client's log while the bot's name is asked. It needs a TrueType font with Vietnamese diacritics: DejaVu Sans
(Debian `fonts-dejavu-core`) or Liberation Sans; without either, Pillow's built-in font is used and a
warning says the accents may not print.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from bot.config import Settings, load_settings
from bot.i18n import gettext_for
from bot.stations import DEFAULT_STATION, settings_for, station_by_code, station_ids
from core.stations import entry_for, own_zalo_oa

POSTER_SIZE = (1240, 1754)  # A4 portrait at 150 dpi
SIZES = {"A4": POSTER_SIZE, "A5": (874, 1240)}  # at 150 dpi
CHANNELS = ("telegram", "zalo_bot", "zalo_oa", "web")
QR_SIZE = 900
MARGIN = 80
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
REGULAR_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
BOLD_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")
TITLE_PT, AREA_PT, TEXT_PT, LINK_PT = 64, 52, 36, 28
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser("qr", help="posters with QR codes for every channel"))
    parser.add_argument("--area", required=True, help="area code, e.g. TDP1")
    parser.add_argument("--station", metavar="CODE", default=None,
                        help="station code when the installation serves several (default: [station])")
    parser.add_argument("--out", metavar="FILE", help="one PNG file (Telegram, A4 by default)")
    parser.add_argument("--out-dir", metavar="DIR", default=".",
                        help="folder for qr-<area>-<channel>-<size>.png (default: here)")
    parser.add_argument("--channel", choices=("all", *CHANNELS), default=None,
                        help="which channel (default: all configured; telegram with --out)")
    parser.add_argument("--size", choices=("A4", "A5", "both"), default=None,
                        help="paper size (default: both; A4 with --out)")
    parser.set_defaults(func=handle)


def deep_link(bot_username: str, area_code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={area_code}"


def find_font(names: tuple[str, ...]) -> Path | None:
    for folder in FONT_DIRS:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def _font(path: Path | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    return lines + ([current] if current else [])


def render_poster(settings: Settings, area_code: str, bot_username: str, *,
                  channel: str = "telegram", link: str | None = None,
                  size: str = "A4") -> Image.Image:
    """The poster image; raises KeyError for an unknown area code."""
    area = settings.area(area_code)
    if area is None:
        raise KeyError(area_code)
    _ = gettext_for("vi")
    link = link or deep_link(bot_username, area.code)
    paper = SIZES[size]
    scale = paper[0] / POSTER_SIZE[0]
    qr_size = int(QR_SIZE * scale)
    regular, bold = find_font(REGULAR_FONTS), find_font(BOLD_FONTS) or find_font(REGULAR_FONTS)
    poster = Image.new("RGB", paper, "white")
    draw = ImageDraw.Draw(poster)
    width = paper[0] - 2 * MARGIN
    y = int(MARGIN * scale)

    def pt(points: int) -> int:
        return max(12, int(points * scale))

    def centred(text: str, font: ImageFont.ImageFont, gap: int) -> None:
        nonlocal y
        for line in _wrap(draw, text, font, width):
            x = (paper[0] - draw.textlength(line, font=font)) / 2
            draw.text((x, y), line, fill="black", font=font)
            y += int(font.size * 1.3) if hasattr(font, "size") else 20
        y += gap

    centred(settings.station.name, _font(bold, pt(TITLE_PT)), 10)
    centred(area.name, _font(bold, pt(AREA_PT)), int(30 * scale))
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(link)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    code = code.resize((qr_size, qr_size), Image.Resampling.NEAREST)
    poster.paste(code, ((paper[0] - qr_size) // 2, y))
    y += qr_size + int(30 * scale)
    centred(instructions(channel), _font(regular, pt(TEXT_PT)), 20)
    centred(link, _font(regular, pt(LINK_PT)), 20)
    station = settings.station
    centred(_("Station phone: {phone}. Emergency: 115.").format(phone=station.phone),
            _font(bold, pt(LINK_PT)), 6)
    centred(station.hours_vi, _font(regular, pt(LINK_PT)), 0)
    return poster


def instructions(channel: str) -> str:
    _ = gettext_for("vi")
    return {
        "telegram": _("Scan this code with your phone camera to chat with the health station on "
                      "Telegram: health advice, news and feedback."),
        "zalo_bot": _("Scan this code with Zalo to chat with the health station's bot: health "
                      "advice, news and feedback."),
        "zalo_oa": _("Scan this code with Zalo and follow the health station's Official "
                     "Account: health advice, news and feedback."),
        "web": _("Scan this code with your phone camera to chat with the health station in the "
                 "browser, no app needed."),
    }[channel]


def channel_links(settings: Settings, area_code: str, bot_username: str) -> dict[str, str]:
    """The link each configured channel's poster opens (channels without one are left out)."""
    posters = settings.posters
    links: dict[str, str] = {}
    if bot_username:
        links["telegram"] = deep_link(bot_username, area_code)
    if posters.zalo_bot_link:
        links["zalo_bot"] = posters.zalo_bot_link
    oa_link = posters.zalo_oa_link or (
        f"https://zalo.me/{settings.zalo_oa.oa_id}" if settings.zalo_oa.oa_id else "")
    if oa_link:
        links["zalo_oa"] = oa_link
    if posters.web_url:
        sep = "&" if "?" in posters.web_url else "?"
        links["web"] = f"{posters.web_url}{sep}start={area_code}"
    return links


def resolve_username(settings: Settings) -> str:
    """The configured @username, or the one Telegram reports for the token; '' if neither."""
    cfg = settings.telegram
    if cfg.bot_username:
        return cfg.bot_username.lstrip("@")
    if not cfg.token:
        return ""
    from telegram import Bot

    from bot.channels.telegram_send import file_base_url

    async def ask() -> str:
        async with Bot(
            cfg.token, base_url=cfg.api_base_url, base_file_url=file_base_url(cfg.api_base_url)
        ) as bot:
            return bot.username or ""

    quiet = [logging.getLogger(name) for name in ("httpx", "httpcore", "telegram")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:  # their request lines carry the Bot API URL, and so the token
        lg.setLevel(logging.WARNING)
    try:
        return asyncio.run(ask())
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot resolve"
        print(
            f"healthbot qr: could not ask Telegram for the bot's name ({type(exc).__name__})",
            file=sys.stderr,
        )
        return ""
    finally:
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    station_id = station_by_code(settings, args.station) if args.station else DEFAULT_STATION
    if station_id is None:
        codes = ", ".join(settings_for(settings, i).station.code for i in station_ids(settings))
        print(f"healthbot qr: unknown station code {args.station!r}; valid codes: {codes}",
              file=sys.stderr)
        return EXIT_USAGE
    several = bool(settings.stations)
    own_oa = own_zalo_oa(settings, station_id)
    entry = entry_for(settings, station_id)
    settings = settings_for(settings, station_id)
    if entry is not None and entry.zalo_bot.token:  # its own Zalo Bot: its link or none
        settings = dataclasses.replace(settings, posters=dataclasses.replace(
            settings.posters, zalo_bot_link=entry.zalo_bot.link))
    if own_oa is not None and own_oa.oa_id:  # a station's own OA: its posters lead there
        settings = dataclasses.replace(settings, zalo_oa=own_oa, posters=dataclasses.replace(
            settings.posters, zalo_oa_link=""))
    area = settings.area(args.area)
    if area is None:
        codes = ", ".join(f"{a.code} ({a.name})" for a in settings.areas)
        print(
            f"healthbot qr: unknown area code {args.area!r}; valid codes: {codes}", file=sys.stderr
        )
        return EXIT_USAGE
    single = bool(args.out)
    wanted = args.channel or ("telegram" if single else "all")
    channels = CHANNELS if wanted == "all" else (wanted,)
    username = resolve_username(settings) if "telegram" in channels else ""
    # several stations (issue 21): the link names the station too, e.g. XUANLA_TDP1
    start = f"{settings.station.code}_{area.code}" if several else area.code
    links = channel_links(settings, start, username)
    if wanted != "all" and wanted not in links:
        hint = {"telegram": "[telegram] bot_username (or a token that can reach Telegram)",
                "zalo_bot": "[stations.zalo_bot] link" if entry is not None and
                entry.zalo_bot.token else "[posters] zalo_bot_link", "zalo_oa": "[zalo_oa] oa_id",
                "web": "[posters] web_url"}[wanted]
        print(f"healthbot qr: set {hint} in the configuration", file=sys.stderr)
        return EXIT_USAGE
    if not links:
        print("healthbot qr: no channel has a link to put on a poster; set [telegram] "
              "bot_username, [posters] zalo_bot_link / web_url or [zalo_oa] oa_id",
              file=sys.stderr)
        return EXIT_USAGE
    if find_font(REGULAR_FONTS) is None:
        print(
            "healthbot qr: warning: no DejaVu/Liberation font found; Vietnamese accents may not "
            "print (install fonts-dejavu-core)",
            file=sys.stderr,
        )
    sizes = ("A4", "A5") if (args.size or ("A4" if single else "both")) == "both" else (
        args.size or "A4",)
    for channel in channels:
        if channel not in links:
            continue
        for size in sizes:
            if single:
                out = Path(args.out)
            else:
                Path(args.out_dir).mkdir(parents=True, exist_ok=True)
                prefix = f"{settings.station.code}-" if several else ""
                out = Path(args.out_dir) / f"qr-{prefix}{area.code}-{channel}-{size}.png"
            poster = render_poster(settings, area.code, username, channel=channel,
                                   link=links[channel], size=size)
            poster.save(out, "PNG", dpi=(150, 150))
            print(f"Poster for {area.name} ({channel}, {size}): {out} ({links[channel]})")
            if single:
                return 0
    return 0
