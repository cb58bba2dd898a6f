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

import numpy as np

from ..chunking import Span
from ..lexical import LexicalIndex, query_groups
from ..normalize import figures, tokens
from ..token_encoder import TokenStates
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
# Late interaction (`token_states.py`): how well the sentence's, its context's and its
# passage's tokens cover the question's, from the encoder's token states.
TOKEN_SENTENCE_FEATURES = ("maxsim", "maxsim_gap", "maxsim_top", "maxsim_context", "maxsim_passage",
                           "maxsim_passage_min")  # fmt: skip
TOKEN_ANSWER_FEATURES = ("maxsim", "maxsim_context", "maxsim_passage", "maxsim_passage_min")
# ... and how well the words around a span (not the span itself) cover the question's
TOKEN_SPAN_FEATURES = ("span_maxsim", "span_maxsim_gap")
# The tokens that describe a span: a few characters before it and more after it, up to
# the end of its clause once past the first few words (Urdu puts what a figure counts
# after it, "2،334 لوگ کمیون ...", often as a list: "17,418 کیڈرز، سرکاری ملازمین اور ...").
SPAN_BEFORE, SPAN_AFTER, SPAN_AFTER_AT_LEAST = 12, 40, 25
_CLAUSE_END = re.compile(r"[،,؛;۔]")
SPAN_FEATURES = (
    "bias", "proximity", "proximity_top", "proximity_best", "proximity_gap", "follows_counted", "percent_match",
    "percent_mismatch",
    "in_question", "overlap", "only_one", "position", "length", "english", "expected_type",
    *(f"type_{t}" for t in SPAN_TYPES),
)  # fmt: skip


Row = dict[str, float]  # one candidate's features by name; the fitted weights name theirs
# the sentence features the answerability model reads again for the best sentence
_CARRIED = ("coverage", "english", "question_figures_missing", "lex", "lex_passage", "dense",
            "figures_missing_context", "place_missing")  # fmt: skip

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
) -> list[Row]:
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
            {
                "bias": 1.0,
                "dense": dense[i],
                "dense_gap": dense[i] - top,
                "dense_top": 1.0 / (1 + dense_rank[i]),
                "lex": lex,
                "lex_context": bm25.coverage(q.text, s.context),
                "lex_passage": bm25.coverage(q.text, s.passage_text),
                "coverage": coverage,
                "lex_x_coverage": lex * coverage,
                "dense_x_blind": dense[i] * (1 - coverage),
                "passage_rank": 1.0 / (1 + s.passage),
                "passage_score": passage_scores[s.passage] / best_passage,
                "has_candidate": 1.0 if spans[i] else 0.0,
                "candidates": math.log1p(len(spans[i])),
                "question_figures_missing": _missing(wanted, figures(s.passage_text)),
                "english": 1.0 if q.language == "en" else 0.0,
                "length": math.log1p(len(s.span.text)) / 6,
                "addresses_reader": 1.0 if _ADDRESSES_READER.search(s.span.text) else 0.0,
                "figures_missing_context": _missing(wanted, figures(s.context)),
                "place_missing": _places_missing(q, s.doc_id, bm25),
            }
        )
    return rows


def token_features(
    question: np.ndarray, sentences: list[np.ndarray], contexts: list[np.ndarray], passages: list[np.ndarray]
) -> list[Row]:
    """Per sentence: MaxSim of the question's tokens against the sentence's, against the
    sentence with the two before it, and against its whole passage with the report's
    title; and the worst-covered question token in that passage (a place, year or office
    the report never names leaves one question token unmatched)."""
    sims = [float(_best_match(question, s).mean()) for s in sentences]  # MaxSim
    top = max(sims, default=0.0)
    rank = {i: r for r, i in enumerate(sorted(range(len(sims)), key=sims.__getitem__, reverse=True))}
    rows = []
    for i, (c, p) in enumerate(zip(contexts, passages)):
        best = _best_match(question, p)
        rows.append(
            {
                "maxsim": sims[i],
                "maxsim_gap": sims[i] - top,
                "maxsim_top": 1.0 / (1 + rank[i]),
                "maxsim_context": float(_best_match(question, c).mean()),
                "maxsim_passage": float(best.mean()),
                "maxsim_passage_min": float(best.min()),
            }
        )
    return rows


def span_token_features(question: np.ndarray, sentence: TokenStates, options: list[Candidate], text: str) -> list[Row]:
    """Per candidate span: MaxSim of the question's tokens against the sentence's tokens
    that describe the span (SPAN_BEFORE characters before it, up to SPAN_AFTER after it
    within its clause but at least SPAN_AFTER_AT_LEAST; its own tokens left out), and
    its distance to the best candidate's. This is what lets an English question tell the
    Urdu figures of one sentence apart without a word list."""
    spans = np.asarray(sentence.offsets, dtype=np.int64).reshape(-1, 2)
    values = []
    for c in options:
        stop = _CLAUSE_END.search(text, c.end + SPAN_AFTER_AT_LEAST)
        end = min(c.end + SPAN_AFTER, stop.start() if stop else len(text))
        near = (spans[:, 1] > c.start - SPAN_BEFORE) & (spans[:, 0] < end)
        own = (spans[:, 1] > c.start) & (spans[:, 0] < c.end)
        window = sentence.vectors[near & ~own]
        values.append(float(_best_match(question, window).mean()) if len(window) else 0.0)
    top = max(values, default=0.0)
    return [{"span_maxsim": v, "span_maxsim_gap": v - top} for v in values]


def _best_match(question: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Each question token's best cosine to any of `states` (zeros when either is empty)."""
    return (question @ states.T).max(axis=1) if len(question) and len(states) else np.zeros(1)


def answer_features(
    q: Question,
    sentence: SentenceCandidate,
    sentence_rows: list[Row],
    probs: list[float],
    best: int,
    span_p: float | None,
) -> Row:
    """Is the question answered at all: the best sentence's probability and features,
    how sure the span is, how far the best sentence stands above the next, and whether
    what the question counts is named near it."""
    row = sentence_rows[best]
    p = min(max(probs[best], 1e-6), 1 - 1e-6)
    second = max((q for i, q in enumerate(probs) if i != best), default=0.0)
    return {
        "bias": 1.0,
        "sentence_logit": math.log(p / (1 - p)),
        "span": span_p if span_p is not None else 0.0,
        "no_span": 1.0 if span_p is None else 0.0,
        **{name: row[name] for name in _CARRIED},
        **{name: row[name] for name in TOKEN_ANSWER_FEATURES if name in row},
        "margin": probs[best] - second,
        "counted_missing": _counted_missing(q, sentence.context),
    }


def _missing(wanted: set[str], have: list[str]) -> float:
    """Share of the figures the question names that `have` lacks."""
    return len(wanted - set(have)) / len(wanted) if wanted else 0.0


def _places_missing(q: Question, doc_id: str, bm25: LexicalIndex) -> float:
    """Share of the places the question names (`Question.places`, in Urdu; and
    `Question.latin_places`, in Latin letters, matched by their consonants) that the
    sentence's report never names: a question about another province is not answered
    there."""
    named = len(q.places) + len(q.latin_places)
    if not named:
        return 0.0
    missing = sum(1 for place in q.places if not all(any(doc_id in bm25.reports_with(t) for t in g) for g in place))
    missing += sum(1 for place in q.latin_places if doc_id not in bm25.reports_naming(place))
    return missing / named


def _counted_missing(q: Question, context: str) -> float:
    """Share of the counted words ("how many *schools*") that the sentence and its
    context never mention (in the question's own words: English ones are judged by
    token matching instead)."""
    groups = [g for words in q.counted for g in query_groups(words)]
    if not groups:
        return 0.0
    have = set(tokens(context))
    return sum(1 for g in groups if not have & set(g)) / len(groups)


def span_features(q: Question, sentence: str, options: list[Candidate], idf: Callable[[str], float]) -> list[Row]:
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
            {
                "bias": 1.0,
                "proximity": p / total,
                "proximity_top": p / top,
                "proximity_best": 1.0 if p > other else 0.0,
                "proximity_gap": (p - other) / total,
                "follows_counted": _follows(sentence, c, q.counted),
                "percent_match": 1.0 if q.wants_percentage and is_percent else 0.0,
                "percent_mismatch": 1.0 if q.kind == "count" and q.wants_percentage != is_percent else 0.0,
                "in_question": 1.0 if span_tokens and span_tokens <= question_tokens else 0.0,
                "overlap": len(span_tokens & set(q.terms)) / (len(span_tokens) or 1),
                "only_one": 1.0 if len(options) == 1 else 0.0,
                "position": c.start / (len(sentence) or 1),
                "length": math.log1p(len(c.text)) / 6,
                "english": 1.0 if q.language == "en" else 0.0,
                "expected_type": 1.0 if c.type in EXPECTED_TYPES[q.kind] else 0.0,
                **{f"type_{t}": 1.0 if c.type == t else 0.0 for t in SPAN_TYPES},
            }
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
