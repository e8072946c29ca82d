"""`healthbot content check`: validate the content library before publishing.

Reports every problem it finds (not just the first): schema errors, duplicate ids, broken
`related` references, over-long texts, missing English, missing sources, an entry without an
official primary source (allow-list in `content/data/content_rules.yaml`), code repositories or
commercial chains cited as sources, year-bound text ("năm nay", a figure without its year),
unknown placeholders, reviews older than the review age (default 12 months) and drafts. Errors
block publishing (exit code 1); warnings are shown so staff can fix them in time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from content.library import (
    DEFAULT_LIBRARY_DIR,
    TOPIC_IDS,
    Entry,
    LibraryError,
    Topic,
    parse_topic_file,
)
from content.render import PLACEHOLDERS, placeholders_in
from content.rules import ambiguous_dates, is_not_a_source, is_official, year_bound_problems

MAX_TEXT_CHARS = 600
REVIEW_MAX_AGE_MONTHS = 12
RELATED_MIN, RELATED_MAX = 2, 3
ERROR, WARNING = "error", "warning"
EMERGENCY_TOPIC, EMERGENCY_NUMBER = "emergency", "115"
VACCINATION_TOPIC = "vaccination"


@dataclass(frozen=True)
class Problem:
    """One finding: where it is (file, entry, field) and what is wrong."""

    severity: str
    file: str
    entry: str
    field: str
    message: str


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_library(path: Path | None = None, today: dt.date | None = None,
                  max_review_months: int = REVIEW_MAX_AGE_MONTHS) -> list[Problem]:
    """All problems of the library under `path` (default: the shipped one), errors first.

    An entry whose `reviewed_on` is older than `max_review_months` before `today` is an error.
    """
    directory = Path(path) if path is not None else DEFAULT_LIBRARY_DIR
    today = today or dt.date.today()
    problems: list[Problem] = []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        return [Problem(ERROR, str(directory), "", "", "no topic files (*.yaml) found")]
    topics: list[Topic] = []
    unparsed_ids: set[str] = set()
    for file in files:
        try:
            topics.append(parse_topic_file(file))
        except LibraryError as exc:
            problems.append(Problem(ERROR, file.name, "", "", str(exc).split(": ", 1)[-1]))
            unparsed_ids |= _raw_entry_ids(file)
            topic_id = _raw_topic_id(file)
            if topic_id:
                unparsed_ids.add(topic_id)
    problems += _check_ids(topics, unparsed_ids)
    # Ids of a file with a schema error still count, so one typo is reported once and not
    # again as a broken reference from every other topic.
    known = {entry.id for topic in topics for entry in topic.entries} | unparsed_ids
    for topic in topics:
        for entry in topic.entries:
            problems += _check_entry(topic, entry, known, today, max_review_months)
    return sorted(problems, key=lambda p: (p.severity != ERROR, p.file, p.entry, p.field))


def _raw_entry_ids(file: Path) -> set[str]:
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return set()
    entries = raw.get("entries") if isinstance(raw, dict) else None
    return {e["id"] for e in entries or [] if isinstance(e, dict) and isinstance(e.get("id"), str)}


def _raw_topic_id(file: Path) -> str | None:
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    return raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None


def _check_ids(topics: list[Topic], unparsed: set[str]) -> list[Problem]:
    out: list[Problem] = []
    seen_topics: dict[str, str] = {}
    seen_entries: dict[str, str] = {}
    for topic in topics:
        if topic.id in seen_topics:
            out.append(Problem(ERROR, topic.source_file, "", "id",
                               f"duplicate topic id '{topic.id}' (also in "
                               f"{seen_topics[topic.id]})"))
        seen_topics.setdefault(topic.id, topic.source_file)
        if topic.id not in TOPIC_IDS:
            out.append(Problem(WARNING, topic.source_file, "", "id",
                               f"topic '{topic.id}' is not one of the standard topics"))
        for entry in topic.entries:
            if entry.id in seen_entries:
                out.append(Problem(ERROR, topic.source_file, entry.id, "id",
                                   f"duplicate entry id (also in {seen_entries[entry.id]})"))
            seen_entries.setdefault(entry.id, topic.source_file)
    for missing in sorted(set(TOPIC_IDS) - set(seen_topics) - unparsed):
        out.append(Problem(ERROR, f"{missing}.yaml", "", "", f"topic '{missing}' is missing"))
    return out


def _check_entry(topic: Topic, entry: Entry, known: set[str], today: dt.date,
                 max_review_months: int = REVIEW_MAX_AGE_MONTHS) -> list[Problem]:
    out: list[Problem] = []

    def add(severity: str, field: str, message: str) -> None:
        out.append(Problem(severity, topic.source_file, entry.id, field, message))

    for locale, text in entry.texts.items():
        if len(text) > MAX_TEXT_CHARS:
            add(ERROR, f"text.{locale}", f"{len(text)} characters, more than {MAX_TEXT_CHARS}: "
                "shorten it or split it into a follow-up entry")
        unknown = placeholders_in(text) - PLACEHOLDERS
        if unknown:
            add(ERROR, f"text.{locale}", f"unknown placeholder(s): {', '.join(sorted(unknown))}")
    for field in ("title", "text"):
        if "en" not in (entry.titles if field == "title" else entry.texts):
            add(WARNING, f"{field}.en", "missing English")
    for locale in ("vi", "en"):
        if not entry.questions.get(locale):
            add(WARNING, f"questions.{locale}", "no sample questions: the matcher cannot find it")
    if not entry.sources:
        add(ERROR if entry.approved else WARNING, "sources", "missing sources")
    elif not any(is_official(source) for source in entry.sources):
        add(ERROR if entry.approved else WARNING, "sources",
            "no official primary source (allow-list: content/data/content_rules.yaml); "
            "press and other sites may only be secondary")
    for n, source in enumerate(entry.sources):
        if not source.date:
            add(WARNING, f"sources[{n}].date", "source has no date")
        if is_not_a_source(source):
            add(ERROR, f"sources[{n}].url", f"{source.url} is not a source (a code repository "
                "or a commercial chain): cite the official text instead")
    for locale, text in entry.texts.items():
        for reason in year_bound_problems(text, locale) + ambiguous_dates(text, locale):
            add(ERROR if entry.approved else WARNING, f"text.{locale}", reason)
    if entry.reviewed_on < _months_before(today, max_review_months):
        add(ERROR if entry.approved else WARNING, "reviewed_on",
            f"last reviewed {entry.reviewed_on.isoformat()}, more than {max_review_months} "
            "months ago: check the facts against the sources again")
    if entry.reviewed_on > today:
        add(ERROR, "reviewed_on", f"review date {entry.reviewed_on.isoformat()} is in the future")
    if not entry.approved:
        add(WARNING, "status", "draft: not served to residents until approved")
    for ref in entry.related:
        if ref not in known:
            add(ERROR, "related", f"unknown entry '{ref}'")
        elif ref == entry.id:
            add(ERROR, "related", "an entry cannot be its own follow-up")
    if not RELATED_MIN <= len(entry.related) <= RELATED_MAX:
        add(WARNING, "related", f"{len(entry.related)} follow-ups; aim for "
            f"{RELATED_MIN}–{RELATED_MAX}")
    if topic.id == EMERGENCY_TOPIC and EMERGENCY_NUMBER not in entry.text("vi"):
        add(ERROR, "text.vi", "emergency answers must give 115")
    if topic.id == VACCINATION_TOPIC and not any(
            "{station_name}" in text or "Trạm Y tế" in text for text in entry.texts.values()):
        add(ERROR, "text", "vaccination answers must send people to the station to confirm")
    return out


def format_problems(problems: list[Problem]) -> str:
    """A plain-text table of problems with a summary line; "OK" when there are none."""
    if not problems:
        return "Content library OK: no problems found."
    headers = ("SEVERITY", "FILE", "ENTRY", "FIELD", "PROBLEM")
    rows = [(p.severity.upper(), p.file, p.entry or "-", p.field or "-", p.message)
            for p in problems]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, [*widths, 0], strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in [*widths, len(headers[-1])]))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, [*widths, 0], strict=True)))
    errors = sum(p.severity == ERROR for p in problems)
    lines.append(f"\n{errors} error(s), {len(problems) - errors} warning(s).")
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Check the library and print the table; exit code 1 when there is any error."""
    parser = argparse.ArgumentParser(prog="healthbot content check",
                                     description="Validate the content library.")
    parser.add_argument("--path", type=Path, default=None,
                        help="library folder (default: the shipped content/library)")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="date to judge review ages against (YYYY-MM-DD)")
    parser.add_argument("--max-review-months", type=int, default=REVIEW_MAX_AGE_MONTHS,
                        help="an entry reviewed longer ago than this is an error (default 12)")
    args = parser.parse_args(argv)
    problems = check_library(args.path, args.today, args.max_review_months)
    print(format_problems(problems))
    return 1 if any(p.severity == ERROR for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
