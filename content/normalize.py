"""Vietnamese (and English) text normalisation for question matching.

Residents type with or without diacritics, with abbreviations and teencode ("sxh co lay ko").
`normalize()` folds all of that to one plain form: NFC, lower case, diacritics stripped, đ→d,
punctuation and emoji removed, abbreviations expanded. `syllables()` splits it into syllables
and `tokenize()` adds syllable bigrams ("sot_xuat"), which carry most of the meaning of
Vietnamese words. `match_form()` is what the matcher indexes: `normalize()` plus English
synonyms ("clinic" → "station", "jab" → "shot") and a light English stemmer ("smoking" and
"smoke" → "smok"), which leaves Vietnamese syllables as they are.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_INPUT_CHARS = 2000  # questions and entries are short; a pasted novel is cut, not processed
BIGRAM_JOINER = "_"

# Abbreviations and teencode, keyed by the folded (no-diacritics) token. Tokens that are also
# common words once folded ("ha" = hạ/hà, "hong" = họng, "kg") are deliberately left out.
ABBREVIATIONS: dict[str, str] = {
    "bhyt": "bao hiem y te", "bhxh": "bao hiem xa hoi", "bh": "bao hiem", "yte": "y te",
    "sxh": "sot xuat huyet", "sxhd": "sot xuat huyet", "tcm": "tay chan mieng",
    "tcmr": "tiem chung mo rong", "tyt": "tram y te", "bv": "benh vien", "bs": "bac si",
    "ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "khg": "khong",
    "hem": "khong", "hk": "khong", "dc": "duoc", "j": "gi", "ji": "gi",
    "ntn": "nhu the nao", "bn": "bao nhieu", "bnhieu": "bao nhieu", "bnh": "bao nhieu",
    "vs": "voi", "ng": "nguoi", "ngta": "nguoi ta", "mn": "moi nguoi", "mk": "minh",
    "mik": "minh", "mjk": "minh", "e": "em", "r": "roi", "wa": "qua",
    "sdt": "so dien thoai", "dt": "dien thoai", "dthoai": "dien thoai", "h": "gio",
    "vx": "vac xin", "vacxin": "vac xin", "vaccin": "vac xin", "vacin": "vac xin",
    "dtd": "dai thao duong", "tp": "thanh pho", "ttin": "thong tin",
    "ah": "a", "z": "vay", "zay": "vay", "dzay": "vay",
    "lm": "lam", "ns": "noi", "bt": "biet", "bik": "biet", "bit": "biet", "trc": "truoc",
    "tg": "thoi gian", "cccd": "can cuoc", "hcm": "ho chi minh", "bhytt": "bao hiem y te",
}

# Spellings that mean the same word; folded form → canonical folded form.
SYNONYMS: dict[str, str] = {
    "chan mom": "chan mieng",  # "tay chân mồm" is the northern name of HFMD
    "vac xin": "vaccine",  # so Vietnamese and English questions share the word
}
# Regional words, folded for matching only (`match_form`; `normalize()` keeps what was typed,
# so the red-flag layer's patterns see the resident's own words).
REGIONAL_SYNONYMS: dict[str, str] = {
    "chich ngua": "tiem phong",  # the southern words for a vaccination
    "heo": "lon",  # "thịt heo" in the South is "thịt lợn" in the North
}
_REGIONAL_RE = re.compile(r"\b(" + "|".join(sorted(REGIONAL_SYNONYMS, key=len, reverse=True)) + r")\b")
# The same with diacritics, for keyword phrases in text typed with them (`marked_synonyms`).
MARKED_SYNONYMS: dict[str, str] = {"chích ngừa": "tiêm phòng", "heo": "lợn"}
# Not "chích" alone: "muỗi chích" is a mosquito bite, not a vaccination.
_MARKED_SYNONYM_RE = re.compile(
    r"\b(" + "|".join(sorted(MARKED_SYNONYMS, key=len, reverse=True)) + r")\b")

# Function words (folded) of both languages: they shape a question but not its topic.
_VIETNAMESE_FUNCTION_WORDS = """
a ah ai anh ba bac ban bao bi bay biet cac cai can chi cho chua co con cua cung da dang day
de den di do duoc em gi gio ha hay hoac khi khong la lam lai luc ma may minh mot muon nao
nay ne nen nhe nhieu nhu nhung nua o oi phai qua ra rang roi sao se ta tai the thi thoi
thuong toi tren trong tu va vao vay ve vi voi xin
"""
ENGLISH_FUNCTION_WORDS = frozenset("""
about am an and any are as at be been but by can could did do does for from get got has have
how i if in is it its me my of on or our please should so tell that the their there this to
us was we what when where which who why will with would you your
also anyone being done doing go going had having he her here hers him his just
know many might much must need no not now really right she shall some somebody someone
something still them then these they those too very want were yes
s t m d ll re ve doesn didn isn aren wasn
husband wife neighbour neighbor friend mum mom dad mother father brother sister son daughter
""".split())
FUNCTION_WORDS = frozenset(_VIETNAMESE_FUNCTION_WORDS.split()) | ENGLISH_FUNCTION_WORDS
# Family and "someone" words weigh like function words in both languages: "anh", "chị", "con"
# above, "my husband", "my neighbour" here. They say who is asking, not what about.

_PUNCTUATION = re.compile(r"[^\w\s]+|_", re.UNICODE)
# Invisible format characters (zero-width spaces and joiners, soft hyphen, direction marks, BOM)
# that copy-paste and some keyboards leave INSIDE words: "t\u200bự tử" is "tự tử".
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x061C, 0x180E, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
     *range(0x2060, 0x2065), *range(0x2066, 0x206A)])
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
_SPACES = re.compile(r"\s+")
_OLDER_AGE = re.compile(r"\b(\d{2,3}) tuoi\b")
_MARKED_OLDER_AGE = re.compile(r"\b(\d{2,3}) tuổi\b")
DIACRITIC_TEXT_SHARE = 0.3  # this share of words carrying marks means "typed with diacritics"
OLDER_AGE = 60  # "bà tôi 85 tuổi" is about an older person: add "cao tuổi" (người cao tuổi)
_OLDER_AGE_EN = re.compile(r"\b(\d{2,3}) (?:years? old|yrs? old|yo)\b")  # "she is 82 years old"

# English: one word for things foreign residents call by several names. Keys and values are
# normalised text (whole words), applied longest first, before stemming. Values must be words
# the library uses. "station" alone is not a topic keyword ("train station"), so a "clinic"
# question is brought to the station's entries by its other words, never by this alone.
ENGLISH_SYNONYMS: dict[str, str] = {
    "health centre": "health station", "health center": "health station",
    "medical centre": "health station", "medical center": "health station",
    "medical station": "health station", "health clinic": "health station",
    "health post": "health station", "clinic": "station", "clinics": "station",
    "jab": "shot", "jabs": "shot", "injection": "shot", "injections": "shot",  # like "tiêm"
    "kid": "child", "kids": "child", "children": "child",
    "toddler": "child", "toddlers": "child", "infant": "baby", "infants": "baby",
    "appointment": "visit", "appointments": "visit", "annual": "yearly",
    "located": "address", "location": "address", "directions": "map",
    "telephone": "phone", "nurse": "staff", "nurses": "staff", "diarrhea": "diarrhoea",
    "exam": "examination",
    "monday": "weekday", "tuesday": "weekday", "wednesday": "weekday", "thursday": "weekday",
    "friday": "weekday", "saturday": "weekday", "sunday": "weekday", "weekend": "weekday",
    "weekends": "weekday",
}
_ENGLISH_SYNONYM_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(ENGLISH_SYNONYMS, key=len, reverse=True))
    + r")\b")
_VOWELS = frozenset("aeiou")


def fold(text: str) -> str:
    """Lower-case `text` and strip Vietnamese diacritics (đ→d), keeping letters and digits."""
    text = unicodedata.normalize("NFC", text[:MAX_INPUT_CHARS].translate(_INVISIBLE)).lower()
    text = text.replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped)


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Return the matching form of `text`: folded, punctuation out, abbreviations expanded."""
    folded = _PUNCTUATION.sub(" ", fold(text))
    folded = _DIGIT_LETTER.sub(" ", folded)  # "2thang" → "2 thang", "7h" → "7 h"
    words: list[str] = []
    for token in folded.split():
        if not token.isascii():
            continue  # emoji, other scripts: nothing to match on
        expanded = ABBREVIATIONS.get(token, token)
        words.extend(expanded.split())
    text = _OLDER_AGE.sub(lambda m: f"{m.group(0)} cao tuoi" if int(m.group(1)) >= OLDER_AGE
                          else m.group(0), " ".join(words))
    text = _OLDER_AGE_EN.sub(lambda m: f"{m.group(0)} elderly" if int(m.group(1)) >= OLDER_AGE
                             else m.group(0), text)
    for phrase, canonical in SYNONYMS.items():
        if phrase in text:
            text = re.sub(rf"\b{phrase}\b", canonical, text)
    return _SPACES.sub(" ", text).strip()


def _is_vowel(word: str, i: int) -> bool:
    return word[i] in _VOWELS or (word[i] == "y" and i > 0 and not _is_vowel(word, i - 1))


def _measure(stem: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in `stem`."""
    pattern = "".join("v" if _is_vowel(stem, i) else "c" for i in range(len(stem)))
    return pattern.count("vc")


def _ends_cvc(stem: str) -> bool:
    """consonant-vowel-consonant at the end, the last not w/x/y ("hop", "smok", "car")."""
    n = len(stem)
    return (n >= 3 and not _is_vowel(stem, n - 3) and _is_vowel(stem, n - 2)
            and not _is_vowel(stem, n - 1) and stem[-1] not in "wxy")


def english_stem(word: str) -> str:
    """A light English stemmer: plurals, -ed, -ing, -ation, final -e, -ize/-ise.

    Only English words are touched: a folded Vietnamese syllable never ends in -s, -d or -ing,
    is never 5+ letters ending in -e, nor 7+ ending in -at. Both the library and the question
    go through it, so "smoking"/"smoke", "vaccinated"/"vaccination"/"vaccine",
    "immunised"/"immunization", "mosquitoes"/"mosquito" meet on one form.
    """
    if len(word) < 4 or word in FUNCTION_WORDS or not word.isalpha():
        return word
    # Plurals and third person.
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("ss", "us", "is")):
        pass
    elif word.endswith(("xes", "ches", "shes", "oes", "zes")):
        word = word[:-2]
    elif word.endswith("s"):
        word = word[:-1]
    # -ed / -ing.
    stripped = None
    if word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("eed"):
        pass  # "need", "bleed"
    elif word.endswith("ed") and any(_is_vowel(word, i) for i in range(len(word) - 2)):
        stripped = word[:-2]
    elif word.endswith("ing") and any(_is_vowel(word, i) for i in range(len(word) - 3)):
        stripped = word[:-3]
    if stripped is not None and len(stripped) >= 3:
        word = stripped
        if len(word) >= 2 and word[-1] == word[-2] and word[-1] not in _VOWELS | set("lsz"):
            word = word[:-1]  # "stopped" → "stop"
        elif _measure(word) == 1 and _ends_cvc(word):
            word += "e"  # "smoking" → "smoke", "caring" → "care"
    if word.endswith("ation") and len(word) - 5 >= 4:
        word = word[:-5]  # "vaccination" → "vaccin", "examination" → "examin"
    if word.endswith("e") and len(word) >= 5:
        word = word[:-1]  # "vaccine" → "vaccin", "smoke" → "smok"
    if word.endswith("at") and len(word) >= 7:
        word = word[:-2]  # "vaccinat(ed)" → "vaccin"
    if word.endswith("iz"):
        word = word[:-1] + "s"  # "immuniz" → "immunis"
    return word


@lru_cache(maxsize=4096)
def match_form(text: str) -> str:
    """`normalize(text)` with English folded further for matching: synonyms, then stems.

    The question and the library both go through this, so the words only have to meet here;
    `normalize()` stays the plain folded text.
    """
    text = _ENGLISH_SYNONYM_RE.sub(lambda m: ENGLISH_SYNONYMS[m.group(1)], normalize(text))
    text = _REGIONAL_RE.sub(lambda m: REGIONAL_SYNONYMS[m.group(1)], text)
    return " ".join(english_stem(word) for word in text.split())


def _plain_words(text: str) -> list[str]:
    lowered = unicodedata.normalize("NFC", text[:MAX_INPUT_CHARS].translate(_INVISIBLE)).lower()
    return _DIGIT_LETTER.sub(" ", _PUNCTUATION.sub(" ", lowered)).split()


def marked_form(text: str) -> str | None:
    """Lower-cased words WITH diacritics, if `text` was typed with diacritics; else None.

    When a resident types diacritics, an unmarked word is really unmarked: "soi da" (look at
    the skin) is not "sởi" (measles). Keyword matching uses this form to tell them apart.
    """
    words = _plain_words(text)
    letters = [w for w in words if not w.isdigit()]
    marked = sum(fold(w) != w for w in letters)
    if not letters or marked < DIACRITIC_TEXT_SHARE * len(letters):
        return None
    joined = " ".join(words)
    return _MARKED_OLDER_AGE.sub(lambda m: f"{m.group(0)} cao tuổi"
                                 if int(m.group(1)) >= OLDER_AGE else m.group(0), joined)


def marked_synonyms(marked: str) -> str:
    """`marked_form()` text with regional words in the library's spelling ("chích ngừa")."""
    return _MARKED_SYNONYM_RE.sub(lambda m: MARKED_SYNONYMS[m.group(1)], marked)


def marked_phrase(text: str) -> str:
    """A keyword phrase in the same form as `marked_form()` (diacritics kept)."""
    return " ".join(_plain_words(text))


# Replies that carry no question: thanks, yes, ok (folded). A message made only of these, of
# function words and of numbers is not a question ("9", "ok", "vâng ạ", "cảm ơn bạn nhiều").
ACKNOWLEDGEMENTS = frozenset("""
ok oke okay okie oki uh um uhm hm hmm vang da u uk uki cam on thank thanks thx tks ty cool
alo allo good great fine bye tam biet hihi hehe haha
""".split())
# A plain (unmarked) word that cannot be a Vietnamese syllable: "how", "insurance", "baby".
_VIETNAMESE_SYLLABLE = re.compile(
    r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?"
    r"(uye|uya|oai|oay|uay|uoi|uou|ieu|yeu|uyu|ươ|[aeiouy]{1,3})"
    r"(ch|ng|nh|[cmnpt])?")
LANGUAGE_MIN_WORDS = 3  # fewer words ("paracetamol", "ok thanks") do not tell the language
LANGUAGE_SHARE = 0.6  # this share of a message's words in one language decides it
_ENGLISH_MARKERS = ENGLISH_FUNCTION_WORDS | {"a"}  # "a" sits with the Vietnamese function words


def is_not_a_question(text: str) -> bool:
    """True for a bare number, a thank-you or an "ok": text with no word a topic could hang on.

    "115 là số gì" stays a question (its function words ask something); "9", "ok", "vâng ạ",
    "cảm ơn bạn nhiều" do not.
    """
    units = normalize(text).split()
    if all(u.isdigit() or u in ACKNOWLEDGEMENTS for u in units):
        return True
    return all(u in ACKNOWLEDGEMENTS or u in FUNCTION_WORDS for u in units) and any(
        u in ACKNOWLEDGEMENTS for u in units)


def question_language(text: str, has_marks: bool | None = None) -> str | None:
    """"vi" or "en" when `text` is clearly written in that language, else None.

    A drug name or one English word in a Vietnamese message ("paracetamol", "con uong vaccine
    duoc ko") does not make it English: English needs several words, most of them English, one
    of them an English function word ("how", "my", "is"). `has_marks` saves the diacritics check
    when the caller already knows (`marked_form(text) is not None`).
    """
    if has_marks if has_marks is not None else marked_form(text) is not None:
        return "vi"
    # Letters only; a lone letter ("b" of "<b>", "k") says nothing, except English "i" and "a".
    words = [w for w in _plain_words(text) if w.isalpha() and (len(w) > 1 or w in "ia")]
    if len(words) < LANGUAGE_MIN_WORDS:
        return None
    # A word with diacritics is Vietnamese whatever its letters.
    vietnamese_shape = [not w.isascii() or bool(_VIETNAMESE_SYLLABLE.fullmatch(w)) for w in words]
    english_only = sum(not shape for shape in vietnamese_shape)  # "how", "insurance"
    vietnamese_only = sum(shape and w not in _ENGLISH_MARKERS
                          for w, shape in zip(words, vietnamese_shape, strict=True))
    both = len(words) - english_only - vietnamese_only  # "be", "do", "the", "to", "my"
    if (english_only + both >= LANGUAGE_SHARE * len(words) and english_only
            and any(w in _ENGLISH_MARKERS for w in words)):
        return "en"
    if vietnamese_only + both >= LANGUAGE_SHARE * len(words) and vietnamese_only:
        return "vi"
    return None


def syllables(text: str) -> list[str]:
    """Normalised syllables (space-separated units) of `text`."""
    return normalize(text).split()


def bigrams(units: list[str]) -> list[str]:
    """Adjacent syllable pairs joined with `BIGRAM_JOINER`."""
    return [f"{a}{BIGRAM_JOINER}{b}" for a, b in zip(units, units[1:], strict=False)]


def tokenize(text: str) -> list[str]:
    """Syllables followed by syllable bigrams: the terms the matcher indexes."""
    units = syllables(text)
    return units + bigrams(units)
