"""Hybrid retrieval as a LangChain retriever: BM25 over normalised tokens plus dense
e5 vectors in Chroma, fused.

Why not plain reciprocal-rank fusion: BM25 is near-perfect when the question shares
the reports' words (Urdu) and nearly blind when it does not (English), while dense
search is the other way round. RRF gives both lists equal say whatever the query, so a
blind list drags good results down. The `hybrid` fusion instead weighs each list by how
much it can see, from the query's *lexical coverage*: the IDF-weighted share of its
content words that occur in the corpus at all (1.0 for an Urdu question in the reports'
vocabulary, in between for a paraphrase, near 0 for an English one, which reaches the
Urdu reports through the dense side). The BM25 weight is
0.5 x coverage squared: equal say at full coverage, fading fast as coverage drops.
Scores are normalised per query (BM25 by its maximum, cosine min-max over the
candidates) before they are combined."""

from dataclasses import dataclass

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .chunking import Chunk
from .index import SearchIndex

RRF_K = 60
SENTENCE_HITS_PER_CANDIDATE = 2  # nearest sentences searched per chunk candidate
LEXICAL_CAP = 0.5  # weight of BM25 when every query word is in the corpus vocabulary


def lexical_weight(coverage: float) -> float:
    """Weight of the lexical list for a query with this lexical coverage. Quadratic, so
    the few numbers or names an English question shares with the Urdu reports do not
    let a near-blind BM25 list outvote the dense one (measured in bench/retrieval.py)."""
    return LEXICAL_CAP * coverage**2


@dataclass(frozen=True)
class Scored:
    chunk: Chunk
    score: float
    lexical: float
    dense: float


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    return {cid: r for r, cid in enumerate(sorted(scores, key=scores.__getitem__, reverse=True), start=1)}


def _top(scores: dict[str, float], n: int) -> dict[str, float]:
    return {cid: scores[cid] for cid in sorted(scores, key=scores.__getitem__, reverse=True)[:n]}


def fuse(lexical: dict[str, float], dense: dict[str, float], weight: float, method: str) -> dict[str, float]:
    """Combine per-chunk lexical (BM25) and dense (cosine) scores into one score."""
    ids = set(lexical) | set(dense)
    if method == "bm25":
        return {cid: lexical.get(cid, 0.0) for cid in ids}
    if method == "dense":
        return {cid: dense.get(cid, 0.0) for cid in ids}
    if method == "rrf":
        lr, dr = _ranks(lexical), _ranks(dense)
        return {cid: 1 / (RRF_K + lr.get(cid, 1000)) + 1 / (RRF_K + dr.get(cid, 1000)) for cid in ids}
    top_lex = max(lexical.values(), default=0.0) or 1.0
    low, high = min(dense.values(), default=0.0), max(dense.values(), default=1.0)
    spread = (high - low) or 1.0
    return {
        cid: weight * lexical.get(cid, 0.0) / top_lex + (1 - weight) * (dense.get(cid, low) - low) / spread
        for cid in ids
    }


class HybridRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: SearchIndex
    embeddings: Embeddings
    top_k: int = 5
    candidates: int = 20
    fusion: str = "hybrid"
    sentence_hits: bool = True  # dense score of a chunk includes its best sentence's (bench/retrieval.py)

    def search(self, query: str) -> list[Scored]:
        if not self.index.chunk_count:
            return []
        bm25 = self.index.bm25
        lexical = _top(bm25.scores(query), self.candidates)
        vector = self.embeddings.embed_query(query)
        dense = self.index.dense_search(vector, self.candidates)
        # a chunk is as close to the question as its closest sentence, when that is closer
        if self.sentence_hits:
            for cid, cos in self.index.sentence_search(vector, self.candidates * SENTENCE_HITS_PER_CANDIDATE).items():
                dense[cid] = max(dense.get(cid, -1.0), cos)
        missing = [cid for cid in lexical if cid not in dense]
        for cid, vec in self.index.vectors(missing).items():
            dense[cid] = float(sum(a * b for a, b in zip(vector, vec)))
        fused = fuse(lexical, dense, lexical_weight(bm25.coverage(query)), self.fusion)
        served = self.index.served  # reports whose write finished, as this process last read them
        ranked = [c for c in sorted(fused, key=fused.__getitem__, reverse=True) if c.rsplit("#", 1)[0] in served]
        # another process's ingest may have removed some from Chroma since: skipped, the next ones taken
        chunks = self.index.chunks.get_many(ranked[: self.top_k * 2])
        best = [c for c in ranked[: self.top_k * 2] if c in chunks and chunks[c].doc_id in served][: self.top_k]
        return [Scored(chunks[c], fused[c], lexical.get(c, 0.0), dense.get(c, 0.0)) for c in best]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun | None = None
    ) -> list[Document]:
        return [
            Document(
                page_content=s.chunk.text,
                id=s.chunk.chunk_id,
                metadata={
                    "chunk_id": s.chunk.chunk_id,
                    "doc_id": s.chunk.doc_id,
                    "title": s.chunk.title,
                    "file": s.chunk.file,
                    "source_url": s.chunk.source_url,
                    "start": s.chunk.start,
                    "end": s.chunk.end,
                    "locations": list(s.chunk.locations),
                    "left_out": list(s.chunk.left_out),
                    "score": s.score,
                    "lexical_score": s.lexical,
                    "dense_score": s.dense,
                },
            )
            for s in self.search(query)
        ]
