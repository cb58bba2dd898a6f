"""Question analysis, one typed step before any reading: what kind of answer the
question wants, what it counts, which figures and names it names, in which language."""

import re
from dataclasses import dataclass, field
from typing import Literal

from ..lexical import query_terms
from ..normalize import STOPWORDS, figures, language, normalize, tokens
from ..place_names import latin_places

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
    terms: list[str]  # normalised content tokens
    figures: list[str]  # figures the question names (years, counts), normalised
    counted: list[str] = field(default_factory=list)  # what each "how many" counts
    wants_percentage: bool = False
    places: list[list[list[str]]] = field(default_factory=list)  # each named place: its words' token alternatives
    latin_places: list[tuple[str, ...]] = field(default_factory=list)  # Latin place names as consonant skeletons

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


_WH = r"\b(?:how many|how much|who|whom|whose|when|where|which|what)\b"
_UR_WH = r"(?<!\w)(?:کتن[ےیا]|کون|کس|کن|کب|کہاں|کیا(?= ہ[ےیو]| تھ))(?!\w)"
_ASKS = re.compile(f"{_WH}|{_UR_WH}", re.I)
_PART_BREAK = re.compile(r"\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*،?\s+اور\s+|\s*،\s*", re.I)
_LEADING_WH = re.compile(rf"^\s*(?:how many|how much)\s+\S+\s*|^\s*{_WH}\s*|^\s*کتن[ےیا]\s+\S+\s*|^\s*{_UR_WH}\s*",
                         re.I)  # fmt: skip


def question_parts(text: str) -> list[str]:
    """The questions a question asks, each as a question of its own: "how many X and how
    many Y", "who chaired it, and when", "کتنے ... اور کتنے ...". The question is cut at
    `and` / `اور` / commas, and a piece that asks nothing ("In Lai Chau,", "commune and
    ward") stays with its neighbour. A part that is only a question word and its noun
    ("When and where was it held", "کتنی ضلعی اور کتنی کمیون ... ختم کی گئیں") takes the
    words the last part asks them about."""
    cuts = [0, *(x for m in _PART_BREAK.finditer(text) for x in (m.start(), m.end())), len(text)]
    parts: list[list[int]] = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if _ASKS.search(text[start:end]):
            parts.append([start if parts else 0, end])  # words before the first part start it
        elif parts:
            parts[-1][1] = end  # words that ask nothing finish the part before them
    if len(parts) < 2:
        return [text]
    texts = [text[a:b].strip(" ،,") for a, b in parts]
    shared = _LEADING_WH.sub("", texts[-1], count=1)
    out = []
    for piece in texts[:-1]:
        own = [w for w in _LEADING_WH.sub("", piece, count=1).split() if normalize(w) not in STOPWORDS]
        out.append(f"{piece} {shared}" if len(own) < 2 else piece)
    return [*out, texts[-1]]


_NOT_A_NAME = STOPWORDS | {"کون", "سا", "سی", "سے", "کس", "کتنے", "کتنی", "کتنا", "کیا", "کہاں", "ہر"}
_PROVINCE_WORDS = {"صوبہ", "صوبے"}


def _urdu_provinces(text: str) -> list[str]:
    """Up to two words before `صوبے` / `صوبہ`, or after `صوبہ` when none stand before it,
    stopping at punctuation, figures and function or question words."""

    def name(words: list[str]) -> list[str]:
        out: list[str] = []
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


def named_places(text: str) -> list[list[list[str]]]:
    """The Urdu provinces a question names beside `صوبہ` / `صوبے` (`صوبہ ہا نام`), each as
    its words' tokens: a report that never names one of them does not answer it. (A
    place named in English is judged by token matching: `maxsim_passage_min`.)"""
    out: list[list[list[str]]] = []
    for name in _urdu_provinces(text):
        groups = [[t] for t in tokens(name)]
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
        latin_places=latin_places(text),
    )
