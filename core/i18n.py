"""Babel gettext catalogs for everything a resident or staff member reads, plus local formats.

Catalogs live in `bot/locale/<lang>/LC_MESSAGES/*.po`; every .po file of a language is merged, so each
feature can keep its own file. They are compiled in memory at start-up (no build step). Source strings
are English; `vi` is the default locale.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

# The catalogs stay in bot/locale (each feature adds its own .po there); only the loader is here.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "bot" / "locale"
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

Gettext = Callable[[str], str]


def normalize_locale(value: str | None) -> str:
    """Map anything (None, 'EN', 'en_US') to a supported locale, defaulting to Vietnamese."""
    if not value:
        return DEFAULT_LOCALE
    short = value.replace("-", "_").split("_")[0].lower()
    return short if short in LOCALES else DEFAULT_LOCALE


@cache
def translations(locale: str) -> Translations:
    """All catalogs of one locale merged into one `Translations`."""
    merged = Translations()
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        merged.merge(Translations(buf))
    return merged


def gettext_for(locale: str) -> Gettext:
    """The `_` function for one locale."""
    return translations(normalize_locale(locale)).gettext


def money(amount: int, locale: str) -> str:
    """Integer đồng as residents read it: '1.263.600 ₫'."""
    return format_currency(amount, "VND", locale=normalize_locale(locale))


def number(value: float, locale: str) -> str:
    return format_decimal(value, locale=normalize_locale(locale))


def local_date(value: date | datetime, locale: str) -> str:
    """dd/mm/yyyy in Vietnamese, the short English form otherwise, in Vietnam's time zone."""
    if isinstance(value, datetime):
        value = value.astimezone(TIMEZONE).date()
    loc = normalize_locale(locale)
    return format_date(value, "dd/MM/yyyy" if loc == "vi" else "d MMM yyyy", locale=loc)


def local_datetime(value: datetime, locale: str) -> str:
    """'14:30 25/12/2026' style date-time in Asia/Ho_Chi_Minh."""
    loc = normalize_locale(locale)
    pattern = "HH:mm dd/MM/yyyy" if loc == "vi" else "d MMM yyyy, HH:mm"
    return format_datetime(value, pattern, tzinfo=TIMEZONE, locale=loc)
