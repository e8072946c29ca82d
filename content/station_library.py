"""Station-specific library entries (issue 21): one shared library, plus a station's own folder.

A station may name a folder of topic files (the same YAML schema as `content/library/`): its
entries are added to the shared library for that station's residents only. A topic id of the
shared library adds entries to that topic; a new topic id adds a topic. Entry ids must not repeat
a shared one. The same checks as the shared library apply (`check_station_library`: sources from
the official allow-list, a review date not too old, text lengths, placeholders, related ids).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from content.check import ERROR, Problem, _check_entry
from content.library import Library, LibraryError, Topic, check_related, parse_topic_file


def station_topics(folder: Path) -> list[Topic]:
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise LibraryError(f"{folder}: no topic files (*.yaml) found")
    return [parse_topic_file(file) for file in files]


def merged_library(shared: Library, folder: Path) -> Library:
    """The shared library with the station's entries added (a new object; `shared` unchanged)."""
    topics = dict(shared.topics)
    entries = {e.id: e for e in shared.entries()}
    for topic in station_topics(folder):
        for entry in topic.entries:
            if entry.id in entries:
                raise LibraryError(f"{folder}/{topic.source_file}: entry '{entry.id}': the id is "
                                   "already used (by the shared library or another file)")
            entries[entry.id] = entry
        base = topics.get(topic.id)
        topics[topic.id] = topic if base is None else dataclasses.replace(
            base, entries=base.entries + topic.entries)
    check_related(entries, lambda _entry: str(folder))
    return Library(topics=topics, _entries=entries)


def check_station_library(shared: Library, folder: Path, today: dt.date) -> list[Problem]:
    """The shared library's checks, for a station's folder (errors first)."""
    try:
        topics = station_topics(folder)
    except LibraryError as exc:
        return [Problem(ERROR, str(folder), "", "", str(exc).split(": ", 1)[-1])]
    known = {e.id for e in shared.entries()} | {e.id for t in topics for e in t.entries}
    problems = [p for t in topics for e in t.entries for p in _check_entry(t, e, known, today)]
    return sorted(problems, key=lambda p: (p.severity != ERROR, p.file, p.entry, p.field))
