"""Household health-insurance (BHYT hộ gia đình) premiums computed from the base salary.

Rates (Decree 146/2018 Art. 7, kept by Decree 188/2025): the 1st member pays 4.5% of the base
salary (lương cơ sở) per month; the 2nd, 3rd and 4th pay 70%, 60% and 50% of that; the 5th
member onwards 40%. The base salary is configuration (2,340,000 đồng from 1/7/2024, Decree
73/2024), so a new decree needs a config change, not a code change. Amounts are integer đồng.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from babel.numbers import format_currency

DEFAULT_BASE_SALARY = 2_340_000
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


def household_rates(base_salary: int = DEFAULT_BASE_SALARY) -> list[MemberRate]:
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
