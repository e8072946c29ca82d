"""Turn a library entry into the text a resident reads: placeholders filled, rates computed,
a source line and follow-up buttons.

Placeholders: {station_name} {ward} {address} {phone} {hours} {map_url} (from `StationInfo`);
{base_salary} {base_salary_from} {base_salary_decree} {bhyt_rates} from the base-salary row in
force on the day asked (`content.bhyt.base_salary_on`), and {previous_base_salary}
{previous_first_member} for the row before it (a card paid before the change). A configured
base salary overrides the table. Dates and money are formatted with Babel in the resident's
language.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel.dates import format_date

from content.bhyt import (
    BaseSalaryPeriod,
    base_salary_on,
    format_vnd,
    household_rates,
    previous_base_salary,
    rates_table,
)
from content.library import Entry, Library, Source, default_library
from content.station import StationInfo

DATE_PATTERN = "dd/MM/yyyy"
MAX_FOLLOWUPS = 3
STATION_TOPIC = "station-info"
SOURCE_SEPARATOR = " · "
_LABELS = {
    "vi": {"source": "Nguồn", "reviewed": "Cập nhật"},
    "en": {"source": "Source", "reviewed": "Reviewed"},
}
OPTIONAL_PLACEHOLDERS = frozenset({"map_url", "ward", "previous_base_salary",
                                   "previous_first_member", "base_salary_decree",
                                   "base_salary_from"})
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_BABEL_LOCALES = {"vi": "vi_VN", "en": "en"}


@dataclass(frozen=True)
class RenderedAnswer:
    """What the bot sends: the text, the source line under it, and follow-up entries."""

    text: str
    source_line: str
    followups: list[tuple[str, str]] = field(default_factory=list)


class _Blank(dict[str, str]):
    # An unknown placeholder renders as nothing rather than crashing a resident's answer;
    # `content check` reports unknown placeholders to staff before publishing.
    def __missing__(self, key: str) -> str:
        return ""


PLACEHOLDERS = frozenset({"station_name", "ward", "address", "phone", "hours", "map_url",
                          "base_salary", "bhyt_rates", "base_salary_from", "base_salary_decree",
                          "previous_base_salary", "previous_first_member"})
BASE_SALARY_PLACEHOLDERS = frozenset({"base_salary", "bhyt_rates", "base_salary_from",
                                      "base_salary_decree", "previous_base_salary",
                                      "previous_first_member"})


def placeholders_in(text: str) -> set[str]:
    """Names of the `{placeholders}` used in `text`."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def vn_today() -> dt.date:
    """Today in Vietnam: the day whose base salary and review ages apply."""
    return dt.datetime.now(VN_TZ).date()


def base_salary_period(today: dt.date | None = None,
                       override: int | None = None) -> BaseSalaryPeriod:
    """The base-salary row for `today`; a configured `override` (> 0) replaces the table."""
    day = today or vn_today()
    if override:
        return BaseSalaryPeriod(start=day, amount=override, document="")
    return base_salary_on(day)


def fill(text: str, locale: str, station: StationInfo,
         base_salary: int | None = None, today: dt.date | None = None) -> str:
    """Fill the placeholders of `text` for `locale` as of `today` (default: today in Vietnam).

    `base_salary` is an explicit override of the dated table (0 or None: use the table).
    """
    lang = locale if locale in _LABELS else "vi"
    values = _Blank(
        station_name=station.name, ward=station.ward, address=station.address,
        phone=station.phone, hours=station.hours_text(lang), map_url=station.map_url,
    )
    if placeholders_in(text) & BASE_SALARY_PLACEHOLDERS:
        values.update(_base_salary_values(lang, today, base_salary))
    # A line about something the station has not configured (no map link) is left out
    # rather than shown half empty.
    empty = {name for name in OPTIONAL_PLACEHOLDERS if not values.get(name)}
    if empty:
        text = "\n".join(line for line in text.split("\n")
                         if not placeholders_in(line) & empty)
    return text.format_map(values)


def _base_salary_values(lang: str, today: dt.date | None, override: int | None) -> dict[str, str]:
    period = base_salary_period(today, override)
    values = {
        "base_salary": format_vnd(period.amount, lang),
        "bhyt_rates": rates_table(period.amount, lang),
        "base_salary_from": format_text_day(period.start, lang) if not override else "",
        "base_salary_decree": period.document,
    }
    # With an override the table's periods do not apply: no "before ..." line.
    previous = None if override else previous_base_salary(period)
    if previous is not None:
        values["previous_base_salary"] = format_vnd(previous.amount, lang)
        values["previous_first_member"] = format_vnd(household_rates(previous.amount)[0].yearly,
                                                     lang)
    return values


def format_text_day(day: dt.date, locale: str) -> str:
    """A date inside an answer: dd/mm/yyyy in Vietnamese, "1 July 2026" in English (unambiguous
    to foreign readers, who may read 1/7 as January 7)."""
    if locale == "en":
        return format_date(day, "d MMMM yyyy", locale="en")
    return format_day(day, locale)


def format_day(day: dt.date, locale: str) -> str:
    """A date as dd/mm/yyyy (Babel), the form Vietnamese readers expect."""
    return format_date(day, DATE_PATTERN, locale=_BABEL_LOCALES.get(locale, "vi_VN"))


def source_line(entry: Entry, locale: str, station: StationInfo,
                today: dt.date | None = None, base_salary: int | None = None) -> str:
    """"Nguồn: Bộ Y tế – Thông tư … · Cập nhật: 22/11/2026" in the resident's language."""
    lang = locale if locale in _LABELS else "vi"
    labels = _LABELS[lang]
    cited = "; ".join(
        _cite(s, lang, station, today, base_salary) for s in entry.sources) or station.name
    day = entry.reviewed_on
    if entry.topic_id == STATION_TOPIC and station.updated_on is not None:
        day = station.updated_on  # the station's own details are as fresh as its config
    return (f"{labels['source']}: {cited}{SOURCE_SEPARATOR}"
            f"{labels['reviewed']}: {format_day(day, lang)}")


def _cite(source: Source, locale: str, station: StationInfo, today: dt.date | None,
          base_salary: int | None) -> str:
    issuer = fill(source.issuer, locale, station, base_salary, today)
    # A dated fact cites the decree in force on the day ({base_salary_decree}).
    detail = fill(source.document or source.title, locale, station, base_salary, today)
    return f"{issuer} – {detail}" if detail else issuer


def _vn_day(when: dt.date | dt.datetime | None) -> dt.date:
    """The Vietnamese calendar day of `when`: an aware datetime (a UTC clock) is converted, so a
    question at 00:30 on 1/7 in Vietnam (17:30 UTC on 30/6) gets the figures of 1/7."""
    if when is None:
        return vn_today()
    if isinstance(when, dt.datetime):
        return when.astimezone(VN_TZ).date() if when.tzinfo else when.date()
    return when


def render_entry(entry: Entry, locale: str, station: StationInfo,
                 base_salary: int | None = None, today: dt.date | dt.datetime | None = None,
                 library: Library | None = None) -> RenderedAnswer:
    """Render `entry` for `locale` as of `today` (the day asked, a date or an aware datetime;
    default today in Vietnam).

    Dated facts (the base salary) are picked for `today`; `base_salary` overrides the table.
    Follow-up titles come from `library` (default: shipped).
    """
    today = _vn_day(today)
    text = fill(entry.text(locale), locale, station, base_salary, today)
    lib = library if library is not None else default_library()
    followups = [(ref, lib.entry(ref).title(locale)) for ref in entry.related
                 if lib.has_entry(ref) and lib.entry(ref).approved]
    return RenderedAnswer(text=text,
                          source_line=source_line(entry, locale, station, today, base_salary),
                          followups=followups[:MAX_FOLLOWUPS])
