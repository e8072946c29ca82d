"""The routine (TCMR) vaccination schedule as data, and which doses a child is due for.

`content/data/vaccination_schedule.csv` copies table 1.2 of the project's health facts with its
legal basis and evidence mark (C confirmed, S secondary, U unverified, "C/S" mixed). Rows marked
U are flagged `unverified` and left out of `doses_due()` unless asked for: they must not drive a
reminder as if they were the law. Ages are completed ages in days from the birth date.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SCHEDULE_CSV = Path(__file__).resolve().parent / "data" / "vaccination_schedule.csv"
UNVERIFIED_MARK = "U"
_FIRST_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Dose:
    """One dose of the routine schedule (e.g. penta_2: 5-in-1 dose 2 at about 90 days)."""

    id: str
    vaccine_vi: str
    vaccine_en: str
    antigens: tuple[str, ...]
    dose: int
    target_age: str
    target_age_days: int
    min_interval_prev: str
    max_age: str
    max_age_days: int | None
    basis: str
    mark: str

    @property
    def unverified(self) -> bool:
        return UNVERIFIED_MARK in self.mark.split("/")

    def vaccine(self, locale: str) -> str:
        return self.vaccine_en if locale == "en" else self.vaccine_vi

    def due_date(self, birth_date: dt.date) -> dt.date:
        return birth_date + dt.timedelta(days=self.target_age_days)


def _days(text: str) -> int:
    # "0-30" → 0, "~730" → 730, "372-379" → 372: the earliest day the dose is due.
    match = _FIRST_NUMBER.search(text)
    if match is None:
        raise ValueError(f"no age in days: {text!r}")
    return int(match.group())


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[Dose, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Dose(
                id=row["id"], vaccine_vi=row["vaccine_vi"], vaccine_en=row["vaccine_en"],
                antigens=tuple(a for a in row["antigens"].split(";") if a),
                dose=int(row["dose"]), target_age=row["target_age"],
                target_age_days=_days(row["target_age_days"]),
                min_interval_prev=row["min_interval_prev"], max_age=row["max_age"],
                max_age_days=int(row["max_age_days"]) if row.get("max_age_days") else None,
                basis=row["basis"], mark=row["mark"],
            )
            for row in csv.DictReader(handle)
        )


def load_schedule(path: Path | None = None) -> list[Dose]:
    """All doses of the routine schedule, in table order."""
    return list(_load(Path(path) if path is not None else SCHEDULE_CSV))


def doses_due(birth_date: dt.date, on: dt.date, *, include_unverified: bool = False,
              path: Path | None = None) -> list[Dose]:
    """Doses a child born on `birth_date` has reached by `on` (still within any maximum age).

    The caller subtracts the doses already given; the answer is a reminder aid, and every
    message built from it must send the family to the station to confirm.
    """
    if on < birth_date:
        return []
    age_days = (on - birth_date).days
    return [
        dose for dose in load_schedule(path)
        if dose.target_age_days <= age_days
        and (dose.max_age_days is None or age_days < dose.max_age_days)
        and (include_unverified or not dose.unverified)
    ]
