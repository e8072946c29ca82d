"""Publishing rules kept as data (`content/data/content_rules.yaml`): which sources are official,
which are no source at all, and which phrases tie a text to one year.

Used by `healthbot content check`. Pure: reads one YAML file; everything else is functions of
an entry's text and sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from content.library import Source

RULES_FILE = Path(__file__).resolve().parent / "data" / "content_rules.yaml"
STATION_ISSUER = "{station_name}"
# A legal text named by its number: "Nghị định 188/2025/NĐ-CP", "Thông tư 13/2026/TT-BYT",
# "Quyết định 505/QĐ-BHXH", "Nghị quyết 72-NQ/TW", "Luật 51/2024/QH15".
LEGAL_TEXT = re.compile(r"\d+(?:/\d{4})?/(?:NĐ|TT|QĐ|QH|NQ|CĐ|CT|TTLT)\b|\d+-NQ/TW|\d+/\d{4}/QH\d+")
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# A count with thousands separators (45.554, 20,2 triệu) or 4+ digits, or a percentage.
FIGURE = re.compile(r"\d{1,3}(?:[.,]\d{3})+|\b\d{4,}\b|\d+(?:[.,]\d+)?\s?%")
# "800.000 ca", "45,554 cases", "20 triệu người": a count of cases or people.
COUNT_OF = re.compile(
    r"(?:\d{1,3}(?:[.,]\d{3})+|\d{4,}|\d+(?:[.,]\d+)?\s+(?:triệu|nghìn|million))"
    r"\s+(?:ca|cases|người|people|trường hợp|deaths)(?!\w)"
)
# 1/6/2021 or 9/2024: read as January 6 or fails to parse for many foreign readers.
NUMERIC_DATE = re.compile(
    r"(?<![\d/])(?:(?:0?[1-9]|[12]\d|3[01])/)?(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}"
    r"(?![\d/])"
)
# "Circular 10/2024", "Decree 73/2024": a document number, not a date.
DOCUMENT_WORD = re.compile(
    r"(?:circulars?|decrees?|decisions?|resolutions?|laws?|dispatch(?:es)?|"
    r"no\.|and|,)\s*$",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")
# "Chủ đề năm 2026: ...", "The 2026 theme": true for one year only.
YEAR_THEME = re.compile(
    r"(?:chủ đề|theme)\W+(?:năm\W+|of\W+|for\W+)?(?:19|20)\d{2}"
    r"|(?:19|20)\d{2}\W+theme",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContentRules:
    official_domains: tuple[str, ...]
    official_issuers: tuple[str, ...]
    not_sources: tuple[str, ...]
    year_bound_phrases: dict[str, tuple[str, ...]]
    figure_words: dict[str, tuple[str, ...]]


def load_rules(path: Path | None = None) -> ContentRules:
    raw = yaml.safe_load((path or RULES_FILE).read_text(encoding="utf-8")) or {}

    def names(key: str) -> tuple[str, ...]:
        return tuple(str(v).strip().lower() for v in raw.get(key) or ())

    def by_locale(key: str) -> dict[str, tuple[str, ...]]:
        return {str(k): tuple(str(v).lower() for v in vs) for k, vs in (raw.get(key) or {}).items()}

    return ContentRules(
        names("official_domains"),
        tuple(raw.get("official_issuers") or ()),
        names("not_sources"),
        by_locale("year_bound_phrases"),
        by_locale("figure_words"),
    )


@lru_cache(maxsize=1)
def default_rules() -> ContentRules:
    return load_rules()


def _host(url: str) -> str:
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()
    return host.removeprefix("www.")


def _domain_in(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith(f".{d}") for d in domains)


def is_official(source: Source, rules: ContentRules | None = None) -> bool:
    """An official primary source: an official domain, a legal text from an official issuer,
    or the station itself (for its own details)."""
    rules = rules or default_rules()
    if source.url:
        return _domain_in(_host(source.url), rules.official_domains)
    if source.issuer.strip() == STATION_ISSUER:
        return True
    issuer = source.issuer.split("(")[0].strip()
    official_issuer = any(issuer.startswith(name) for name in rules.official_issuers)
    return official_issuer and bool(LEGAL_TEXT.search(source.document))


def is_not_a_source(source: Source, rules: ContentRules | None = None) -> bool:
    """A code repository or a commercial chain: never a source, even a secondary one."""
    rules = rules or default_rules()
    return bool(source.url) and _domain_in(_host(source.url), rules.not_sources)


def year_bound_problems(text: str, locale: str, rules: ContentRules | None = None) -> list[str]:
    """Why `text` will be wrong next year: a relative-year phrase, or a figure without a year."""
    rules = rules or default_rules()
    lowered = text.lower()
    found = [
        f"year-bound phrase '{p}': name the year or drop it"
        for p in rules.year_bound_phrases.get(locale, ())
        if _has_phrase(lowered, p)
    ]
    if YEAR_THEME.search(text):
        found.append(
            "a theme for one year: it will be wrong next year; drop it or keep it in "
            "a dated campaign message"
        )
    words = rules.figure_words.get(locale, ())
    for sentence in SENTENCE_END.split(lowered):
        statistic = (
            FIGURE.search(sentence) and any(_has_phrase(sentence, w) for w in words)
        ) or COUNT_OF.search(sentence)
        if statistic and not YEAR.search(sentence):
            found.append(f"a figure without its year: '{sentence.strip()[:60]}'")
    return found


def _has_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def ambiguous_dates(text: str, locale: str) -> list[str]:
    """Numeric dates in English text ("1/6/2021"): write "1 June 2021" instead."""
    if locale != "en":
        return []
    return [
        f"numeric date '{m.group(0)}' is ambiguous in English: write it as '1 June 2021'"
        for m in NUMERIC_DATE.finditer(text)
        if not DOCUMENT_WORD.search(text[: m.start()])
    ]
