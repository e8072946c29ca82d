"""`healthbot qr --area <code> [--out file.png]`: a printable poster with a Telegram deep-link QR code.

The QR code opens `https://t.me/<bot_username>?start=<area code>`; `/start <code>` then sets the
resident's area on first contact. The poster carries the station's name, the area's name and one
line of instructions in Vietnamese. It needs a TrueType font with Vietnamese diacritics: DejaVu Sans
(Debian `fonts-dejavu-core`) or Liberation Sans; without either, Pillow's built-in font is used and a
warning says the accents may not print.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from bot.config import Settings, load_settings
from bot.i18n import gettext_for

POSTER_SIZE = (1240, 1754)  # A4 portrait at 150 dpi
QR_SIZE = 900
MARGIN = 80
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
REGULAR_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
BOLD_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")
TITLE_PT, AREA_PT, TEXT_PT, LINK_PT = 64, 52, 36, 28
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser("qr", help="print a poster with a Telegram QR code"))
    parser.add_argument("--area", required=True, help="area code, e.g. TDP1")
    parser.add_argument("--out", metavar="FILE", help="PNG file (default: qr-<area>.png)")
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


def render_poster(settings: Settings, area_code: str, bot_username: str) -> Image.Image:
    """The poster image; raises KeyError for an unknown area code."""
    area = settings.area(area_code)
    if area is None:
        raise KeyError(area_code)
    _ = gettext_for("vi")
    link = deep_link(bot_username, area.code)
    regular, bold = find_font(REGULAR_FONTS), find_font(BOLD_FONTS) or find_font(REGULAR_FONTS)
    poster = Image.new("RGB", POSTER_SIZE, "white")
    draw = ImageDraw.Draw(poster)
    width = POSTER_SIZE[0] - 2 * MARGIN
    y = MARGIN

    def centred(text: str, font: ImageFont.ImageFont, gap: int) -> None:
        nonlocal y
        for line in _wrap(draw, text, font, width):
            x = (POSTER_SIZE[0] - draw.textlength(line, font=font)) / 2
            draw.text((x, y), line, fill="black", font=font)
            y += int(font.size * 1.3) if hasattr(font, "size") else 20
        y += gap

    centred(settings.station.name, _font(bold, TITLE_PT), 10)
    centred(area.name, _font(bold, AREA_PT), 30)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(link)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    code = code.resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    poster.paste(code, ((POSTER_SIZE[0] - QR_SIZE) // 2, y))
    y += QR_SIZE + 30
    centred(
        _(
            "Scan this code with your phone camera to chat with the health station on "
            "Telegram: health advice, news and feedback."
        ),
        _font(regular, TEXT_PT),
        20,
    )
    centred(link, _font(regular, LINK_PT), 0)
    return poster


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

    try:
        return asyncio.run(ask())
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot resolve"
        print(
            f"healthbot qr: could not ask Telegram for the bot's name ({type(exc).__name__})",
            file=sys.stderr,
        )
        return ""


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    area = settings.area(args.area)
    if area is None:
        codes = ", ".join(f"{a.code} ({a.name})" for a in settings.areas)
        print(
            f"healthbot qr: unknown area code {args.area!r}; valid codes: {codes}", file=sys.stderr
        )
        return EXIT_USAGE
    username = resolve_username(settings)
    if not username:
        print(
            "healthbot qr: set [telegram] bot_username in the configuration "
            "(or a token that can reach Telegram)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if find_font(REGULAR_FONTS) is None:
        print(
            "healthbot qr: warning: no DejaVu/Liberation font found; Vietnamese accents may not "
            "print (install fonts-dejavu-core)",
            file=sys.stderr,
        )
    out = Path(args.out or f"qr-{area.code}.png")
    render_poster(settings, area.code, username).save(out, "PNG", dpi=(150, 150))
    print(f"Poster for {area.name}: {out} ({deep_link(username, area.code)})")
    return 0
