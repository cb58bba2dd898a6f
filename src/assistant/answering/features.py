"""Features the reader's scorer weighs: one vector per candidate sentence ("is the
answer here?") and one per candidate span ("is this the answer?"). The weights are not
set here: `bench/fit_reader.py` fits them and writes `reader_weights.json`.

Every feature is relative to the question (coverage, rank among the candidates,
distance to the question's words), so one set of weights serves Urdu and English
questions, verbatim and paraphrased."""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..chunking import Span
from ..lexical import LexicalIndex, query_groups
from ..normalize import figures, tokens
from .question import Kind, Question
from .spans import SPAN_TYPES, Candidate, SpanType

# Sentences that address the reader (an instruction, a question, "when asked ... answer")
# are not evidence, whoever wrote them into a report.
_ADDRESSES_READER = re.compile(
    r"[؟?]\s*$|\b(?:answer|reply|respond|say|ignore|instruction|assistant)\b|جواب د|جواب میں|بتائیں|کہیں کہ|"
    r"جب پوچھا|پوچھا جائے|ہدایت",
    re.I,
)

SENTENCE_FEATURES = (
    "bias", "dense", "dense_gap", "dense_top", "lex", "lex_context", "lex_passage", "coverage",
    "lex_x_coverage", "dense_x_blind", "passage_rank", "passage_score", "has_candidate", "candidates",
    "question_figures_missing", "english", "length", "addresses_reader", "figures_missing_context",
    "place_missing",
)  # fmt: skip
ANSWER_FEATURES = (
    "bias", "sentence_logit", "span", "no_span", "coverage", "english", "question_figures_missing", "lex",
    "lex_passage", "dense", "margin", "counted_missing", "figures_missing_context",
    "place_missing",
)  # fmt: skip
SPAN_FEATURES = (
    "bias", "proximity", "proximity_top", "proximity_best", "proximity_gap", "follows_counted", "percent_match",
    "percent_mismatch",
    "in_question", "overlap", "only_one", "position", "length", "english", "expected_type",
    *(f"type_{t}" for t in SPAN_TYPES),
)  # fmt: skip


# The span types that answer each kind of question directly (others may still, less often).
EXPECTED_TYPES: dict[Kind, tuple[SpanType, ...]] = {
    "count": ("figure", "percent"),
    "date": ("date",),
    "year": ("year",),
    "rank": ("rank",),
    "person": ("person",),
    "place": ("place",),
    "organisation": ("organisation",),
    "which": ("organisation", "place", "rank"),
    "other": ("clause",),
}


@dataclass(frozen=True)
class SentenceCandidate:
    passage: int  # index into the retrieved passages
    span: Span  # offsets into the original file
    context: str  # the sentence and the two before it
    passage_text: str  # the passage and its report's title
    sentence_id: str
    doc_id: str


def _cosine(a: list[float], b: list[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b)))


def sentence_features(
    q: Question,
    sentences: list[SentenceCandidate],
    qvec: list[float],
    svecs: list[list[float]],
    passage_scores: list[float],
    bm25: LexicalIndex,
    spans: list[list[Candidate]],
) -> list[list[float]]:
    dense = [_cosine(qvec, v) for v in svecs]
    top = max(dense, default=0.0)
    order = sorted(range(len(dense)), key=dense.__getitem__, reverse=True)
    dense_rank = {i: r for r, i in enumerate(order)}
    coverage = bm25.coverage(q.text)
    wanted = set(q.figures)
    best_passage = max(passage_scores, default=1.0) or 1.0
    rows = []
    for i, s in enumerate(sentences):
        lex = bm25.coverage(q.text, s.span.text)
        rows.append(
            [
                1.0,
                dense[i],
                dense[i] - top,
                1.0 / (1 + dense_rank[i]),
                lex,
                bm25.coverage(q.text, s.context),
                bm25.coverage(q.text, s.passage_text),
                coverage,
                lex * coverage,
                dense[i] * (1 - coverage),
                1.0 / (1 + s.passage),
                passage_scores[s.passage] / best_passage,
                1.0 if spans[i] else 0.0,
                math.log1p(len(spans[i])),
                _missing(wanted, figures(s.passage_text)),
                1.0 if q.language == "en" else 0.0,
                math.log1p(len(s.span.text)) / 6,
                1.0 if _ADDRESSES_READER.search(s.span.text) else 0.0,
                _missing(wanted, figures(s.context)),
                _places_missing(q, s.doc_id, bm25),
            ]
        )
    return rows


def answer_features(
    q: Question,
    sentence: SentenceCandidate,
    sentence_rows: list[list[float]],
    probs: list[float],
    best: int,
    span_p: float | None,
) -> list[float]:
    """Is the question answered at all: the best sentence's probability and features,
    how sure the span is, how far the best sentence stands above the next, and whether
    what the question counts is named near it."""
    row = dict(zip(SENTENCE_FEATURES, sentence_rows[best]))
    p = min(max(probs[best], 1e-6), 1 - 1e-6)
    second = max((q for i, q in enumerate(probs) if i != best), default=0.0)
    return [
        1.0,
        math.log(p / (1 - p)),
        span_p if span_p is not None else 0.0,
        1.0 if span_p is None else 0.0,
        row["coverage"],
        row["english"],
        row["question_figures_missing"],
        row["lex"],
        row["lex_passage"],
        row["dense"],
        probs[best] - second,
        _counted_missing(q, sentence.context),
        row["figures_missing_context"],
        row["place_missing"],
    ]


def _missing(wanted: set[str], have: list[str]) -> float:
    """Share of the figures the question names that `have` lacks."""
    return len(wanted - set(have)) / len(wanted) if wanted else 0.0


def _places_missing(q: Question, doc_id: str, bm25: LexicalIndex) -> float:
    """Share of the places the question names (`Question.places`) that the sentence's
    report never names: a question about another province is not answered there."""
    if not q.places:
        return 0.0
    missing = sum(1 for place in q.places if not all(any(doc_id in bm25.reports_with(t) for t in g) for g in place))
    return missing / len(q.places)


def _counted_missing(q: Question, context: str) -> float:
    """Share of the counted words ("how many *schools*") that the sentence and its
    context never mention (English words through the glossary bridge)."""
    groups = [g for words in q.counted for g in query_groups(words)]
    if not groups:
        return 0.0
    have = set(tokens(context))
    return sum(1 for g in groups if not have & set(g)) / len(groups)


def span_features(
    q: Question, sentence: str, options: list[Candidate], idf: Callable[[str], float]
) -> list[list[float]]:
    near = proximity(q, sentence, options, idf)
    top = max(near, default=0.0) or 1.0
    total = sum(idf(t) for t in set(q.terms)) or 1.0
    question_tokens = set(tokens(q.text))
    rows = []
    for n, (c, p) in enumerate(zip(options, near)):
        other = max((x for k, x in enumerate(near) if k != n), default=0.0)
        is_percent = c.type == "percent"
        span_tokens = set(tokens(c.text))
        rows.append(
            [
                1.0,
                p / total,
                p / top,
                1.0 if p > other else 0.0,
                (p - other) / total,
                _follows(sentence, c, q.counted),
                1.0 if q.wants_percentage and is_percent else 0.0,
                1.0 if q.kind == "count" and q.wants_percentage != is_percent else 0.0,
                1.0 if span_tokens and span_tokens <= question_tokens else 0.0,
                len(span_tokens & set(q.terms)) / (len(span_tokens) or 1),
                1.0 if len(options) == 1 else 0.0,
                c.start / (len(sentence) or 1),
                math.log1p(len(c.text)) / 6,
                1.0 if q.language == "en" else 0.0,
                1.0 if c.type in EXPECTED_TYPES[q.kind] else 0.0,
                *(1.0 if c.type == t else 0.0 for t in SPAN_TYPES),
            ]
        )
    return rows


def _follows(sentence: str, option: Candidate, counted: list[str]) -> float:
    """1.0 when the words right after the figure are what the question counts."""
    after = set(tokens(" ".join(sentence[option.end :].split()[:3])))
    return 1.0 if any(set(tokens(words)) & after for words in counted) else 0.0


def _words(text: str) -> list[tuple[int, int, set[str]]]:
    return [(m.start(), m.end(), set(tokens(m.group()))) for m in re.finditer(r"\S+", text)]


def proximity(q: Question, sentence: str, options: list[Candidate], idf: Callable[[str], float]) -> list[float]:
    """How strongly the question's words describe each option: for every distinct
    question word, its rarity times a closeness weight. Urdu puts a figure's noun and
    modifiers after it ("2،334 لوگ کمیون کی سطح پر"), so words after the option and
    within its clause decay slowly; all other words decay with distance."""
    wanted = set(q.terms)
    words = _words(sentence)
    out = []
    for option in options:
        at = next((i for i, (s, e, _) in enumerate(words) if s <= option.start < e), 0)
        end = next((i for i, (s, e, _) in enumerate(words) if s < option.end <= e), at)
        clause_end = next((i for i in range(end, len(words)) if sentence[words[i][1] - 1] in "،,؛;"), len(words))
        best: dict[str, float] = {}
        for i, (_, _, toks) in enumerate(words):
            if at <= i <= end:
                continue
            distance = min(abs(i - at), abs(i - end))
            closeness = 1 / (1 + distance / 3) if end < i <= clause_end else 1 / (1 + distance)
            for tok in toks & wanted:
                best[tok] = max(best.get(tok, 0.0), closeness)
        out.append(sum(idf(tok) * w for tok, w in best.items()))
    return out
