"""Ages: the ones a question states, and the ones an entry is written for.

An entry written for one age ("Bé 2 tháng tiêm gì?") declares `ages:` in its topic file, a
half-open range `{from: 2 months, under: 4 months}` (either bound may be left out). A question
that states an age outside it ("bé 9 tháng tiêm gì", "my 9-month-old") must not get that entry:
the matcher skips it and the topic's general entry answers, or nobody does.

Ages are compared in days. A stated age is the span it names: "2 tháng" is from 2 months to
under 3 months, "dưới 1 tuổi" is under one year, "trên 60 tuổi" is 60 years or more; it fits an
entry when the two ranges overlap. Questions are read in the matcher's folded form (`match_form`:
no diacritics, English stemmed, "2-month-old" → "2 month old"), so "2 tháng", "2 thang",
"2 months old", "9 tuần", "18 tháng tuổi", "7 tuổi" and "7 years old" are all read. Numbers in
words ("hai tháng", "nine months") are not. A number that is a duration or a date, not an age
("ho 2 tuần nay", "có thai 3 tháng", "for 3 weeks", "2 months ago", "ngày 2 tháng 9"), is left out.
"""

from __future__ import annotations

import math
import re

AgeRange = tuple[float, float]  # days, [from, under)

DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
# Folded (and English-stemmed) unit words → unit.
_UNITS = {
    "ngay": "day",
    "tuan": "week",
    "thang": "month",
    "tuoi": "year",
    "day": "day",
    "week": "week",
    "month": "month",
    "year": "year",
    "yr": "year",
    "yrs": "year",
    "yo": "year",
}
# "ngày" and "day" are ages only with "tuổi"/"old" after them ("10 ngày tuổi"): "sốt 3 ngày".
_NEEDS_OLD = frozenset({"ngay", "day"})
_OLD = frozenset({"tuoi", "old"})
# Words before the number that make it a bound: "dưới 1 tuổi", "over 60".
_UNDER = frozenset({"duoi", "under", "below"})
_OVER = frozenset({"tren", "over", "above", "ngoai", "tu", "from"})
# Words around the number that make it a duration or a pregnancy, not a child's age (folded).
# Not "mới" (folds to "moi" like "mỗi"): "bé mới 2 tháng" is an age.
_DURATION_BEFORE = frozenset(
    {
        "sau",
        "cach",
        "trong",
        "for",
        "in",
        "every",
        "after",
        "within",
        "last",
        "past",
    }
)
_PREGNANCY = frozenset({"thai", "bau", "pregnant", "pregnancy"})  # "có thai 3 tháng (tuổi)"
_DURATION_AFTER = frozenset(
    {
        "nay",
        "truoc",
        "nua",
        "qua",
        "dau",
        "cuoi",
        "lien",
        "ago",
        "later",
        "apart",
        "after",
        "before",
    }
)
_AGE = re.compile(r"\b(\d{1,3}) (" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b")


def parse_span(text: str) -> float:
    """Days in a written span such as "2 months", "1 month", "60 years"; ValueError otherwise."""
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"expected a number and a unit (days, weeks, months, years): {text!r}")
    unit = parts[1].lower().removesuffix("s")
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unknown unit {parts[1]!r}: use days, weeks, months or years")
    return int(parts[0]) * DAYS_PER_UNIT[unit]


def age_range(raw: object) -> AgeRange:
    """The range of an `ages:` field ({from: …, under: …}); ValueError saying what is wrong."""
    if not isinstance(raw, dict) or not raw or set(raw) - {"from", "under"}:
        raise ValueError(
            "expected a mapping with 'from' and/or 'under', e.g. {from: 2 months, under: 4 months}"
        )
    low = parse_span(str(raw["from"])) if "from" in raw else 0.0
    high = parse_span(str(raw["under"])) if "under" in raw else math.inf
    if low >= high:
        raise ValueError("'from' must be below 'under'")
    return low, high


def stated_ages(folded: str) -> list[AgeRange]:
    """The ages a question states, in days, from its folded form (`match_form`)."""
    if not any(c.isdigit() for c in folded):
        return []
    words = folded.split()
    out: list[AgeRange] = []
    for found in _AGE.finditer(folded):
        number, word = int(found.group(1)), found.group(2)
        at = folded.count(" ", 0, found.start())  # word index of the number
        before = words[at - 1] if at else ""
        after = words[at + 2] if at + 2 < len(words) else ""
        old = word in ("tuoi", "yo") or after in _OLD
        if (
            (word in _NEEDS_OLD and after not in _OLD)
            or before in _PREGNANCY
            or (after in _PREGNANCY)
        ):
            continue
        if word == "thang" and after.isdigit():
            continue  # "ngày 2 tháng 9": a date
        if not old and (before in _DURATION_BEFORE or after in _DURATION_AFTER):
            continue
        unit = DAYS_PER_UNIT[_UNITS[word]]
        if before in _UNDER:
            out.append((0.0, number * unit))
        elif before in _OVER:
            out.append((number * unit, math.inf))
        else:
            out.append((number * unit, (number + 1) * unit))
    return out


def fits(stated: list[AgeRange], ages: AgeRange | None) -> bool:
    """Whether an entry for `ages` may answer a question stating `stated` (any one overlaps)."""
    if ages is None or not stated:
        return True
    low, high = ages
    return any(s_low < high and low < s_high for s_low, s_high in stated)
