"""Question analysis, one typed step before any reading: what kind of answer the
question wants, what it counts, which figures and names it names, in which language."""

import re
from dataclasses import dataclass, field
from typing import Literal

from ..glossary import ENGLISH_WORDS, PLACE_WORDS, bridged
from ..lexical import query_terms
from ..normalize import STOPWORDS, figures, language, normalize, tokens

Kind = Literal["count", "date", "year", "person", "place", "organisation", "rank", "which", "other"]

COUNT_WORD = re.compile(r"کتن[ےیا]|how many|how much", re.I)
PUNCT = "،,؛;؟?!۔."

# First match wins: the more specific kinds come before the general ones.
_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    ("date", re.compile(r"\bwhen\b|what date|which date|\bکب\b|کس تاریخ|کس دن|کون سی تاریخ|کس مہینے|تاریخ کیا", re.I)),
    ("year", re.compile(r"which year|what year|in what year|کس سال|کون سے سال|کونسے سال", re.I)),
    (
        "place",
        re.compile(
            r"\bwhere\b|which (?:province|district|commune|city|town|locality|place)|"
            r"what (?:province|district|commune|city|town|locality)|کہاں|کس صوبے|کس ضلع|"
            r"کس علاقے|کس شہر|کس جگہ|کون سا صوبہ|کون سے صوبے|کون سا ضلع|کون سے ضلع",
            re.I,
        ),
    ),  # fmt: skip
    (
        "organisation",
        re.compile(
            r"(?:which|what) (?:department|agency|unit|organi[sz]ation|body|committee|office|"
            r"ministry)|کس محکمے|کون سا محکمہ|کون سے محکمے|کس ادارے|کون سا ادارہ|کس ایجنسی|"
            r"کس یونٹ|کون سی ایجنسی|کس دفتر|کون سا دفتر|کس کمیٹی|کس تنظیم",
            re.I,
        ),
    ),  # fmt: skip
    (
        "count",
        re.compile(
            r"how many|how much|what (?:percentage|share|rate|score|number|proportion|ratio|amount|total)|"
            r"\bpercent|کتن[ےیا]|کس قدر|فیصد|شرح کیا|اسکور کیا|نمبر کیا|تعداد کیا|تعداد",
            re.I,
        ),
    ),
    (
        "rank",
        re.compile(
            r"(?:what|which) (?:rank|position)|\branked? (?:at|in)?\s*what|کس نمبر|کون سے نمبر|"
            r"کونسے نمبر|کس پوزیشن|کس مقام|کس درجے",
            re.I,
        ),
    ),  # fmt: skip
    (
        "person",
        re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|\bکون\b(?! سا| سی| سے)|کس نے|کس کی صدارت|کس شخص|کن کی|کس کو", re.I),
    ),  # fmt: skip
    ("which", re.compile(r"\bwhich\b|\bwhat\b|کون سا|کون سی|کون سے|کونسا|کونسی|کس (?!نے)|کیا نام|نام کیا", re.I)),
]


@dataclass(frozen=True)
class Question:
    text: str
    language: Literal["ur", "en"]
    kind: Kind
    terms: list[str]  # normalised content tokens, English ones bridged to Urdu
    figures: list[str]  # figures the question names (years, counts), normalised
    counted: list[str] = field(default_factory=list)  # what each "how many" counts
    wants_percentage: bool = False
    places: list[list[list[str]]] = field(default_factory=list)  # each named place: its words' token alternatives

    compound: bool = False  # asks two different things ("who ... and how many ...")

    @property
    def parts(self) -> int:
        """How many figures the answer should hold ("how many X and how many Y" = 2)."""
        return max(1, len(self.counted)) if self.kind == "count" else 1


def question_kind(text: str) -> Kind:
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return kind
    return "other"


def counted_words(text: str) -> list[str]:
    """The words right after each `کتنے` / `how many`: what is being counted."""
    out = []
    for m in COUNT_WORD.finditer(text):
        words = []
        for word in text[m.end() :].split()[:2]:
            words.append(word.strip(PUNCT))
            if word[-1] in PUNCT:
                break
        if phrase := " ".join(w for w in words if w):
            out.append(phrase)
    return out


_ASKING = re.compile(r"\b(?:who|when|where|which|what|how many|how much)\b|کتن[ےیا]|\bکون\b|\bکب\b|کہاں|\bکس\b", re.I)
_SEVERAL = re.compile(r"\b(?:two|three|four|five|both)\b|\b(?:تین|چار|پانچ|دونوں)\b", re.I)


def is_compound(text: str) -> bool:
    """Asks for two or more things: several different question words, or "which three ..."."""
    asked = {m.group().lower() for m in _ASKING.finditer(text)}
    return len(asked) >= 2 or bool(_SEVERAL.search(text) and _ASKING.search(text))


_NAMED_BEFORE_HEAD = re.compile(r"((?:[A-Z][a-z]+[ -]){1,4})(?i:province|provincial|district|commune|city|town|ward)\b")
_NAMED_AFTER_IN = re.compile(r"\b(?i:in|of|at) ((?:[A-Z][a-z]+[ -]?){1,3})")
_NOT_A_NAME = STOPWORDS | {"کون", "سا", "سی", "سے", "کس", "کتنے", "کتنی", "کتنا", "کیا", "کہاں", "ہر"}
_LATIN_FUNCTION = set(
    "which what whose the each every that this how in of at does do did is are was were for from to and on by has "
    "have".split()
)
_PROVINCE_WORDS = {"صوبہ", "صوبے"}


def _urdu_provinces(text: str) -> list[str]:
    """Up to two words before `صوبے` / `صوبہ`, or after `صوبہ` when none stand before it,
    stopping at punctuation, figures and function or question words."""

    def name(words: list[str]) -> list[str]:
        out = []
        for word in words:
            bare = word.strip(PUNCT)
            if not bare or bare in _NOT_A_NAME or any(c.isdigit() for c in bare) or len(out) == 2:
                break
            out.append(bare)
            if word != bare:  # punctuation ends the name
                break
        return out

    words = text.split()
    found = []
    for i, word in enumerate(words):
        if word.strip(PUNCT) not in _PROVINCE_WORDS:
            continue
        before = [] if i == 0 or words[i - 1] != words[i - 1].strip(PUNCT) else name(words[i - 1 :: -1])[::-1]
        after = name(words[i + 1 :]) if word.startswith("صوبہ") and not before else []
        if before or after:
            found.append(" ".join(before or after))
    return found


def _latin_places(text: str) -> list[str]:
    found = []
    for m in _NAMED_BEFORE_HEAD.finditer(text):
        words = m.group(1).replace("-", " ").split()
        while words and (normalize(words[0]) in _LATIN_FUNCTION or normalize(words[0]) in ENGLISH_WORDS):
            words.pop(0)
        if words and not any(normalize(w) in ENGLISH_WORDS for w in words):
            found.append(" ".join(words))
    for m in _NAMED_AFTER_IN.finditer(text):
        words = m.group(1).replace("-", " ").split()
        known = []
        for w in words:
            if normalize(w) not in PLACE_WORDS:
                break
            known.append(w)
        if known:
            found.append(" ".join(known))
    return found


def named_places(text: str) -> list[list[list[str]]]:
    """The places a question names, each as its words' token alternatives (an English
    word bridged to Urdu): Urdu provinces beside `صوبہ` / `صوبے` (`صوبہ ہا نام`), Latin ones
    before "province", "district" ..., and known place names after "in", "of", "at". A
    report that never names one of them does not answer the question."""
    out: list[list[list[str]]] = []
    for name in _urdu_provinces(text) + _latin_places(text):
        groups = [bridged(t) for t in tokens(name)]
        if groups and groups not in out:
            out.append(groups)
    return out


def analyze(text: str) -> Question:
    return Question(
        text=text,
        language="ur" if language(text) == "ur" else "en",
        kind=question_kind(text),
        terms=query_terms(text),
        figures=figures(text),
        counted=counted_words(text),
        compound=is_compound(text),
        wants_percentage=bool(re.search(r"percent|%|٪|\brate\b|\bshare\b|فیصد|شرح", text, re.I)),
        places=named_places(text),
    )
