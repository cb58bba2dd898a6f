"""Candidate answer spans in a sentence: figures, dates, years, ranks, names of people,
departments and organisations, places, and clauses. Each is a span of the original
text (offsets within the sentence), so an answer always quotes the report exactly.
Finding spans knows nothing about the question; the scorer chooses among them."""

import re
from dataclasses import dataclass
from typing import Literal

from ..english_words import ENGLISH_WORDS
from ..normalize import DIGITS, normalize
from .question import Kind

SpanType = Literal["figure", "percent", "year", "date", "rank", "person", "organisation", "place", "clause"]
SPAN_TYPES: tuple[SpanType, ...] = (
    "figure", "percent", "year", "date", "rank", "person", "organisation", "place", "clause",
)  # fmt: skip

_MONTHS = "جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر|اکتوبر|نومبر|دسمبر"
FIGURE_SPAN = re.compile(
    r"(?<![\w/])\d[\d,،٬]*(?:[.٫]\d+)?(?:\s?[-–]\s?\d[\d,،٬]*(?:[.٫]\d+)?)?(?:\s?(?:%|٪|فیصد))?(?:/\d+)?"
    r"(?:\s(?:ملین|ارب|لاکھ|کروڑ|ہزار|million|billion|thousand)\b)?(?:\s?ویں)?"
)
_DATE = (
    rf"(?:(?:یکم|\d{{1,2}})(?:\s*(?:سے|-|–|اور)\s*\d{{1,2}})?\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}})"
)
DATE_SPAN = re.compile(rf"{_DATE}\s+سے\s+{_DATE}\s+تک|{_DATE}")
YEAR_SPAN = re.compile(r"(?<![\d/])(?:19|20)\d{2}(?![\d/])")
RANK_SPAN = re.compile(
    r"(?:\d+\s?(?:ویں|واں|ویں نمبر)|پہلے|دوسرے|تیسرے|چوتھے|پانچویں|آخری)\s+(?:نمبر|مقام|پوزیشن)(?:\s+پر)?"
    r"|\d+\s?(?:ویں|واں)"
)
_LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,4}\b")
_TITLE = re.compile(r"(?:کامریڈز?|چیئرمین|چیئر وومن|سیکرٹری|سکریٹری|سربراہ|ڈائریکٹر|وزیر|جناب|محترمہ|مسٹر|مسز)\s+")
_ORG_HEAD = re.compile(r"(?:محکمہ|محکمے|وزارت|ادارہ|ادارے|دفتر|بورڈ|بینک|یونین|ایسوسی ایشن|فرنٹ|کمپنی)\s+")
_PLACE_HEAD = re.compile(r"(?:صوبہ|صوبے|ضلع|اضلاع|کمیون|شہر|قصبہ|وارڈ|گاؤں)\s+")
_PLACE_TAIL = re.compile(r"\s+(?:صوبے|صوبہ|ضلع|ضلعے|کمیون|شہر|قصبے|وارڈ)(?=[\s،,۔]|$)")
_WORD = re.compile(r"[^\s،,؛;۔:()\"«»]+")
_STOP = {
    "نے", "کی", "کے", "کا", "کو", "اور", "سے", "میں", "پر", "ہیں", "ہے", "تھے", "تھا", "تھی", "-", "–", "جو",
    "جس", "جن", "نمبر", "لیے", "لئے", "ساتھ", "بھی", "یہ", "وہ", "اس", "ان", "کہ", "تک", "طور", "نے،",
    "صوبائی", "پارٹی", "مرکزی", "کمیٹی", "کانفرنس", "اسٹینڈنگ", "وائس", "ڈپٹی", "مستقل", "عوامی", "پیپلز",
    "پہلے", "دوسرے", "تیسرے", "چوتھے", "آخری", "سب",
}  # fmt: skip
_NAME_BREAK = _STOP - {"اور"}


@dataclass(frozen=True)
class Candidate:
    start: int  # offsets within the sentence
    end: int
    text: str
    type: SpanType


def _is_year(text: str) -> bool:
    """`2024` is a year; `2,024` or `2،024` is a count."""
    return bool(re.fullmatch(r"(?:19|20)\d{2}", text.translate(DIGITS)))


def _inside(c: Candidate, spans: list[tuple[int, int]]) -> bool:
    return any(s <= c.start < e for s, e in spans)


def figures(sentence: str) -> list[Candidate]:
    """Counts, amounts, percentages and scores; years and figures inside dates left out."""
    dates = [(m.start(), m.end()) for m in DATE_SPAN.finditer(sentence)]
    out = []
    for m in FIGURE_SPAN.finditer(sentence):
        text = m.group().strip()
        if _is_year(text) or _inside(Candidate(m.start(), m.end(), text, "figure"), dates):
            continue
        kind: SpanType = "percent" if "%" in normalize(text) else "figure"
        out.append(Candidate(m.start(), m.start() + len(text), text, kind))
    return out


def dates(sentence: str) -> list[Candidate]:
    return [Candidate(m.start(), m.end(), m.group(), "date") for m in DATE_SPAN.finditer(sentence)]


def years(sentence: str) -> list[Candidate]:
    return [Candidate(m.start(), m.end(), m.group(), "year") for m in YEAR_SPAN.finditer(sentence)]


def ranks(sentence: str) -> list[Candidate]:
    return [Candidate(m.start(), m.end(), m.group().strip(), "rank") for m in RANK_SPAN.finditer(sentence)]


def _phrase_after(sentence: str, pos: int, limit: int, stop: set[str]) -> tuple[int, int] | None:
    """Up to `limit` words from `pos`, stopping at punctuation or a function word."""
    words: list[tuple[int, int]] = []
    for word in _WORD.finditer(sentence, pos):
        gap = sentence[(words[-1][1] if words else pos) : word.start()]
        if word.group() in stop or len(words) == limit or gap.strip():
            break
        words.append((word.start(), word.end()))
    while words and sentence[words[-1][0] : words[-1][1]] == "اور":
        words.pop()
    return (words[0][0], words[-1][1]) if words else None


def _phrase_before(sentence: str, end: int, limit: int) -> tuple[int, int] | None:
    words = [(m.start(), m.end()) for m in _WORD.finditer(sentence[:end])]
    picked: list[tuple[int, int]] = []
    for start, stop in reversed(words):
        gap = sentence[stop : (picked[0][0] if picked else end)]
        if sentence[start:stop] in _STOP or len(picked) == limit or gap.strip():
            break
        picked.insert(0, (start, stop))
    return (picked[0][0], picked[-1][1]) if picked else None


def _latin_name(text: str) -> bool:
    """A Latin-script phrase is a name unless it holds ordinary English words."""
    return not any(w.lower() in ENGLISH_WORDS for w in re.split(r"[ -]", text))


def people(sentence: str) -> list[Candidate]:
    """Names after a title (`کامریڈ`, `چیئرمین` ...), two to four words, and Latin-script names."""
    out = [
        Candidate(m.start(), m.end(), m.group(), "person")
        for m in _LATIN_NAME.finditer(sentence)
        if _latin_name(m.group())
    ]
    for m in _TITLE.finditer(sentence):
        found = _phrase_after(sentence, m.end(), 4, _NAME_BREAK)
        if found is None:
            continue
        name = sentence[found[0] : found[1]]
        if len(name.split()) >= 2 and not name.startswith("اور ") and not any(c.isdigit() for c in name):
            out.append(Candidate(found[0], found[1], name, "person"))
    return out


def organisations(sentence: str) -> list[Candidate]:
    """Departments and bodies named with their head word: `محکمہ داخلہ`, `وزارت ...`."""
    out = []
    for m in _ORG_HEAD.finditer(sentence):
        found = _phrase_after(sentence, m.end(), 4, _STOP)
        if found:
            out.append(Candidate(m.start(), found[1], sentence[m.start() : found[1]], "organisation"))
    return out


def places(sentence: str) -> list[Candidate]:
    """Provinces, districts, communes named beside their head word: `صوبہ لاؤ کائی`, `لاؤ کائی صوبے`."""
    out = []
    for m in _PLACE_HEAD.finditer(sentence):
        found = _phrase_after(sentence, m.end(), 3, _STOP)
        if found:
            out.append(Candidate(found[0], found[1], sentence[found[0] : found[1]], "place"))
    for m in _PLACE_TAIL.finditer(sentence):
        found = _phrase_before(sentence, m.start(), 3)
        if found:
            out.append(Candidate(found[0], found[1], sentence[found[0] : found[1]], "place"))
    return out


def clauses(sentence: str) -> list[Candidate]:
    """Pieces of a sentence between `؛ ; :` marks (and its end mark), for which/what answers."""
    out = []
    for m in re.finditer(r"[^؛;:]+", sentence):
        piece = m.group()
        text = piece.strip().rstrip("۔.").strip()
        if text:
            start = m.start() + piece.index(text)
            out.append(Candidate(start, start + len(text), text, "clause"))
    return out


_FINDERS = {
    "count": (figures,),
    "date": (dates, years),
    "year": (years,),
    "rank": (ranks,),
    "person": (people,),
    "place": (places, people),
    "organisation": (organisations, places, people),
    "which": (organisations, places, ranks, figures, clauses),
    "other": (clauses,),
}


def candidates(kind: Kind, sentence: str) -> list[Candidate]:
    """Every span of a type that can answer a question of this kind, deduplicated."""
    seen: set[tuple[int, int]] = set()
    out = []
    for finder in _FINDERS[kind]:
        for c in finder(sentence):
            if (c.start, c.end) not in seen and c.text:
                seen.add((c.start, c.end))
                out.append(c)
    return out
