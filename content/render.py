"""Turn a library entry into the text a resident reads: placeholders filled, rates computed,
a source line and follow-up buttons.

Placeholders: {station_name} {ward} {address} {phone} {hours} {map_url} (from `StationInfo`),
{base_salary} and {bhyt_rates} (computed from the configured base salary). Dates and money are
formatted with Babel in the resident's language.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field

from babel.dates import format_date

from content.bhyt import DEFAULT_BASE_SALARY, format_vnd, rates_table
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
OPTIONAL_PLACEHOLDERS = frozenset({"map_url", "ward"})
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
                          "base_salary", "bhyt_rates"})


def placeholders_in(text: str) -> set[str]:
    """Names of the `{placeholders}` used in `text`."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def fill(text: str, locale: str, station: StationInfo,
         base_salary: int = DEFAULT_BASE_SALARY) -> str:
    """Fill the placeholders of `text` for `locale`."""
    lang = locale if locale in _LABELS else "vi"
    values = _Blank(
        station_name=station.name, ward=station.ward, address=station.address,
        phone=station.phone, hours=station.hours_text(lang), map_url=station.map_url,
    )
    # A line about something the station has not configured (no map link) is left out
    # rather than shown half empty.
    empty = {name for name in OPTIONAL_PLACEHOLDERS if not values.get(name)}
    if empty:
        text = "\n".join(line for line in text.split("\n")
                         if not placeholders_in(line) & empty)
    used = placeholders_in(text)
    if "base_salary" in used:
        values["base_salary"] = format_vnd(base_salary, lang)
    if "bhyt_rates" in used:
        values["bhyt_rates"] = rates_table(base_salary, lang)
    return text.format_map(values)


def format_day(day: dt.date, locale: str) -> str:
    """A date as dd/mm/yyyy (Babel), the form Vietnamese readers expect."""
    return format_date(day, DATE_PATTERN, locale=_BABEL_LOCALES.get(locale, "vi_VN"))


def source_line(entry: Entry, locale: str, station: StationInfo) -> str:
    """"Nguồn: Bộ Y tế – Thông tư … · Cập nhật: 22/11/2026" in the resident's language."""
    lang = locale if locale in _LABELS else "vi"
    labels = _LABELS[lang]
    cited = "; ".join(_cite(s, lang, station) for s in entry.sources) or station.name
    day = entry.reviewed_on
    if entry.topic_id == STATION_TOPIC and station.updated_on is not None:
        day = station.updated_on  # the station's own details are as fresh as its config
    return (f"{labels['source']}: {cited}{SOURCE_SEPARATOR}"
            f"{labels['reviewed']}: {format_day(day, lang)}")


def _cite(source: Source, locale: str, station: StationInfo) -> str:
    issuer = fill(source.issuer, locale, station)
    detail = source.document or source.title
    return f"{issuer} – {detail}" if detail else issuer


def render_entry(entry: Entry, locale: str, station: StationInfo,
                 base_salary: int = DEFAULT_BASE_SALARY, today: dt.date | None = None,
                 library: Library | None = None) -> RenderedAnswer:
    """Render `entry` for `locale`; follow-up titles come from `library` (default: shipped).

    `today` is accepted for date-dependent wording; no entry text depends on it yet.
    """
    del today  # reserved: seasonal wording will use it
    text = fill(entry.text(locale), locale, station, base_salary)
    lib = library if library is not None else default_library()
    followups = [(ref, lib.entry(ref).title(locale)) for ref in entry.related
                 if lib.has_entry(ref) and lib.entry(ref).approved]
    return RenderedAnswer(text=text, source_line=source_line(entry, locale, station),
                          followups=followups[:MAX_FOLLOWUPS])
