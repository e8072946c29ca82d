"""Questions that only name something the library has: a topic or an entry, by its title.

"sốt xuất huyết" names the dengue topic, "phòng sốt xuất huyết" the dengue prevention entry,
"Very high blood pressure" the hypertensive-crisis entry. Every entry of a topic covers such a
question about as well, and the BM25 rank alone favours the short entry repeating its words most
(the dengue vaccine entry); what is asked is the entry so named (docs/content.md, step 6).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from content.library import Library
from content.normalize import FUNCTION_WORDS, match_form

# Words that may stand beside a name without changing what is named ("bệnh sốt xuất huyết",
# "dengue disease").
NAME_EXTRAS = frozenset({"benh", "disease", "illness"})


@dataclass(frozen=True)
class _Name:
    words: frozenset[str]  # every word of the title but the extras
    entry_id: str  # the entry so named: a topic's name names its main entry
    topic_id: str | None  # set for a topic's name: it counts only when that topic's keyword is in


class Names:
    """Every topic's and approved entry's title in both languages, by its content words."""

    def __init__(self, library: Library) -> None:
        self._by_content: dict[frozenset[str], list[_Name]] = defaultdict(list)
        for topic in library.topics.values():
            for title in topic.titles.values():
                self._add(title, topic.main_entry_id, topic.id)
            for entry in topic.entries:
                if entry.approved:
                    for title in entry.titles.values():
                        self._add(title, entry.id, None)

    def _add(self, title: str, entry_id: str, topic_id: str | None) -> None:
        words = frozenset(match_form(title).split()) - NAME_EXTRAS
        if words - FUNCTION_WORDS:
            self._by_content[words - FUNCTION_WORDS].append(_Name(words, entry_id, topic_id))

    def named(self, units: list[str], keyword_topics: set[str]) -> set[str]:
        """Ids of the entries a question only names, or none.

        The question's content words must be a title's content words. A title whose every word
        is the question's (function words too: "Very high blood pressure" is not the hypertension
        topic's "High blood pressure") beats one equal on content words only; then a topic's
        name beats an entry's title.
        """
        words = frozenset(units) - NAME_EXTRAS
        names = [name for name in self._by_content.get(words - FUNCTION_WORDS, ())
                 if name.topic_id is None or keyword_topics == {name.topic_id}]
        best = [name for name in names if name.words == words] or names
        topic_names = [name for name in best if name.topic_id is not None]
        return {name.entry_id for name in topic_names or best}
