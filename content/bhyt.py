"""Household health-insurance (BHYT hộ gia đình) premiums computed from the base salary.

Rates (Decree 146/2018 Art. 7, kept by Decree 188/2025): the 1st member pays 4.5% of the base
salary (lương cơ sở) per month; the 2nd, 3rd and 4th pay 70%, 60% and 50% of that; the 5th
member onwards 40%. The base salary changes by decree on a date, so it is a dated table kept as
content data (`content/data/base_salary.yaml`): `base_salary_on(day)` picks the row in force on
the day a resident asks. A new decree is one new row there, not a code or config change. Amounts
are integer đồng.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import yaml
from babel.numbers import format_currency

BASE_SALARY_FILE = Path(__file__).resolve().parent / "data" / "base_salary.yaml"
FIRST_MEMBER_RATE = Fraction(45, 1000)
# Share of the 1st member's premium paid by member n (index 0 = 1st member); the last applies
# to the 5th member and everyone after.
MEMBER_SHARES: tuple[Fraction, ...] = (
    Fraction(1), Fraction(70, 100), Fraction(60, 100), Fraction(50, 100), Fraction(40, 100),
)
MONTHS_PER_YEAR = 12
BABEL_LOCALES = {"vi": "vi_VN", "en": "en"}


@dataclass(frozen=True)
class MemberRate:
    """Premium for the n-th household member (`member` = 5 means 5th and later)."""

    member: int
    share_percent: int
    monthly: int
    yearly: int


@dataclass(frozen=True)
class BaseSalaryPeriod:
    """One row of the base-salary table: in force from `start` until the next row's start."""

    start: dt.date
    amount: int
    document: str
    issuer: str = ""
    mark: str = ""


class BaseSalaryError(ValueError):
    """The base-salary table is missing, malformed or out of order."""


def load_base_salaries(path: Path | None = None) -> tuple[BaseSalaryPeriod, ...]:
    """The dated base-salary table, oldest first; raises `BaseSalaryError` naming the row."""
    file = Path(path) if path is not None else BASE_SALARY_FILE
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BaseSalaryError(f"{file.name}: cannot read the table: {exc}") from exc
    rows = raw.get("periods") if isinstance(raw, dict) else None
    if not isinstance(rows, list) or not rows:
        raise BaseSalaryError(f"{file.name}: expected a non-empty 'periods:' list")
    periods = []
    for n, row in enumerate(rows, start=1):
        where = f"{file.name}: period #{n}"
        if not isinstance(row, dict):
            raise BaseSalaryError(f"{where}: expected a mapping")
        start, amount, document = row.get("from"), row.get("amount"), row.get("document")
        if not isinstance(start, dt.date):
            raise BaseSalaryError(f"{where}: 'from' must be a date YYYY-MM-DD")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise BaseSalaryError(f"{where}: 'amount' must be a positive whole number of đồng")
        if not isinstance(document, str) or not document.strip():
            raise BaseSalaryError(f"{where}: 'document' (the decree) is required")
        periods.append(BaseSalaryPeriod(start, amount, document.strip(),
                                        str(row.get("issuer") or ""), str(row.get("mark") or "")))
    starts = [p.start for p in periods]
    if starts != sorted(set(starts)):
        raise BaseSalaryError(f"{file.name}: periods must be in date order, one per date")
    return tuple(periods)


@lru_cache(maxsize=1)
def default_base_salaries() -> tuple[BaseSalaryPeriod, ...]:
    """The shipped table, read once per process."""
    return load_base_salaries()


def base_salary_on(day: dt.date,
                   periods: tuple[BaseSalaryPeriod, ...] | None = None) -> BaseSalaryPeriod:
    """The row in force on `day` (before the first row: the first row, the oldest known)."""
    table = periods if periods is not None else default_base_salaries()
    current = table[0]
    for period in table:
        if period.start <= day:
            current = period
    return current


def previous_base_salary(period: BaseSalaryPeriod,
                         periods: tuple[BaseSalaryPeriod, ...] | None = None,
                         ) -> BaseSalaryPeriod | None:
    """The row before `period`, for a card paid before the current amount took effect."""
    table = periods if periods is not None else default_base_salaries()
    earlier = [p for p in table if p.start < period.start]
    return earlier[-1] if earlier else None


def household_rates(base_salary: int) -> list[MemberRate]:
    """Monthly and yearly premiums per household member, in whole đồng."""
    if base_salary <= 0:
        raise ValueError("base salary must be a positive number of đồng")
    first = FIRST_MEMBER_RATE * base_salary
    rates = []
    for n, share in enumerate(MEMBER_SHARES, start=1):
        monthly = first * share
        # Yearly from the exact monthly amount, rounded once, so 12 x rounding never drifts.
        rates.append(MemberRate(member=n, share_percent=int(share * 100),
                                monthly=round(monthly), yearly=round(monthly * MONTHS_PER_YEAR)))
    return rates


def format_vnd(amount: int, locale: str) -> str:
    """Money in VND the resident's way: "1.263.600 ₫" (vi) or "₫1,263,600" (en)."""
    return format_currency(amount, "VND", locale=BABEL_LOCALES.get(locale, "vi_VN"))


_MEMBER_LABELS = {
    "vi": ("Người thứ 1", "Người thứ 2", "Người thứ 3", "Người thứ 4", "Từ người thứ 5"),
    "en": ("1st member", "2nd member", "3rd member", "4th member", "5th member on"),
}
_LINE = {
    "vi": "• {label}: {yearly}/năm ({monthly}/tháng)",
    "en": "• {label}: {yearly}/year ({monthly}/month)",
}


def rates_table(base_salary: int, locale: str) -> str:
    """The household rates as short bullet lines for a phone screen."""
    lang = locale if locale in _LINE else "vi"
    return "\n".join(
        _LINE[lang].format(label=_MEMBER_LABELS[lang][r.member - 1],
                           yearly=format_vnd(r.yearly, lang), monthly=format_vnd(r.monthly, lang))
        for r in household_rates(base_salary)
    )
