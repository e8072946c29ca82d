"""The content library: topics and entries loaded from `content/library/*.yaml`.

`load_library()` reads and validates every topic file and raises `LibraryError` naming the file,
the entry and the field at the first problem. The result is immutable and pure data: the matcher,
the renderer and the bot read it, nothing writes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from content.ages import AgeRange, age_range, fits, stated_ages
from content.normalize import match_form

DEFAULT_LIBRARY_DIR = Path(__file__).resolve().parent / "library"
LOCALES: tuple[str, ...] = ("vi", "en")
DEFAULT_LOCALE = "vi"
TOPIC_IDS: tuple[str, ...] = (
    "dengue", "hfmd", "measles", "flu", "vaccination", "bhyt", "food-safety", "hypertension",
    "diabetes", "tobacco-alcohol", "health-check", "elderly", "school-health", "station-info",
    "emergency", "feedback",
)
ENTRY_KINDS: tuple[str, ...] = ("question", "message")
STATUSES: tuple[str, ...] = ("approved", "draft")
MAX_TITLE_CHARS = 40


class LibraryError(ValueError):
    """The library files do not follow the schema; the message names file, entry and field."""


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: issuer, title, a URL or a document number, and its date."""

    issuer: str
    title: str
    url: str = ""
    document: str = ""
    date: str = ""


@dataclass(frozen=True)
class Entry:
    """One answer or message, in Vietnamese and English, with its sources and review date."""

    id: str
    topic_id: str
    kind: str
    titles: dict[str, str]
    texts: dict[str, str]
    questions: dict[str, tuple[str, ...]]
    sources: tuple[Source, ...]
    reviewed_on: dt.date
    status: str
    related: tuple[str, ...] = ()
    # The ages (days, [from, under)) the entry is written for, None for every age: a question
    # stating another age does not get it (`content.ages`).
    ages: AgeRange | None = None

    def title(self, locale: str | None = None) -> str:
        return _pick(self.titles, locale)

    def text(self, locale: str | None = None) -> str:
        return _pick(self.texts, locale)

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True)
class Topic:
    """A group of entries shown as one menu item (e.g. dengue)."""

    id: str
    titles: dict[str, str]
    entries: tuple[Entry, ...]
    source_file: str = ""
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Phrases that mean another subject although they share words with this topic ("bảo hiểm
    # ô tô" beside health insurance): a question with one and no topic's keyword gets no answer.
    not_about: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The entry that answers a question naming only the topic ("sốt xuất huyết"): `main:` in
    # the file, else the first entry.
    main: str = ""

    def title(self, locale: str | None = None) -> str:
        return _pick(self.titles, locale)

    @property
    def main_entry_id(self) -> str:
        return self.main or self.entries[0].id


@dataclass(frozen=True)
class Library:
    """All topics, in file order, with an index of entries by id."""

    topics: dict[str, Topic]
    _entries: dict[str, Entry] = field(default_factory=dict, repr=False)

    def entry(self, entry_id: str) -> Entry:
        try:
            return self._entries[entry_id]
        except KeyError:
            raise KeyError(f"unknown content entry: {entry_id}") from None

    def has_entry(self, entry_id: str) -> bool:
        return entry_id in self._entries

    def entries(self) -> Iterator[Entry]:
        for topic in self.topics.values():
            yield from topic.entries


def _pick(values: dict[str, str], locale: str | None) -> str:
    # English falls back to Vietnamese so a missing translation never leaves a blank message.
    if locale and values.get(locale):
        return values[locale]
    return values.get(DEFAULT_LOCALE) or next(iter(values.values()), "")


@lru_cache(maxsize=1)
def default_library() -> Library:
    """The shipped library, loaded once per process."""
    return load_library()


def load_library(path: Path | None = None) -> Library:
    """Load and validate every `*.yaml` topic file under `path` (default: the shipped library)."""
    directory = Path(path) if path is not None else DEFAULT_LIBRARY_DIR
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise LibraryError(f"{directory}: no topic files (*.yaml) found")
    topics: dict[str, Topic] = {}
    entries: dict[str, Entry] = {}
    for file in files:
        topic = parse_topic_file(file)
        if topic.id in topics:
            raise LibraryError(f"{file.name}: topic id '{topic.id}' already defined in "
                               f"{topics[topic.id].source_file}")
        for entry in topic.entries:
            if entry.id in entries:
                raise LibraryError(f"{file.name}: entry '{entry.id}': field 'id': duplicate id")
            entries[entry.id] = entry
        topics[topic.id] = topic
    check_related(entries, lambda entry: topics[entry.topic_id].source_file)
    return Library(topics=topics, _entries=entries)


def check_related(entries: dict[str, Entry], where: Callable[[Entry], str]) -> None:
    """Every `related` id names a known entry, else `LibraryError` at `where(entry)`."""
    for entry in entries.values():
        for ref in entry.related:
            if ref not in entries:
                raise LibraryError(f"{where(entry)}: entry '{entry.id}': "
                                   f"field 'related': unknown entry '{ref}'")


def parse_topic_file(file: Path) -> Topic:
    """Parse one topic file, raising `LibraryError` at the first schema problem."""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LibraryError(f"{file.name}: not valid YAML: {exc}") from exc
    where = file.name
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: expected a mapping with id, title, entries")
    topic_id = _text(raw, "id", where)
    titles = _localised(raw, "title", where)
    raw_entries = raw.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise LibraryError(f"{where}: field 'entries': expected a non-empty list")
    parsed = tuple(_parse_entry(item, topic_id, f"{where}: entry #{n + 1}")
                   for n, item in enumerate(raw_entries))
    main = str(raw.get("main") or "")
    if main and main not in {entry.id for entry in parsed}:
        raise LibraryError(f"{where}: field 'main': '{main}' is not an entry of this topic")
    return Topic(id=topic_id, titles=titles, entries=parsed, source_file=file.name,
                 keywords=_keywords(raw.get("keywords"), where, "keywords"),
                 not_about=_keywords(raw.get("not_about"), where, "not_about"), main=main)


def _parse_entry(raw: Any, topic_id: str, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: expected a mapping")
    entry_id = _text(raw, "id", where)
    where = f"{where.split(':')[0]}: entry '{entry_id}'"
    if not entry_id.isascii() or not entry_id.startswith(f"{topic_id}."):
        raise LibraryError(f"{where}: field 'id': must be ASCII and start with '{topic_id}.'")
    kind = _text(raw, "kind", where)
    if kind not in ENTRY_KINDS:
        raise LibraryError(f"{where}: field 'kind': '{kind}' is not one of {ENTRY_KINDS}")
    status = _text(raw, "status", where)
    if status not in STATUSES:
        raise LibraryError(f"{where}: field 'status': '{status}' is not one of {STATUSES}")
    titles = _localised(raw, "title", where)
    for locale, title in titles.items():
        if len(title) > MAX_TITLE_CHARS:
            raise LibraryError(f"{where}: field 'title.{locale}': longer than "
                               f"{MAX_TITLE_CHARS} characters")
    questions_raw = raw.get("questions") or {}
    if not isinstance(questions_raw, dict):
        raise LibraryError(f"{where}: field 'questions': expected a mapping of locale -> list")
    questions = {}
    for locale, items in questions_raw.items():
        if not isinstance(items, list) or not all(isinstance(q, str) for q in items):
            raise LibraryError(f"{where}: field 'questions.{locale}': expected a list of text")
        questions[str(locale)] = tuple(items)
    return Entry(
        id=entry_id, topic_id=topic_id, kind=kind, titles=titles,
        texts=_localised(raw, "text", where), questions=questions,
        sources=_sources(raw.get("sources"), where), reviewed_on=_date(raw, "reviewed_on", where),
        status=status, related=_related(raw.get("related"), where),
        ages=_ages(raw.get("ages"), questions, where),
    )


def _ages(value: Any, questions: dict[str, tuple[str, ...]], where: str) -> AgeRange | None:
    """The `ages:` range; each sample question that states an age must state one inside it."""
    if value is None:
        return None
    try:
        ages = age_range(value)
    except ValueError as exc:
        raise LibraryError(f"{where}: field 'ages': {exc}") from None
    for locale, items in questions.items():
        for question in items:
            if not fits(stated_ages(match_form(question)), ages):
                raise LibraryError(f"{where}: field 'questions.{locale}': '{question}' states "
                                   f"an age outside 'ages'")
    return ages


def _keywords(value: Any, where: str, name: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LibraryError(f"{where}: field '{name}': expected a mapping of locale -> list")
    out = {}
    for locale, items in value.items():
        if not isinstance(items, list) or not all(isinstance(k, str) and k for k in items):
            raise LibraryError(f"{where}: field '{name}.{locale}': expected a list of text")
        out[str(locale)] = tuple(items)
    return out


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LibraryError(f"{where}: field '{key}': missing or empty")
    return value.strip()


def _localised(raw: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = raw.get(key)
    if not isinstance(value, dict) or not isinstance(value.get(DEFAULT_LOCALE), str):
        raise LibraryError(f"{where}: field '{key}': expected a mapping with at least "
                           f"'{DEFAULT_LOCALE}' text")
    out: dict[str, str] = {}
    for locale, text in value.items():
        if not isinstance(text, str):
            raise LibraryError(f"{where}: field '{key}.{locale}': expected text")
        if text.strip():
            out[str(locale)] = text.strip()
    if DEFAULT_LOCALE not in out:
        raise LibraryError(f"{where}: field '{key}.{DEFAULT_LOCALE}': empty")
    return out


def _date(raw: dict[str, Any], key: str, where: str) -> dt.date:
    value = raw.get(key)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise LibraryError(f"{where}: field '{key}': expected a date YYYY-MM-DD, got "
                           f"'{value}'") from None


def _sources(value: Any, where: str) -> tuple[Source, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise LibraryError(f"{where}: field 'sources': expected a list")
    out = []
    for n, item in enumerate(value):
        here = f"{where}: field 'sources[{n}]'"
        if not isinstance(item, dict):
            raise LibraryError(f"{here}: expected a mapping")
        issuer, title = item.get("issuer"), item.get("title")
        if not isinstance(issuer, str) or not isinstance(title, str) or not issuer or not title:
            raise LibraryError(f"{here}: 'issuer' and 'title' are required")
        url, document = str(item.get("url") or ""), str(item.get("document") or "")
        if not url and not document:
            raise LibraryError(f"{here}: needs a 'url' or a 'document'")
        date = item.get("date")
        out.append(Source(issuer=issuer, title=title, url=url, document=document,
                          date=date.isoformat() if isinstance(date, dt.date) else str(date or "")))
    return tuple(out)


def _related(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LibraryError(f"{where}: field 'related': expected a list of entry ids")
    return tuple(value)
