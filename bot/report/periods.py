"""The report's periods: a half-year ('2026-H1'), a year ('2026') or custom dates.

Local (Asia/Ho_Chi_Minh) dates, the end exclusive. Part of `bot.report.figures`, which
re-exports these names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    kind: str = "custom"  # H1 | H2 | year | custom

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def next(self) -> Period:
        if self.kind == "H1":
            return Period(date(self.start.year, 7, 1), date(self.start.year + 1, 1, 1), "H2")
        if self.kind == "H2":
            return Period(date(self.end.year, 1, 1), date(self.end.year, 7, 1), "H1")
        if self.kind == "year":
            return Period(date(self.end.year, 1, 1), date(self.end.year + 1, 1, 1), "year")
        return Period(self.end, self.end + (self.end - self.start), "custom")

    @property
    def slug(self) -> str:
        if self.kind == "H1":
            return f"{self.start.year}-H1"
        if self.kind == "H2":
            return f"{self.start.year}-H2"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start:%Y%m%d}-{self.last_day:%Y%m%d}"


PERIOD_RE = re.compile(r"^(\d{4})(?:-(H[12]))?$", re.IGNORECASE)


def parse_period(text: str) -> Period:
    """'2026-H1' (1/1–30/6), '2026-H2' (1/7–31/12) or '2026' (the year)."""
    m = PERIOD_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a period: {text!r} (use 2026-H1, 2026-H2 or 2026)")
    year, half = int(m.group(1)), (m.group(2) or "").upper()
    if half == "H1":
        return Period(date(year, 1, 1), date(year, 7, 1), "H1")
    if half == "H2":
        return Period(date(year, 7, 1), date(year + 1, 1, 1), "H2")
    return Period(date(year, 1, 1), date(year + 1, 1, 1), "year")


def period_between(first: date, last: date) -> Period:
    """--from/--to: both days included."""
    if last < first:
        raise ValueError("the end date is before the start date")
    return Period(first, last + timedelta(days=1), "custom")


def current_half(today: date) -> Period:
    return parse_period(f"{today.year}-H{1 if today.month <= 6 else 2}")
