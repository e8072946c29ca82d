"""Answer a resident's free-text question with the best library entry, or honestly with none.

Each approved entry is indexed twice (Vietnamese and English) as BM25 documents over normalised
syllables and syllable bigrams: sample questions and titles weigh fully, the answer text less.
Unknown syllables are corrected to the nearest library syllable with rapidfuzz (typos), at a
discount. The confidence is how much of the question (IDF-weighted syllables and bigrams) the
best entry covers; below `CONFIDENCE_THRESHOLD` the result has no topic, so the bot says it does
not know rather than answer the wrong topic.

Checks keep a confident-looking score from becoming a confident wrong answer (docs/content.md,
"Never a confident wrong answer"): text that is not a question (a bare number, "ok", "cảm ơn")
gets no topic; so does a question none of whose content words is in the picked topic, one of a
kind the library never answers (rating a place, eating in pregnancy), and one that names a
subject the library does not cover (`content/data/outside_subjects.yaml`: "tiêm filler", "học
bổng", "đau mắt đỏ") unless the picked entry names it itself. A complaint word makes it feedback.
An entry written for one age (`ages:`, `content/ages.py`) is not given to a question stating
another ("bé 9 tháng tiêm gì" does not get "Bé 2 tháng tiêm gì?"): its topic's main entry answers.
`MatchResult.locale` is the language the question is clearly written in, or None when unclear.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from content.ages import fits, stated_ages
from content.library import LOCALES, Entry, Library, default_library
from content.names import Names
from content.normalize import (
    BIGRAM_JOINER,
    FUNCTION_WORDS,
    bigrams,
    is_not_a_question,
    marked_form,
    marked_phrase,
    marked_synonyms,
    match_form,
    question_language,
)

# Words that say what kind of message it is rather than what it is about: a complaint about
# vaccination ("phản ánh chờ tiêm lâu") goes to feedback, not to vaccination. Not "hotline":
# "a hotline to report bad food" is food safety's.
COMPLAINT_TOPIC = "feedback"
COMPLAINT_WORDS = ("góp ý", "phản ánh", "khiếu nại", "không hài lòng", "thái độ phục vụ",
                   "complain", "complaint", "feedback")
OUTSIDE_SUBJECTS = Path(__file__).parent / "data" / "outside_subjects.yaml"
# Kinds of question the library never answers, on the folded text (a few words may come between):
# a request to rate a place or a brand ("trường mầm non nào gần đây tốt", "which … is best"), and
# what to eat or drink in pregnancy ("có thai 3 tháng đầu nên ăn gì"), which no entry covers while
# "có thai" brings the tetanus-in-pregnancy entry.
NEVER_ANSWERED = re.compile(
    r"\b(?:nao|which)\b(?: \w+){0,3} (?:tot|uy tin|ngon|re|best|good|cheap)\b"
    r"|\b(?:thai|bau|pregnant|pregnancy)\b(?: \w+){0,5} (?:an|uong|kieng|eat|drink|food)\b")

CONFIDENCE_THRESHOLD = 0.55
MAX_QUERY_SYLLABLES = 80  # a question longer than this is cut: latency stays bounded
BM25_K1 = 1.2
BM25_B = 0.75
TEXT_FIELD_WEIGHT = 0.35  # answer text helps recall but sample questions say what is asked
CANDIDATES = 6  # top BM25 documents whose coverage is computed
BIGRAM_SHARE = 0.55  # share of confidence from bigram coverage when the question has bigrams
TYPO_MIN_CHARS = 4
TYPO_MIN_SIMILARITY = 85.0
TYPO_DISCOUNT = 0.6  # a corrected syllable counts for less: the correction may be wrong
RANK_BLEND = 0.15  # how much the BM25 rank (vs. coverage) decides among candidates
TOPIC_COVER_WEIGHT = 0.7  # a word found elsewhere in the same topic is good, not as good
KEYWORD_FLOOR = 0.45  # a topic keyword in the question lifts confidence from this floor
OFF_KEYWORD_FACTOR = 0.85  # another topic's keyword is in the question: this one must do better
FUNCTION_WORD_WEIGHT = 0.2  # "có", "không", "the", "what" say little about the topic
HALF_FUNCTION_BIGRAM_WEIGHT = 0.7  # English puts a function word beside nearly every word
MAIN_ENTRY_TIE = 1e-5  # above the language tie-break (1e-6), far below any real difference


@dataclass(frozen=True)
class MatchResult:
    """The answer to one question: topic and entry, or both None when not confident."""

    topic: str | None
    entry: Entry | None
    score: float
    related: list[Entry] = field(default_factory=list)
    locale: str | None = None  # language the question is written in ("vi"/"en"), None if unclear


@dataclass
class _Doc:
    entry: Entry
    locale: str
    vocab: frozenset[str]


_Group = tuple[list[tuple[str, float]], float]  # [(term, weight when found)], total weight


class _Query:
    """A question's terms with their weights per language, computed once per question."""

    def __init__(self, units: list[str], pairs: list[str], discounted: set[str]) -> None:
        self.groups = [units, pairs] if pairs else [units]
        self.discounted = discounted
        self._by_locale: dict[str, list[_Group]] = {}

    def weighted(self, locale: str, matcher: Matcher) -> list[_Group]:
        """Per group (syllables, bigrams): [(term, weight if found)], total weight."""
        if locale not in self._by_locale:
            idf_of, unknown = matcher._idf[locale], matcher._unknown_idf[locale]
            out = []
            for terms in self.groups:
                weighted, total = [], 0.0
                for term in terms:
                    weight = idf_of.get(term, unknown)
                    parts = term.split(BIGRAM_JOINER)
                    if (term not in idf_of and term not in matcher._keyword_terms
                            and any(part.isdigit() for part in parts)):
                        weight *= FUNCTION_WORD_WEIGHT  # "120/80", "39 độ": a value, not a subject
                    functional = sum(part in FUNCTION_WORDS for part in parts)
                    if functional == len(parts):
                        weight *= FUNCTION_WORD_WEIGHT
                    elif functional:  # "your_open", "co_lay": half of it is a function word
                        weight *= HALF_FUNCTION_BIGRAM_WEIGHT
                    total += weight
                    if term in self.discounted:
                        weight *= TYPO_DISCOUNT  # counts in the total, less when found
                    weighted.append((term, weight))
                out.append((weighted, total))
            self._by_locale[locale] = out
        return self._by_locale[locale]


class Matcher:
    """Ranks library entries for a question; build once, call `match()` many times."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._docs: list[_Doc] = []
        fields: list[tuple[Counter[str], Counter[str]]] = []
        for topic in library.topics.values():
            for entry in topic.entries:
                if not entry.approved:
                    continue
                for locale in LOCALES:
                    if locale not in entry.texts and locale not in entry.questions:
                        continue
                    main = _terms([*entry.questions.get(locale, ()), entry.title(locale),
                                   topic.title(locale)])
                    text = _terms([entry.text(locale)])
                    self._docs.append(_Doc(entry, locale, frozenset(main) | frozenset(text)))
                    fields.append((main, text))
        self._postings = self._build_postings(fields)
        self._doc_topics = [doc.entry.topic_id for doc in self._docs]
        self._topic_docs: dict[str, list[int]] = defaultdict(list)
        for doc_no, topic_id in enumerate(self._doc_topics):
            self._topic_docs[topic_id].append(doc_no)
        # IDF per language: an English word is rare among Vietnamese texts but common in
        # English ones, and coverage is judged against one language's documents.
        self._idf: dict[str, dict[str, float]] = {}
        self._unknown_idf: dict[str, float] = {}
        self._topic_vocab: dict[tuple[str, str], set[str]] = defaultdict(set)
        all_terms: set[str] = set()
        self._keyword_terms: set[str] = set()  # "lop_1" of "vào lớp 1" is a word, not a value
        for locale in LOCALES:
            docs = [d for d in self._docs if d.locale == locale]
            doc_freq: Counter[str] = Counter()
            for doc in docs:
                doc_freq.update(doc.vocab)
                self._topic_vocab[(doc.entry.topic_id, locale)].update(doc.vocab)
            for topic in library.topics.values():  # keywords are topic vocabulary too
                for phrase in topic.keywords.get(locale, ()):
                    self._topic_vocab[(topic.id, locale)].update(_terms([phrase]))
                    all_terms.update(_terms([phrase]))
                    self._keyword_terms.update(_terms([phrase]))
            n = max(len(docs), 1)
            self._idf[locale] = {t: math.log(1 + (n - df + 0.5) / (df + 0.5))
                                 for t, df in doc_freq.items()}
            self._unknown_idf[locale] = math.log(1 + (n + 0.5) / 0.5)
            all_terms.update(doc_freq)
        self._syllable_vocab = sorted(t for t in all_terms if BIGRAM_JOINER not in t)
        self._syllable_set = frozenset(self._syllable_vocab)
        self._corrections: dict[str, str | None] = {}
        # Topic keywords ("cúm", "huyết áp"): phrases that settle the topic even when the rest
        # of the question is worded in ways the sample questions never saw.
        self._keywords = _phrases(library, "keywords", match_form)
        self._marked_keywords = _phrases(library, "keywords", marked_phrase)
        self._not_about = _phrases(library, "not_about", match_form)
        self._marked_not_about = _phrases(library, "not_about", marked_phrase)
        self._complaints = [(f" {match_form(w)} ", COMPLAINT_TOPIC) for w in COMPLAINT_WORDS]
        self._marked_complaints = [(f" {marked_phrase(w)} ", COMPLAINT_TOPIC)
                                   for w in COMPLAINT_WORDS]
        # Subjects no entry covers; each entry's own words, to tell when an entry does name one.
        outside = load_outside_subjects()
        self._outside = _phrase_finder({f" {match_form(p)} ": p for p in outside if match_form(p)})
        self._marked_outside = _phrase_finder({f" {marked_phrase(p)} ": p for p in outside})
        self._entry_form = {
            entry.id: " " + " | ".join(match_form(piece) for piece in _entry_pieces(entry)) + " "
            for entry in library.entries()
        }
        # Topics' and entries' titles, and each entry's documents: a question may only name one.
        self._names = Names(library)
        self._entry_docs: dict[str, list[int]] = defaultdict(list)
        for doc_no, doc in enumerate(self._docs):
            self._entry_docs[doc.entry.id].append(doc_no)

    @classmethod
    def from_default(cls) -> Matcher:
        """The matcher over the shipped library (built once per process)."""
        return _default_matcher()

    def _build_postings(
        self, fields: list[tuple[Counter[str], Counter[str]]]
    ) -> dict[str, list[tuple[int, float]]]:
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for field_no, weight in ((0, 1.0), (1, TEXT_FIELD_WEIGHT)):
            lengths = [sum(f[field_no].values()) for f in fields]
            avg = sum(lengths) / max(len(lengths), 1) or 1.0
            df: Counter[str] = Counter()
            for f in fields:
                df.update(f[field_no].keys())
            n = len(fields)
            for doc_no, f in enumerate(fields):
                norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[doc_no] / avg)
                for term, tf in f[field_no].items():
                    idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                    gain = weight * idf * tf * (BM25_K1 + 1) / (tf + norm)
                    postings[term][doc_no] = postings[term].get(doc_no, 0.0) + gain
        return {t: list(d.items()) for t, d in postings.items()}

    def match(self, text: str, locale: str | None = None) -> MatchResult:
        """Best entry for `text`; `locale` only breaks ties between equally good languages."""
        units, discounted = self._query_syllables(text)
        if not units or is_not_a_question(text) or NEVER_ANSWERED.search(" ".join(units)):
            return MatchResult(topic=None, entry=None, score=0.0)
        pairs = bigrams(units)
        scores: dict[int, float] = defaultdict(float)
        for term in set(units) | set(pairs):
            if term in FUNCTION_WORDS:
                continue  # long posting lists, next to no ranking signal
            factor = TYPO_DISCOUNT if term in discounted else 1.0
            for doc_no, gain in self._postings.get(term, ()):
                scores[doc_no] += gain * factor
        form = self._phrase_form(text, units)
        keyword_topics = self._topics_with(form, self._keywords, self._marked_keywords)
        if self._topics_with(form, self._not_about, self._marked_not_about):
            # "bảo hiểm ô tô", "taxi": another subject that only shares words with a topic.
            # A topic keyword elsewhere in the question keeps the topic; one inside the other
            # subject ("thẻ bảo hiểm xe máy" holds "thẻ bảo hiểm") does not.
            rest = self._without(form, self._not_about, self._marked_not_about)
            keyword_topics = self._topics_with(rest, self._keywords, self._marked_keywords)
            if not keyword_topics:
                return MatchResult(topic=None, entry=None, score=0.0)
        if COMPLAINT_TOPIC in keyword_topics and self._topics_with(
                form, self._complaints, self._marked_complaints):
            # "phản ánh chờ tiêm lâu" is a complaint about vaccination, not a vaccination question.
            keyword_topics = {COMPLAINT_TOPIC}
        if not scores and not keyword_topics:
            return MatchResult(topic=None, entry=None, score=0.0)
        ranked = heapq.nlargest(CANDIDATES, scores.items(), key=itemgetter(1))
        top_score = ranked[0][1] if ranked else 1.0
        if keyword_topics:  # the best documents of keyword topics compete too
            ranked += heapq.nlargest(
                CANDIDATES, ((d, v) for d, v in scores.items()
                             if self._doc_topics[d] in keyword_topics), key=itemgetter(1))
            # A keyword topic none of whose texts share a word with the question still
            # competes with its first entry (the topic's main answer).
            seen = {self._doc_topics[d] for d, _ in ranked}
            ranked += [(d, 0.0) for topic in keyword_topics - seen
                       for d in self._topic_docs.get(topic, ())[:len(LOCALES)]]
        # "sốt xuất huyết", "phòng sốt xuất huyết": the question only names a topic or an entry.
        # Every entry of the topic covers it about as well, and the BM25 rank would pick the one
        # repeating the name most (the dengue vaccine entry); the entry so named is what is asked
        # (a topic's name names its main answer).
        named_docs = {d for entry_id in self._names.named(units, keyword_topics)
                      for d in self._entry_docs.get(entry_id, ())}
        ranked += [(d, scores.get(d, 0.0)) for d in named_docs]
        query = _Query(units, pairs, discounted)
        pick = (query, keyword_topics, named_docs, top_score, locale)
        best_doc, best_conf, conf_by_locale = self._best(ranked, *pick)
        if self._docs[best_doc].entry.ages is not None:
            # "bé 9 tháng tiêm gì" must not get "Bé 2 tháng tiêm gì?".
            instead = self._of_stated_age(best_doc, ranked, text, scores)
            if instead is not None:
                if not instead:
                    return MatchResult(topic=None, entry=None, score=0.0)
                best_doc, best_conf, conf_by_locale = self._best(instead, *pick)
        doc = self._docs[best_doc]
        if best_conf < CONFIDENCE_THRESHOLD:
            return MatchResult(topic=None, entry=None, score=round(best_conf, 4))
        topic_vocab = self._topic_vocab[(doc.entry.topic_id, doc.locale)]
        if not any(u in topic_vocab for u in units if u not in FUNCTION_WORDS):
            # Only "tôi", "muốn", "tự", "từ" were found: nothing says what the question is about.
            return MatchResult(topic=None, entry=None, score=0.0)
        entry_form = self._entry_form[doc.entry.id]
        if any(phrase not in entry_form
               for phrase in self._outside_subjects(form, text)):
            # "tiêm filler", "học bổng cho sinh viên": a keyword matched, the subject did not.
            return MatchResult(topic=None, entry=None, score=0.0)
        related = [self.library.entry(r) for r in doc.entry.related
                   if self.library.has_entry(r) and self.library.entry(r).approved]
        written_in = question_language(text, form[1])
        if (written_in is None and not form[1] and doc.locale == "en"
                and conf_by_locale["vi"] < CONFIDENCE_THRESHOLD):
            # "measles vaccine age", "flu shot": no function word says which language, but only
            # the English texts know its words; a foreign resident gets English.
            written_in = "en"
        return MatchResult(topic=doc.entry.topic_id, entry=doc.entry, score=round(best_conf, 4),
                           related=related, locale=written_in)

    def _best(self, ranked: list[tuple[int, float]], query: _Query, keyword_topics: set[str],
              named_docs: set[int], top_score: float, locale: str | None,
              ) -> tuple[int, float, dict[str, float]]:
        """The best candidate, its confidence, and the best confidence in each language."""
        best_doc, best_conf, best_key = ranked[0][0], 0.0, -1.0
        conf_by_locale: dict[str, float] = defaultdict(float)
        for doc_no, score in ranked:
            doc = self._docs[doc_no]
            conf = self._coverage(query, doc)
            if doc.entry.topic_id in keyword_topics or doc_no in named_docs:
                conf = KEYWORD_FLOOR + (1 - KEYWORD_FLOOR) * conf
            elif keyword_topics:
                conf *= OFF_KEYWORD_FACTOR
            key = (1 - RANK_BLEND) * conf + RANK_BLEND * score / top_score
            if doc_no in named_docs:
                # Its title is a keyword of its own; ranked as the best BM25 document, and ahead
                # of it on a tie of coverage only.
                key = (1 - RANK_BLEND) * conf + RANK_BLEND + MAIN_ENTRY_TIE
            if locale and doc.locale == locale:
                key += 1e-6
            conf_by_locale[doc.locale] = max(conf_by_locale[doc.locale], conf)
            if key > best_key:
                best_doc, best_conf, best_key = doc_no, conf, key
        return best_doc, best_conf, conf_by_locale

    def _of_stated_age(self, best_doc: int, ranked: list[tuple[int, float]], text: str,
                       scores: dict[int, float]) -> list[tuple[int, float]] | None:
        """None when the best entry fits the ages the question states; else what competes instead.

        Its topic's main entry (the whole schedule, for "bé 9 tháng tiêm gì") when that fits;
        else the other candidates that fit, which may be none (the bot then does not know).
        """
        stated = stated_ages(match_form(text))
        if fits(stated, self._docs[best_doc].entry.ages):
            return None
        main = self.library.topics[self._doc_topics[best_doc]].main_entry_id
        instead = [(d, scores.get(d, 0.0)) for d in self._entry_docs.get(main, ())
                   if fits(stated, self._docs[d].entry.ages)]
        return instead or [(d, v) for d, v in ranked if fits(stated, self._docs[d].entry.ages)]

    @staticmethod
    def _without(form: tuple[str, bool], plain: list[tuple[str, str]],
                 marked: list[tuple[str, str]]) -> tuple[str, bool]:
        """The phrase form with every occurrence of the given phrases cut out."""
        padded, has_marks = form
        for phrase, _topic in marked if has_marks else plain:
            padded = padded.replace(phrase, " | ")
        return padded, has_marks

    def _outside_subjects(self, form: tuple[str, bool], text: str) -> list[str]:
        """The uncovered subjects named in the question, in the entries' (folded) form."""
        padded, has_marks = form
        pattern, plain = self._marked_outside if has_marks else self._outside
        return [f" {match_form(plain[m.group(1)])} " for m in pattern.finditer(padded)]

    @staticmethod
    def _phrase_form(text: str, units: list[str]) -> tuple[str, bool]:
        """The question as topic phrases are looked for in it, and whether it has diacritics."""
        marked = marked_form(text)
        if marked is not None:  # typed with diacritics: "soi" must not match "sởi"
            return f" {marked_synonyms(marked)} ", True
        # Looked for before and after typo correction: a correction can also turn a rare
        # real word ("thiu") into a common one ("thieu").
        return f" {' '.join(units)} | {match_form(text)} ", False

    @staticmethod
    def _topics_with(form: tuple[str, bool], plain: list[tuple[str, str]],
                     marked: list[tuple[str, str]]) -> set[str]:
        padded, has_marks = form
        return {topic for phrase, topic in (marked if has_marks else plain) if phrase in padded}

    def _coverage(self, query: _Query, doc: _Doc) -> float:
        """IDF-weighted share of the question found in `doc` (or, for less, in its topic)."""
        topic_vocab = self._topic_vocab[(doc.entry.topic_id, doc.locale)]
        shares = []
        for weighted, total in query.weighted(doc.locale, self):
            covered = 0.0
            for term, weight in weighted:
                if term in doc.vocab:
                    covered += weight
                elif term in topic_vocab:
                    covered += weight * TOPIC_COVER_WEIGHT
            shares.append(covered / total if total else 0.0)
        if len(shares) == 1:
            return shares[0]
        return (1 - BIGRAM_SHARE) * shares[0] + BIGRAM_SHARE * shares[1]

    def _query_syllables(self, text: str) -> tuple[list[str], set[str]]:
        """Normalised syllables with typos corrected, and the set of corrected terms."""
        units: list[str] = []
        corrected: set[str] = set()
        for unit in match_form(text).split()[:MAX_QUERY_SYLLABLES]:
            if unit in self._syllable_set:
                units.append(unit)
                continue
            fixed = self._correct(unit)
            units.append(fixed or unit)
            if fixed:
                corrected.add(fixed)
        for a, b in zip(units, units[1:], strict=False):
            if a in corrected or b in corrected:
                corrected.add(f"{a}{BIGRAM_JOINER}{b}")
        return units, corrected

    def _correct(self, unit: str) -> str | None:
        if unit in self._corrections:
            return self._corrections[unit]
        fixed: str | None = None
        if unit.endswith("s") and unit[:-1] in self._syllable_set:
            fixed = unit[:-1]  # English plural: "vaccines" → "vaccine"
        elif len(unit) >= TYPO_MIN_CHARS and not unit.isdigit():
            found = process.extractOne(unit, self._syllable_vocab, scorer=fuzz.ratio,
                                       score_cutoff=TYPO_MIN_SIMILARITY)
            fixed = found[0] if found else None
        if len(self._corrections) < 50_000:  # bounded: residents' typos are not a memory leak
            self._corrections[unit] = fixed
        return fixed


def _terms(pieces: list[str]) -> Counter[str]:
    # Each piece on its own, so no bigram spans two sample questions.
    terms: Counter[str] = Counter()
    for piece in pieces:
        units = match_form(piece).split()
        terms.update(units + bigrams(units))
    return terms


def _phrase_finder(phrases: dict[str, str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex that finds every padded phrase, overlapping ones too, and the phrases' plain form."""
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile("(?=(" + "|".join(re.escape(p) for p in ordered) + "))"), phrases


def load_outside_subjects(path: Path = OUTSIDE_SUBJECTS) -> list[str]:
    """Every phrase of the outside-subjects file (its groups only help the reader)."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(phrase) for phrases in groups.values() for phrase in phrases]


def _entry_pieces(entry: Entry) -> list[str]:
    return [*entry.texts.values(), *entry.titles.values(),
            *(q for qs in entry.questions.values() for q in qs)]


@lru_cache(maxsize=1)
def _default_matcher() -> Matcher:
    return Matcher(default_library())


def _phrases(library: Library, field_name: str,
             form: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """(" phrase ", topic id) for one phrase field of every topic, in the given written form."""
    return sorted({(f" {form(k)} ", topic.id)
                   for topic in library.topics.values()
                   for phrases in getattr(topic, field_name).values() for k in phrases if form(k)})
