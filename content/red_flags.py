"""Red flags: recognise danger in a resident's message before anything else looks at it.

`detect(text)` returns the first `RedFlag` whose patterns match, or None. The patterns live in
`content/red_flags.yaml` (see docs/safety.md for how to add one). They are regular expressions
over the folded text of `content.normalize.normalize()` (no diacritics, abbreviations and
teencode expanded: "ko mun song" → "khong mun song"), in rule order, first match wins:

- `vi` / `en`: patterns per language; a hit on an `en` pattern marks the flag as English.
- a pattern may be a mapping `{folded: ..., marked: ...}`: when the resident typed diacritics, the
  marked regex (over the lower-cased text WITH diacritics) must match too, so "ăn từ từ" (slowly)
  is not "tự tử" while "an tu tu" without marks stays a red flag (safety first).
- `unless`: folded patterns that cancel the rule ("phòng đuối nước cho trẻ" is prevention).
- `requires`: folded patterns of which one must be present too (dengue signs need a fever).

Blood pressure readings ("huyết áp 185/115", "HA 18/11", "bp 190 over 120") and a baby's age
with fever ("bé 6 tuần sốt") are read as numbers by the two functions at the bottom. The module
is pure: data and functions, no I/O beyond reading its YAML once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from content.normalize import fold, marked_form, normalize

RED_FLAGS_FILE = Path(__file__).resolve().parent / "red_flags.yaml"
WINDOW_CHARS = 2000  # normalize() reads this much at a time (content.normalize.MAX_INPUT_CHARS)
WINDOW_OVERLAP = 400  # a danger phrase cut by a window's edge is whole in the next window
MAX_SCAN_CHARS = 8000  # twice Telegram's longest message (4096): every message is read to its end


@dataclass(frozen=True)
class RedFlag:
    """A danger recognised in a message: its kind, the entry that answers it, and the language."""

    kind: str
    entry_id: str
    english: bool = False


@dataclass(frozen=True)
class _Pattern:
    folded: re.Pattern[str]
    marked: re.Pattern[str] | None
    english: bool


@dataclass(frozen=True)
class Rule:
    """One kind of danger: the patterns that recognise it and the library entry that answers."""

    kind: str
    entry_id: str
    patterns: tuple[_Pattern, ...]
    unless: re.Pattern[str] | None
    requires: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    """All rules in order plus the numeric thresholds."""

    rules: tuple[Rule, ...]
    bp_systolic: int
    bp_diastolic: int
    bp_entry: str
    infant_months: int
    infant_entry: str


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


def _compile_marked(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")


def _any(patterns: list[str] | None) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return _compile("|".join(f"(?:{p})" for p in patterns))


def _rule(raw: dict[str, Any]) -> Rule:
    patterns: list[_Pattern] = []
    for lang in ("vi", "en"):
        for item in raw.get(lang) or []:
            if isinstance(item, dict):
                patterns.append(
                    _Pattern(
                        _compile(item["folded"]), _compile_marked(item["marked"]), lang == "en"
                    )
                )
            else:
                patterns.append(_Pattern(_compile(str(item)), None, lang == "en"))
    return Rule(
        kind=str(raw["kind"]),
        entry_id=str(raw["entry"]),
        patterns=tuple(patterns),
        unless=_any(raw.get("unless")),
        requires=_any(raw.get("requires")),
    )


@lru_cache(maxsize=1)
def load_rules(path: Path = RED_FLAGS_FILE) -> Rules:
    """The red-flag rules, compiled once per process."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    bp = data["blood_pressure"]
    infant = data["infant_fever"]
    return Rules(
        rules=tuple(_rule(r) for r in data["rules"]),
        bp_systolic=int(bp["systolic"]),
        bp_diastolic=int(bp["diastolic"]),
        bp_entry=str(bp["entry"]),
        infant_months=int(infant["under_months"]),
        infant_entry=str(infant["entry"]),
    )


def detect(text: str, rules: Rules | None = None) -> RedFlag | None:
    """The danger in `text`, or None. Cheap enough to run on every message (tens of µs).

    A long message (a rambling voice-to-text paragraph, a story pasted in) is read in
    overlapping windows to its end: the danger is often told last. Among the windows the rule
    that comes first in the YAML answers, as it would in a short message.
    """
    if not text or not text.strip():
        return None
    rules = rules or load_rules()
    text = text[:MAX_SCAN_CHARS]
    if len(text) <= WINDOW_CHARS:
        return _detect_window(text, rules)[1]
    best: tuple[int, RedFlag | None] = (len(rules.rules) + 2, None)
    for start in range(0, len(text) - WINDOW_OVERLAP, WINDOW_CHARS - WINDOW_OVERLAP):
        found = _detect_window(text[start : start + WINDOW_CHARS], rules)
        if found[1] is not None and found[0] < best[0]:
            best = found
    return best[1]


def _detect_window(text: str, rules: Rules) -> tuple[int, RedFlag | None]:
    """(rank of the rule that matched, its flag) for at most WINDOW_CHARS of text."""
    folded = normalize(text)
    if not folded:
        return len(rules.rules) + 2, None
    marked = marked_form(text)
    for rank, rule in enumerate(rules.rules):
        hit = _first_hit(rule, folded, marked)
        if hit is not None:
            return rank, RedFlag(rule.kind, rule.entry_id, hit.english)
    raw = fold(text)
    if very_high_blood_pressure(raw, rules):
        english = _ENGLISH_BP.search(folded) is not None and _looks_english(folded)
        return len(rules.rules), RedFlag("hypertensive_crisis", rules.bp_entry, english)
    if infant_with_fever(folded, rules):
        english = _ENGLISH_FEVER.search(folded) is not None and _looks_english(folded)
        return len(rules.rules) + 1, RedFlag("infant_fever", rules.infant_entry, english)
    return len(rules.rules) + 2, None


# A reading or an age is language-neutral: English only when English words carry the message.
_ENGLISH_BP = re.compile(r"(?<![a-z])(?:blood pressure|bp|over)(?![a-z])")
_ENGLISH_FEVER = re.compile(r"(?<![a-z])(?:fever|temperature|baby|newborn|old)(?![a-z])")


def _first_hit(rule: Rule, folded: str, marked: str | None) -> _Pattern | None:
    if rule.unless is not None and rule.unless.search(folded):
        return None
    if rule.requires is not None and not rule.requires.search(folded):
        return None
    for pattern in rule.patterns:
        if not pattern.folded.search(folded):
            continue
        if marked is not None and pattern.marked is not None and not pattern.marked.search(marked):
            continue  # typed with diacritics, and they say it is another word
        return pattern
    return None


# --- numbers -----------------------------------------------------------------------------------

_BP_CONTEXT = re.compile(
    r"(?<![a-z])(?:huyet ap|h ?a|bp|blood pressure|mmhg|tam thu|tam truong|ap huyet)(?![a-z])"
)
# "185/115", "185 / 115", "185-115", "190 over 120", "18/11"; the first number may follow the
# context word directly ("huyết áp 200").
_BP_PAIR = re.compile(r"(?<!\d)(\d{2,3})\s*(?:/|\\|-|:|over|tren)\s*(\d{2,3})(?!\d)")
_BP_SPACED = re.compile(r"(?<![\d/])(\d{2,3})\s+(\d{2,3})(?![\d/])")
_BP_SINGLE = re.compile(
    r"(?:huyet ap|h ?a|bp|blood pressure|tam thu)\D{0,20}?(?<!\d)(\d{2,3})(?!\d)(?!\s*(?:/|\d))"
)
_NOT_PRESSURE = re.compile(r"^\s*(?:tuoi|nam|thang|ngay|tuan|gio|phut|kg|lan|vien|mg|years?|kg)\b")


_DATE_BEFORE = re.compile(
    r"(?<![a-z])(?:ngay|hom|le|tu|den|truoc|sau|thu \d|date|on|from|until)\s*$"
)


def _reading(value: int) -> int:
    """Residents write "huyết áp 18/11" for 180/110: readings under 30 are in cmHg."""
    return value * 10 if value <= 30 else value


def very_high_blood_pressure(raw: str, rules: Rules) -> bool:
    """A reading at or above the crisis threshold, written as residents write it."""
    has_context = _BP_CONTEXT.search(raw) is not None
    pairs = list(_BP_PAIR.finditer(raw))
    if has_context:  # "huyết áp 190 120": two numbers after the word are a reading too
        pairs += list(_BP_SPACED.finditer(raw))
    for match in pairs:
        high, low = int(match.group(1)), int(match.group(2))
        if _NOT_PRESSURE.match(raw[match.end() :]) or _DATE_BEFORE.search(raw[: match.start()]):
            continue
        if high <= 30 or low <= 20:
            if not has_context:
                continue
            high, low = _reading(high), _reading(low)
        if not (70 <= high <= 300 and 30 <= low <= 200 and high > low):
            continue  # a date or a ratio, not a blood pressure
        if not has_context and "/" not in match.group(0):
            continue
        if high >= rules.bp_systolic or low >= rules.bp_diastolic:
            return True
    if has_context:
        for match in _BP_SINGLE.finditer(raw):
            if _NOT_PRESSURE.match(raw[match.end() :]):
                continue
            value = _reading(int(match.group(1)))
            if value >= rules.bp_systolic and value <= 300:
                return True
    return False


_FEVER = re.compile(
    r"(?<![a-z])(?:sot|nong sot|fever|temperature|hot to the touch|feels? (?:very )?hot|burning up"
    r"|(?:nguoi|tran|than) (?:\w+ )?nong (?:ran|hoi|qua|lam|hon)"
    r"|3[89](?: [0-9])? (?:do|c|degrees?)|4[01](?: [0-9])? (?:do|c|degrees?))(?![a-z])"
)  # "bé 2 tháng 38 độ", "38.5 C": a temperature from 38 °C is a fever
_NEWBORN = re.compile(
    r"(?<![a-z])(?:so sinh|moi sinh|moi de|newborn|new born|moi chao doi)(?![a-z])"
)
# "bé 2 tháng sốt": an age right after a word for the child, even without "tuổi".
_BABY = re.compile(
    r"(?<![a-z])(?:be|chau|tre|con|baby|infant|son|daughter|nho)\s+(?:(duoi|chua du|under) )?$"
)  # "bé dưới 3 tháng": under the age said, so at most that age
_AGE = re.compile(r"(?<!\d)(\d{1,3})\s*(ngay|tuan|thang|days?|weeks?|months?|wk|wks|mo)(?![a-z])")


def infant_with_fever(folded: str, rules: Rules) -> bool:
    """A fever in a baby younger than the threshold ("bé 6 tuần sốt", "2 month old fever")."""
    if not _FEVER.search(folded):
        return False
    if _NEWBORN.search(folded):
        return True
    for match in _AGE.finditer(folded):
        value, unit = int(match.group(1)), match.group(2)
        tail = folded[match.end() : match.end() + 12]
        baby = _BABY.search(folded[: match.start()])
        if "tuoi" not in tail and " old" not in tail and not baby:
            continue  # "sốt 3 ngày" is a duration, not an age
        if unit.startswith(("ngay", "day")):
            months = value / 30
        elif unit.startswith(("tuan", "week", "wk")):
            months = value / 4.3
        else:
            months = value
        under = baby is not None and baby.group(1) is not None  # "dưới 3 tháng" counts
        if months < rules.infant_months or (under and months <= rules.infant_months):
            return True
    return False


_VI_WORDS = frozenset(
    "toi em con bi khong cua dang roi nha be ba ong me bo anh chi lam gi sao phai duoc muon "
    "qua nhieu thi la va voi cho".split()
)


# Words both languages use: "me" (mẹ) and "be" (bé) say Vietnamese only when no English
# function word says otherwise ("my mum doesn't know me", "he will be fine").
_SHARED_WORDS = frozenset({"me", "be"})
_EN_FUNCTION_WORDS = frozenset(
    "my the is are was he she his her it i you your and not doesn don can will has have of to "
    "in a an".split()
)


def _looks_english(folded: str) -> bool:
    words = folded.split()
    vietnamese = {w for w in words if w in _VI_WORDS}
    if vietnamese and vietnamese <= _SHARED_WORDS:
        return any(w in _EN_FUNCTION_WORDS for w in words)
    return bool(words) and not vietnamese


def looks_english(text: str) -> bool:
    """No Vietnamese marks and no common Vietnamese word: answer in English."""
    return marked_form(text) is None and _looks_english(normalize(text))
