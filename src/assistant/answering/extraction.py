"""What kind of answer a question wants, and the candidate figures, dates and names
in a sentence (as spans of the original text, so answers quote the report exactly)."""

import re
from dataclasses import dataclass

from ..normalize import normalize

_MONTHS = "جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر|اکتوبر|نومبر|دسمبر"

FIGURE_SPAN = re.compile(
    r"(?<![\w/])\d[\d,،٬]*(?:[.٫]\d+)?(?:\s?(?:%|٪|فیصد))?(?:/\d+)?"
    r"(?:\s(?:ملین|ارب|لاکھ|کروڑ|ہزار|million|billion|thousand)\b)?(?:\s?ویں)?"
)
_DATE = rf"(?:(?:یکم|\d{{1,2}})\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}})"
DATE_SPAN = re.compile(rf"{_DATE}\s+سے\s+{_DATE}\s+تک|{_DATE}")
YEAR_SPAN = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,3}\b")
_NAME_AFTER = re.compile(r"(?:کامریڈ|چیئرمین|سیکرٹری|سکریٹری|سربراہ|آفس)\s+")
COUNT_WORD = re.compile(r"کتن[ےیا]|how many|how much", re.I)
PUNCT = "،,؛;؟?!۔."
_NAME_STOP = {
    "نے", "کی", "کے", "کا", "کو", "اور", "سے", "میں", "پر", "صوبائی", "پارٹی", "مرکزی", "کمیٹی",
    "ہیں", "ہے", "تھے", "-", "–", "کانفرنس", "محکمہ", "اسٹینڈنگ", "وائس", "ڈپٹی", "مستقل",
}  # fmt: skip

_PATTERNS = [
    ("date", re.compile(r"\bwhen\b|what date|which date|\bکب\b|کس تاریخ|کس دن|کون سی تاریخ|کس مہینے", re.I)),
    ("year", re.compile(r"which year|what year|کس سال|کون سے سال|کونسے سال", re.I)),
    (
        "count",
        re.compile(
            r"how many|how much|what (?:percentage|share|rate|score|number|proportion)|percent|"
            r"کتن[ےیا]|کس قدر|کتنے فیصد|شرح کیا|فیصد کیا|اسکور کیا|نمبر کیا",
            re.I,
        ),
    ),
    ("person", re.compile(r"\bwho\b|\bwhom\b|\bکون\b(?! سا| سی| سے)|کس نے|کس کی صدارت|کس شخص", re.I)),
    ("which", re.compile(r"\bwhich\b|\bwhat\b|کون سا|کون سی|کون سے|کونسا|کونسی|کس (?!نے)|کیا نام", re.I)),
]


def question_type(question: str) -> str:
    """One of: date, year, count, person, which, other."""
    for kind, pattern in _PATTERNS:
        if pattern.search(question):
            return kind
    return "other"


def counted_words(question: str) -> list[str]:
    """The words right after each `کتنے` / `how many`: what is being counted."""
    out = []
    for m in COUNT_WORD.finditer(question):
        words = []
        for word in question[m.end() :].split()[:2]:
            words.append(word.strip(PUNCT))
            if word[-1] in PUNCT:
                break
        if phrase := " ".join(w for w in words if w):
            out.append(phrase)
    return out


def wants_percentage(question: str) -> bool:
    return bool(re.search(r"percent|%|٪|rate|share|فیصد|شرح", question, re.I))


@dataclass(frozen=True)
class Candidate:
    start: int  # offsets within the sentence
    end: int
    text: str


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d{2}", normalize(text)))


def figure_candidates(sentence: str, allow_years: bool = False) -> list[Candidate]:
    found = [Candidate(m.start(), m.end(), m.group().strip()) for m in FIGURE_SPAN.finditer(sentence)]
    dates = [(m.start(), m.end()) for m in DATE_SPAN.finditer(sentence)]
    keep = [c for c in found if not any(s <= c.start < e for s, e in dates)]
    if not allow_years:
        non_years = [c for c in keep if not _is_year(c.text)]
        keep = non_years or keep
    return keep


def date_candidates(sentence: str) -> list[Candidate]:
    return [Candidate(m.start(), m.end(), m.group()) for m in DATE_SPAN.finditer(sentence)]


def year_candidates(sentence: str) -> list[Candidate]:
    return [Candidate(m.start(), m.end(), m.group()) for m in YEAR_SPAN.finditer(sentence)]


def name_candidates(sentence: str) -> list[Candidate]:
    """Names after `کامریڈ` or a title, up to four words, and Latin-script names."""
    out = [Candidate(m.start(), m.end(), m.group()) for m in _LATIN_NAME.finditer(sentence)]
    for m in _NAME_AFTER.finditer(sentence):
        words = []
        pos = m.end()
        for word in re.finditer(r"[^\s،,؛;۔]+", sentence[pos:]):
            if word.group() in _NAME_STOP or len(words) == 4 or word.start() > (words[-1][1] + 1 if words else 0):
                break
            words.append((word.start(), word.end()))
            if re.match(r"[،,؛;۔]", sentence[pos + word.end() : pos + word.end() + 1]):
                break
        if 2 <= len(words) <= 4:
            out.append(
                Candidate(pos + words[0][0], pos + words[-1][1], sentence[pos + words[0][0] : pos + words[-1][1]])
            )
    return out


def clauses(sentence: str) -> list[Candidate]:
    """Pieces of a sentence between `؛ ; :` marks, for which/what answers."""
    out, pos = [], 0
    for m in re.finditer(r"[؛;:]\s*", sentence):
        if sentence[pos : m.start()].strip():
            out.append(Candidate(pos, m.start(), sentence[pos : m.start()].strip()))
        pos = m.end()
    if sentence[pos:].strip():
        out.append(Candidate(pos, len(sentence), sentence[pos:].strip().rstrip("۔.")))
    return out
