"""BM25 scores and their fusion with dense scores, checked against the formulas by hand
(no index, no encoder: these are the arithmetic the retriever rests on)."""

import math

import pytest

from assistant.lexical import K1, B, LexicalIndex
from assistant.normalize import tokens
from assistant.retrieval import LEXICAL_CAP, RRF_K, fuse, lexical_weight

CHUNKS = [  # as ingest stores them: the chunk's normalised tokens (`کیڈرز` -> `کیڈر`)
    ("a.txt#0", tokens("کیڈرز کیڈرز صوبہ")),
    ("a.txt#1", tokens("کمیون سطح صوبہ کام لوگ")),
    ("b.txt#0", tokens("دستاویزات دفتر")),
]


def _lucene(token: str, chunk: list[str]) -> float:
    """Lucene's BM25 for one query token, written out from its definition."""
    n, df = len(CHUNKS), sum(token in c for _, c in CHUNKS)
    avgdl = sum(len(c) for _, c in CHUNKS) / n
    tf = chunk.count(token)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + K1 * (1 - B + B * len(chunk) / avgdl))


def test_bm25_scores_are_lucenes_formula_summed_over_the_query_words():
    index = LexicalIndex.build(CHUNKS, "fingerprint")
    got = index.scores("صوبہ کیڈرز")
    words = tokens("صوبہ کیڈرز")
    want = {cid: sum(_lucene(w, c) for w in words) for cid, c in CHUNKS if set(words) & set(c)}
    assert set(got) == set(want) == {"a.txt#0", "a.txt#1"}  # a chunk sharing no word is not scored
    assert all(got[cid] == pytest.approx(want[cid], rel=1e-5) for cid in want)
    assert index.scores("ہسپتال") == {}  # no word of the query is in the reports


def test_an_updated_index_drops_a_removed_reports_chunks_and_scores_the_added_ones():
    index = LexicalIndex.build(CHUNKS, "fingerprint")
    updated = index.updated({"b.txt"}, [("c.txt#0", tokens("دفتر کیڈرز"))], "fingerprint 2", {})
    assert "b.txt#0" not in updated.scores("دستاویزات دفتر") and "c.txt#0" in updated.scores("دفتر")
    assert updated.chunks_by_report() == {"a.txt": 2, "c.txt": 1}


def test_hybrid_fusion_normalises_each_list_and_weighs_them():
    lexical = {"x": 8.0, "y": 2.0}
    dense = {"y": 0.9, "z": 0.5, "x": 0.7}
    fused = fuse(lexical, dense, 0.25, "hybrid")
    # BM25 over its best (x: 1, y: .25); cosine min-max over the candidates (y: 1, x: .5, z: 0)
    assert fused == pytest.approx({"x": 0.25 * 1 + 0.75 * 0.5, "y": 0.25 * 0.25 + 0.75 * 1, "z": 0.0})
    only_dense = fuse({}, dense, 0.0, "hybrid")
    assert max(only_dense, key=only_dense.get) == "y" and only_dense["z"] == 0.0


def test_rank_fusion_and_the_single_list_methods():
    lexical, dense = {"x": 8.0, "y": 2.0}, {"y": 0.9, "z": 0.5}
    rrf = fuse(lexical, dense, 0.5, "rrf")
    assert rrf["y"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert rrf["x"] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 1000))  # missing from a list: ranked last
    assert fuse(lexical, dense, 0.5, "bm25") == {"x": 8.0, "y": 2.0, "z": 0.0}
    assert fuse(lexical, dense, 0.5, "dense") == {"x": 0.0, "y": 0.9, "z": 0.5}


def test_the_bm25_weight_falls_with_the_square_of_the_lexical_coverage():
    assert lexical_weight(1.0) == LEXICAL_CAP and lexical_weight(0.0) == 0.0
    assert lexical_weight(0.5) == pytest.approx(LEXICAL_CAP / 4)
