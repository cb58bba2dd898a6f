"""The default answerer, no LLM: it picks the report sentence that best answers the
question and, for how-many / when / who / which questions, the figure, date or name in
it. Every answer is a verbatim span of a retrieved passage, so it cannot invent.

Sentences are scored the way retrieval fuses: lexical coverage of the question
(IDF-weighted, with a little of the preceding sentences as context) weighted by how
much of the question the corpus vocabulary covers, plus e5 similarity for the rest.
When the best sentence's score is below `min_evidence`, or the question names a figure
(a year, a number) that the evidence does not contain, it refuses."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from ..answers import REFUSALS, Passage
from ..chunking import Span, sentences
from ..lexical import BM25
from ..normalize import content_tokens, figures, language, normalize, tokens
from .base import Answerer, Draft, Evidence
from .extraction import (
    Candidate,
    clauses,
    counted_words,
    date_candidates,
    figure_candidates,
    name_candidates,
    question_type,
    wants_percentage,
    year_candidates,
)

# e5 cosine similarities live in a narrow band; these map it onto 0..1.
DENSE_FLOOR, DENSE_CEIL = 0.78, 0.90
ANSWER_PASSAGES = 3
CONTEXT_SENTENCES = 2
SECOND_SENTENCE_RATIO = 0.92


@dataclass(frozen=True)
class _Sentence:
    passage: int
    span: Span
    context: str
    score: float = 0.0


def _dense_scaled(cos: float) -> float:
    return min(1.0, max(0.0, (cos - DENSE_FLOOR) / (DENSE_CEIL - DENSE_FLOOR)))


def _cosine(a: list[float], b: list[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b)))


class ExtractiveAnswerer(Answerer):
    name = "extractive"

    def __init__(self, bm25: Callable[[], BM25], embeddings: Embeddings, min_evidence: float) -> None:
        self._bm25 = bm25
        self._embeddings = embeddings
        self.min_evidence = min_evidence

    def answer(self, question: str, passages: list[Passage]) -> Draft:
        lang = language(question)
        refusal = Draft(REFUSALS[lang], refused=True)
        candidates = self._sentences(passages)
        if not candidates:
            return refusal
        bm25 = self._bm25()
        weight = bm25.coverage(question)
        qvec = self._embeddings.embed_query(question)
        svecs = self._embeddings.embed_documents([s.span.text for s in candidates])
        scored = [
            _Sentence(
                s.passage,
                s.span,
                s.context,
                weight * (0.35 * bm25.coverage(question, s.span.text) + 0.65 * bm25.coverage(question, s.context))
                + (1 - weight) * _dense_scaled(_cosine(qvec, v))
                + 0.02 * (ANSWER_PASSAGES - s.passage),
            )
            for s, v in zip(candidates, svecs)
        ]
        scored.sort(key=lambda s: s.score, reverse=True)
        kind = question_type(question)
        eligible = [s for s in scored if self._pick(kind, question, s.span.text)] or scored
        best = eligible[0]
        refusal.score = best.score
        if best.score < self.min_evidence or not self._figures_present(question, best, passages):
            return refusal
        short = self._short_answer(kind, question, best, weight, qvec)
        evidence = [Evidence(best.passage, best.span.start, best.span.end, best.span.text)]
        runner_up = next((s for s in scored if s.span != best.span), None)
        if runner_up and runner_up.score >= SECOND_SENTENCE_RATIO * best.score and kind in ("which", "other"):
            evidence.append(Evidence(runner_up.passage, runner_up.span.start, runner_up.span.end, runner_up.span.text))
        return Draft(short, evidence, refused=False, score=best.score)

    # --- steps -------------------------------------------------------------------
    @staticmethod
    def _sentences(passages: list[Passage]) -> list[_Sentence]:
        seen: set[tuple[int, int]] = set()
        out: list[_Sentence] = []
        for i, passage in enumerate(passages[:ANSWER_PASSAGES]):
            spans = sentences(passage.text, offset=passage.start)
            for j, span in enumerate(spans):
                if (span.start, span.end) in seen:
                    continue
                seen.add((span.start, span.end))
                context = " ".join(s.text for s in spans[max(0, j - CONTEXT_SENTENCES) : j + 1])
                out.append(_Sentence(i, span, context))
        return out

    @staticmethod
    def _pick(kind: str, question: str, sentence: str) -> list[Candidate]:
        if kind == "count":
            return figure_candidates(sentence)
        if kind == "date":
            return date_candidates(sentence) or year_candidates(sentence)
        if kind == "year":
            return year_candidates(sentence)
        if kind == "person":
            return name_candidates(sentence)
        return clauses(sentence)

    @staticmethod
    def _figures_present(question: str, best: _Sentence, passages: list[Passage]) -> bool:
        """A figure the question names (a year, a count) must appear in the evidence."""
        wanted = set(figures(question))
        if not wanted:
            return True
        passage = passages[best.passage]
        have = set(figures(passage.text + " " + passage.title))
        return wanted <= have

    def _short_answer(self, kind: str, question: str, best: _Sentence, weight: float, qvec: list[float]) -> str:
        """The figure, date, name or clause of the best sentence that answers the question."""
        options = self._pick(kind, question, best.span.text)
        whole = best.span.text.rstrip("۔.")
        if not options or (kind in ("which", "other") and len(options) == 1):
            return whole
        if len(options) == 1:
            return options[0].text
        if kind in ("which", "other"):
            lexical = [self._bm25().coverage(question, c.text) for c in options]
        else:
            lexical = _proximity(question, best.span.text, options, self._bm25().idf, figures=kind != "person")
        dense = [0.0] * len(options)
        if weight < 1.0:
            windows = [c.text if kind in ("which", "other") else _window(best.span.text, c) for c in options]
            dense = [_dense_scaled(_cosine(qvec, v)) for v in self._embeddings.embed_documents(windows)]
        top = max(lexical) or 1.0
        percent = kind == "count" and wants_percentage(question)
        counted = counted_words(question) if kind == "count" else []
        scores = [
            weight * (n / top + 0.5 * _follows(best.span.text, c, counted))
            + (1 - weight) * d
            + (0.5 if percent and "%" in normalize(c.text) else 0.0)
            for c, n, d in zip(options, lexical, dense)
        ]
        ranked = sorted(range(len(options)), key=scores.__getitem__, reverse=True)
        if len(counted) >= 2:  # "how many X and how many Y": one figure per part, in text order
            parts = sorted(ranked[: len(counted)], key=lambda i: options[i].start)
            return "، ".join(options[i].text for i in parts)
        chosen = options[ranked[0]].text
        return whole if kind in ("which", "other") and len(chosen) < 12 else chosen


def _follows(sentence: str, option: Candidate, counted: list[str]) -> float:
    """1.0 when the words right after the figure are what the question counts."""
    after = set(tokens(" ".join(sentence[option.end :].split()[:3])))
    return 1.0 if any(set(tokens(words)) & after for words in counted) else 0.0


def _words(text: str) -> list[tuple[int, int, set[str]]]:
    return [(m.start(), m.end(), set(tokens(m.group()))) for m in re.finditer(r"\S+", text)]


def _proximity(
    question: str, sentence: str, options: list[Candidate], idf: Callable[[str], float], figures: bool = True
) -> list[float]:
    """How strongly the question's words describe each option: for every distinct
    question word, its rarity times a closeness weight. Urdu puts a figure's noun and
    modifiers after it ("2،334 لوگ کمیون کی سطح پر"), so words after the option and
    within its clause decay slowly (for figures); all other words decay with distance."""
    wanted = set(content_tokens(question))
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
            closeness = 1 / (1 + distance / 3) if figures and end < i <= clause_end else 1 / (1 + distance)
            for tok in toks & wanted:
                best[tok] = max(best.get(tok, 0.0), closeness)
        out.append(sum(idf(tok) * w for tok, w in best.items()))
    return out


def _window(sentence: str, option: Candidate, words: int = 6) -> str:
    before = sentence[: option.start].split()[-words:]
    after = sentence[option.end :].split()[:words]
    return " ".join([*before, option.text, *after])
