"""The health station's identity (from configuration), used to fill content placeholders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StationInfo:
    """Name, address, phone and opening hours of the station, as configured by staff.

    `hours` maps a locale ("vi", "en") to a human-readable text. `updated_on` dates the
    station's own information in source lines; when None, the entry's review date is used.
    """

    name: str
    ward: str
    address: str
    phone: str
    hours: dict[str, str] = field(default_factory=dict)
    map_url: str = ""
    updated_on: dt.date | None = None

    def hours_text(self, locale: str) -> str:
        return self.hours.get(locale) or self.hours.get("vi") or next(iter(self.hours.values()), "")
