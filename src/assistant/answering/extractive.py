"""The default answerer, no LLM: it reads the sentences of the top passages, picks the
one most likely to hold the answer and, for how-many / when / who / which questions,
the figure, date, name, place or department in it. Every answer is a verbatim span of
a retrieved passage, so it cannot invent. Sentences that address the reader (questions,
planted instructions: `planted.py`) are never read.

Data flows one way: question analysis (`question.py`) -> candidate sentences, their
vectors (embedded once at ingest) and candidate spans (`spans.py`) -> features
(`features.py`) -> fitted probabilities (`scorer.py`). The assistant refuses when the
best sentence's probability of holding the answer is below the fitted threshold."""

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from ..answers import REFUSALS, Passage
from ..chunking import evidence_units, sentence_id
from ..index import SearchIndex
from ..normalize import content_tokens, figures
from ..token_encoder import TokenStates
from ..token_states import TokenStateStore, word_states
from .base import Answerer, Draft, Evidence
from .features import (
    Row,
    SentenceCandidate,
    answer_features,
    sentence_features,
    span_features,
    span_token_features,
    token_features,
)
from .question import Question, analyze, question_parts
from .scorer import ReaderScorer
from .spans import Candidate, candidates

log = logging.getLogger(__name__)

READ_PASSAGES = 5  # passages whose sentences are read
CONTEXT_SENTENCES = 2  # sentences before a candidate that count as its context
SPAN_SENTENCES = 3  # best sentences whose spans compete for the short answer
SURE_SPAN = 0.5  # below this span probability a who/which/when answer is the whole sentence
RIVAL_SHARE = 0.25  # a statement at least a quarter as likely as the chosen one can contradict it...
SAME_WORDS = 0.6  # ...when it shares this much of its wording, figures aside (Jaccard of content tokens)
CONFLICT = {
    "ur": "رپورٹ میں اس کے دو مختلف اعداد دیے گئے ہیں: {} اور {}۔",
    "en": "The report gives two different figures for this: {} and {}.",
}


@dataclass
class Reading:
    """Everything the reader saw for one question, in the order it was scored."""

    question: Question
    sentences: list[SentenceCandidate]
    sentence_rows: list[Row]
    sentence_probs: list[float]
    spans: list[list[Candidate]]  # candidate spans per sentence
    question_tokens: np.ndarray | None = None  # with token matching: the question's token states
    sentence_tokens: list[TokenStates] | None = None  # ... and each sentence's, with their character spans


class ExtractiveAnswerer(Answerer):
    name = "extractive"

    def __init__(
        self,
        index: Callable[[], SearchIndex],
        embeddings: Embeddings,
        chunk_size: int,
        scorer: ReaderScorer | None = None,
        min_probability: float | None = None,
        tokens: TokenStateStore | None = None,
    ) -> None:
        self._index = index
        self._embeddings = embeddings
        self._chunk_size = chunk_size
        self._scorer = scorer
        self._min_probability = min_probability
        self.tokens = tokens  # token matching (late interaction); None: the reader's other features only
        self._lock = threading.Lock()

    @property
    def scorer(self) -> ReaderScorer:
        """The fitted scorer, loaded on first use."""
        with self._lock:
            if self._scorer is None:
                self._scorer = ReaderScorer.load(embedding=self._index().embedding, tokens=self.tokens is not None)
            return self._scorer

    @property
    def min_probability(self) -> float:
        return self.scorer.min_probability if self._min_probability is None else self._min_probability

    def answer(self, question: str, passages: list[Passage]) -> Draft:
        reading = self.read(question, passages)
        refusal = Draft(REFUSALS[reading.question.language], refused=True)
        if not reading.sentences:
            return refusal
        ranked = _ranked(reading)
        chosen, short, span_p = self._short_answer(reading, ranked[:SPAN_SENTENCES])
        answerable = self.answerable(reading, ranked[0], span_p)
        refusal.score = answerable
        if answerable < self.min_probability:
            return refusal
        if len(parts := question_parts(question)) > 1:
            return self._answer_parts(reading, parts, passages, answerable)
        sentence = reading.sentences[chosen]
        evidence = [Evidence(sentence.passage, sentence.span.start, sentence.span.end, sentence.span.text)]
        rival = self._contradiction(reading, ranked, chosen, short)
        if rival is not None:
            j, figure = rival
            other = reading.sentences[j]
            evidence.append(Evidence(other.passage, other.span.start, other.span.end, other.span.text))
            return Draft(CONFLICT[reading.question.language].format(short, figure), evidence, score=answerable)
        return Draft(short, evidence, refused=False, score=answerable)

    def _answer_parts(self, whole: Reading, parts: list[str], passages: list[Passage], answerable: float) -> Draft:
        """A question that asks several things: each part read on its own (its kind, what
        it counts, its words), its sentence weighed with the whole question's, and
        answered with its own span and citation, in the order asked. Parts answered in
        one sentence are answered by the stretch of it from the first to the last (still
        one verbatim quote); otherwise the parts' quotes are joined."""
        found: list[tuple[int, int, int]] = []  # (sentence, start, end) of each part's answer
        for part in parts:
            reading = self.read(part, passages)
            if not reading.sentences:
                continue
            reading.sentence_probs = [math.sqrt(p * w) for p, w in zip(reading.sentence_probs, whole.sentence_probs)]
            chosen, short, _ = self._short_answer(reading, _ranked(reading)[:SPAN_SENTENCES])
            start = max(0, reading.sentences[chosen].span.text.find(short))
            if (chosen, start, start + len(short)) not in found:
                found.append((chosen, start, start + len(short)))
        sentences = list(dict.fromkeys(i for i, _, _ in found))
        if len(sentences) == 1:
            found = [(sentences[0], min(a for _, a, _ in found), max(b for _, _, b in found))]
        joiner = "؛ " if whole.question.language == "ur" else "; "
        answer = joiner.join(whole.sentences[i].span.text[a:b] for i, a, b in found)
        evidence = []
        for i in sentences:
            s = whole.sentences[i]
            evidence.append(Evidence(s.passage, s.span.start, s.span.end, s.span.text))
        return Draft(answer, evidence, refused=False, score=answerable)

    def _contradiction(self, reading: Reading, ranked: list[int], chosen: int, short: str) -> tuple[int, str] | None:
        """Another statement of the same report that says the same thing with another
        figure (`612 doctors` here, `9090 doctors` there) and the same other figures
        (a year, a date: `612 in 2023` and `700 in 2024` are no conflict): (its
        sentence, its figure). The answer then names both rather than pick one."""
        q = reading.question
        mine = reading.sentences[chosen]
        figure = figures(short)
        if q.kind != "count" or q.parts != 1 or len(figure) != 1:
            return None
        words = _wording(mine.span.text)
        for j in ranked:
            other = reading.sentences[j]
            if j == chosen or other.doc_id != mine.doc_id:
                continue
            if reading.sentence_probs[j] < RIVAL_SHARE * reading.sentence_probs[chosen]:
                break
            theirs = _wording(other.span.text)
            if len(words & theirs) < SAME_WORDS * len(words | theirs):
                continue
            probs = self.span_probabilities(reading, j)
            spans = [(p, c) for p, c in zip(probs, reading.spans[j]) if c.type == "figure"]
            if spans:
                p, best = max(spans, key=lambda pc: pc[0])
                theirs_figure = figures(best.text)
                same_setting = set(figures(mine.span.text)) - set(figure) == set(figures(other.span.text)) - set(
                    theirs_figure
                )
                if p >= SURE_SPAN and theirs_figure and theirs_figure != figure and same_setting:
                    return j, best.text
        return None

    def answerable(self, reading: Reading, best: int, span_p: float | None) -> float:
        row = answer_features(
            reading.question, reading.sentences[best], reading.sentence_rows, reading.sentence_probs, best, span_p
        )
        return self.scorer.answerable.probability(row)

    def read(self, question: str, passages: list[Passage]) -> Reading:
        q = analyze(question)
        sentences = self._sentences(passages)
        spans = [candidates(q.kind, s.span.text) for s in sentences]
        if not sentences:
            return Reading(q, [], [], [], [])
        index = self._index()
        qvec = self._embeddings.embed_query(question)
        svecs = self._sentence_vectors(index, sentences)
        rows = sentence_features(q, sentences, qvec, svecs, [p.score for p in passages], index.bm25, spans)
        reading = Reading(q, sentences, rows, [], spans)
        if self.tokens is not None:
            for row, extra in zip(rows, self._token_rows(reading, passages, self.tokens)):
                row.update(extra)
        reading.sentence_probs = [self.scorer.sentence.probability(r) for r in rows]
        return reading

    def _token_rows(self, reading: Reading, passages: list[Passage], tokens: TokenStateStore) -> list[Row]:
        """Late-interaction features: the question's token states (encoded now) against
        the stored ones of each sentence, its context and its passage with the title.
        Keeps the question's and the sentences' states on `reading` for the spans."""
        question, sentences = reading.question.text, reading.sentences
        qv = word_states(question, tokens.encoder.encode([question], "query")[0])
        texts = [s.span.text for s in sentences] + [p.title for p in passages[:READ_PASSAGES]]
        found = dict(zip(texts, tokens.states(texts)))
        states = {text: found[text].vectors for text in texts}
        by_passage: dict[int, list[np.ndarray]] = {}
        for s in sentences:
            by_passage.setdefault(s.passage, []).append(states[s.span.text])
        whole = {i: np.vstack([states[passages[i].title], *parts]) for i, parts in by_passage.items()}
        contexts = []
        for k, s in enumerate(sentences):
            before = [t for t in sentences[max(0, k - CONTEXT_SENTENCES) : k] if t.passage == s.passage]
            contexts.append(np.vstack([states[t.span.text] for t in [*before, s]]))
        reading.question_tokens = qv
        reading.sentence_tokens = [found[s.span.text] for s in sentences]
        return token_features(qv, [states[s.span.text] for s in sentences], contexts,
                              [whole[s.passage] for s in sentences])  # fmt: skip

    def span_rows(self, reading: Reading, i: int) -> list[Row]:
        """The features of each candidate span of sentence `i`."""
        text = reading.sentences[i].span.text
        rows = span_features(reading.question, text, reading.spans[i], self._index().bm25.idf)
        if reading.question_tokens is not None and reading.sentence_tokens is not None:
            extra = span_token_features(reading.question_tokens, reading.sentence_tokens[i], reading.spans[i], text)
            for row, more in zip(rows, extra):
                row.update(more)
        return rows

    def span_probabilities(self, reading: Reading, i: int) -> list[float]:
        return [self.scorer.span.probability(r) for r in self.span_rows(reading, i)]

    # --- steps -------------------------------------------------------------------
    def _sentences(self, passages: list[Passage]) -> list[SentenceCandidate]:
        seen: set[str] = set()
        out: list[SentenceCandidate] = []
        size = self._index().chunk_size or self._chunk_size
        for i, passage in enumerate(passages[:READ_PASSAGES]):
            units = evidence_units(passage.text, size, offset=passage.start, left_out=passage.left_out)
            whole = f"{passage.title} {passage.text}"
            for j, span in enumerate(units):
                sid = sentence_id(passage.doc_id, span.start)
                if sid in seen:
                    continue
                seen.add(sid)
                context = " ".join(s.text for s in units[max(0, j - CONTEXT_SENTENCES) : j + 1])
                out.append(SentenceCandidate(i, span, context, whole, sid, passage.doc_id))
        return out

    def _sentence_vectors(self, index: SearchIndex, sentences: list[SentenceCandidate]) -> list[list[float]]:
        """Vectors stored at ingest; any sentence the index lacks is embedded now."""
        stored = index.sentence_vectors([s.sentence_id for s in sentences])
        missing = [s for s in sentences if s.sentence_id not in stored]
        if missing:
            log.warning("%d sentences missing from the index were embedded at question time", len(missing))
            stored.update(zip([s.sentence_id for s in missing], self._embeddings.embed_documents(
                [s.span.text for s in missing])))  # fmt: skip
        return [stored[s.sentence_id] for s in sentences]

    def _short_answer(self, reading: Reading, best: list[int]) -> tuple[int, str, float | None]:
        """The sentence and the span in it that most likely answer the question: the
        product of the sentence's and the span's probabilities. Without a span of the
        wanted kind, or (except for counts) without one the scorer is sure of, the best
        sentence itself is the answer: a sentence that holds the answer beats a wrong name."""
        q = reading.question
        options: list[tuple[float, int, list[int], float]] = []
        for i in best:
            spans = reading.spans[i]
            if not spans:
                continue
            probs = self.span_probabilities(reading, i)
            order = sorted(range(len(spans)), key=probs.__getitem__, reverse=True)[: q.parts]
            span_p = sum(probs[k] for k in order) / len(order)
            options.append((reading.sentence_probs[i] * span_p, i, order, span_p))
        top = best[0]
        if not options:
            return top, reading.sentences[top].span.text.rstrip("۔."), None
        _, i, order, span_p = max(options)
        if q.kind == "other" or (q.compound and q.parts == 1) or (span_p < SURE_SPAN and q.kind != "count"):
            return i, reading.sentences[i].span.text.rstrip("۔."), span_p
        spans = reading.spans[i]
        if len(order) > 1:  # "how many X and how many Y": the stretch of the sentence from the first part to the last
            first, last = min(spans[k].start for k in order), max(spans[k].end for k in order)
            return i, reading.sentences[i].span.text[first:last], span_p
        return i, spans[order[0]].text, span_p


def _ranked(reading: Reading) -> list[int]:
    """The sentences, most likely to hold the answer first."""
    return sorted(range(len(reading.sentences)), key=reading.sentence_probs.__getitem__, reverse=True)


def _wording(text: str) -> set[str]:
    """A statement's content words without its figures."""
    return {t for t in content_tokens(text) if not t[0].isdigit()}
