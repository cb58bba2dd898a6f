"""BM25 over normalised tokens (an English question word matches only Latin text in a
report: English reaches the Urdu reports through the encoder, not a word list),
kept by the bm25s library: sparse matrices, saved beside the manifest, the score
matrices loaded memory-mapped, so opening an index does not re-read the corpus and a question scores
the whole corpus in vectorised code. Our tokeniser and normaliser do the tokenising;
the scoring is Lucene's BM25, idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)), with
b = 0.75 and k1 = 1.4, inside the range 1.2-2.0 that Robertson and Zaragoza give as
usual ("The Probabilistic Relevance Framework: BM25 and Beyond", 2009, section 3.4).
It was not tuned: on the dev questions k1 = 1.2, 1.4 and 2.0 give the same answers
and hits (MRR .799, .799, .798). The fusion (`retrieval.py`) divides by the best
score or uses ranks, so no constant factor in front of the score matters.

A changed report costs that report, not the corpus (`updated`): its old chunks leave
the score matrix and its new ones are appended, scored with the corpus statistics of
the last full build; once a fifth of the chunks changed that way, the next update is
a full rebuild (`lexical_upkeep.py`).

Chroma's own sparse/BM25 index is not an option: single-node Chroma 1.5 refuses it
("Sparse vector indexing is not enabled in local").

bm25s has no incremental API (`BM25.index` scores a whole corpus), so `updated` writes
the model's state itself: the score matrix in CSC form (`scores`: data, indices,
indptr, num_docs, one column per vocabulary token), `vocab_dict`,
`unique_token_ids_set` and `nonoccurrence_array`, the fields `BM25.get_scores`, `save`
and `load` read in bm25s 0.3 (the dependency is pinned below 0.4 for that reason).
`test_ingest.py` checks that an updated index scores what a full build scores."""

import json
import logging
import math
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np

from .normalize import content_tokens, tokens
from .place_names import urdu_skeleton

K1, B = 1.4, 0.75
IDS = "chunk_ids.json"
STALE_SHARE = 0.2  # share of chunks updates may change after a full build before the next one
log = logging.getLogger(__name__)


def query_groups(query: str) -> list[list[str]]:
    """The query's content words, each as its group of alternatives (one word each: the
    groups are kept for callers that count a word matched by any of its forms)."""
    seen: set[str] = set()
    groups = []
    for t in content_tokens(query):
        if t not in seen:
            seen.add(t)
            groups.append([t])
    return groups


def query_terms(query: str) -> list[str]:
    return [t for group in query_groups(query) for t in group]


def searchable_tokens(searchable: str) -> list[str]:
    """The tokens BM25 counts in a chunk: the normalised tokens of its searchable text
    (`chunking.searchable_text`). Made once, at ingest: stored with the chunk in Chroma
    and handed to the lexical index (`lexical_upkeep.py`)."""
    return tokens(searchable)


def _idf(n: int, df: int) -> float:
    """Lucene's BM25 IDF, as bm25s computes it, of a token in `df` of `n` chunks."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class LexicalIndex:
    """BM25 over the chunks of one index generation. Build with `build`, persist with
    `save`, reopen with `load`."""

    def __init__(
        self,
        model: bm25s.BM25,
        ids: list[str | None],
        fingerprint: str,
        report_keys: dict[str, str] | None = None,
        stats: dict | None = None,
    ) -> None:
        self._model = model
        self._ids = ids  # a chunk's slot in the score matrix; None for a slot an update emptied
        self.fingerprint = fingerprint  # the reports' fingerprint when it was built (`lexical_upkeep.py`)
        self.report_keys = report_keys or {}  # each report's content key when its chunks were read
        self.stats = stats or {"avgdl": 1.0, "stale": 0}  # of the last full build; chunks changed since
        self._vocab: dict[str, int] = model.vocab_dict
        indptr = np.asarray(model.scores["indptr"])
        self._df = np.diff(indptr)  # documents each token occurs in
        self._live = sum(cid is not None for cid in ids)
        n = self._live
        self.max_idf = _idf(n, 0) if n else 1.0
        self._reports: dict[str, frozenset[str]] = {}  # token -> reports using it (see reports_with)
        self._skeletons: dict[str, list[str]] | None = None  # consonant skeleton -> Urdu tokens (reports_naming)

    @classmethod
    def build(
        cls, chunks: Iterable[tuple[str, list[str]]], fingerprint: str, report_keys: dict[str, str] | None = None
    ) -> "LexicalIndex":
        """From (chunk id, tokens) pairs: each chunk's `searchable_tokens`."""
        ids: list[str | None] = []
        corpus = []
        for cid, chunk_tokens in chunks:
            ids.append(cid)
            corpus.append(chunk_tokens or [""])
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        if corpus:
            model.index(corpus, show_progress=False)  # the caller's bar shows reading the tokens
        else:
            model.index([[""]], show_progress=False)  # bm25s needs one document; it is never returned
        avgdl = sum(map(len, corpus)) / len(corpus) if corpus else 1.0
        return cls(model, ids, fingerprint, report_keys, {"avgdl": avgdl, "stale": 0})

    def updated(
        self, gone: set[str], added: list[tuple[str, list[str]]], fingerprint: str, report_keys: dict[str, str]
    ) -> "LexicalIndex":
        """A new index: this one without the chunks of the reports in `gone`, with the
        `added` chunks appended. Kept scores stay as they are; added ones use the current
        document frequencies and the average length of the last full build (Lucene's
        BM25, as bm25s computes it), so the caller keeps the change small (`STALE_SHARE`).
        Costs the change, not the corpus."""
        scores = self._model.scores
        data, indices, indptr = (np.asarray(scores[k]) for k in ("data", "indices", "indptr"))
        ids = list(self._ids)
        emptied = [i for i, cid in enumerate(ids) if cid is not None and cid.rsplit("#", 1)[0] in gone]
        for i in emptied:
            ids[i] = None
        columns = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        keep = ~np.isin(indices, np.asarray(emptied, dtype=indices.dtype))
        columns, indices, data = columns[keep], indices[keep], data[keep]

        vocab = dict(self._vocab)
        counts = [Counter(chunk_tokens or [""]) for _, chunk_tokens in added]
        for token in {t for c in counts for t in c}:
            vocab.setdefault(token, len(vocab))
        df = np.bincount(columns, minlength=len(vocab))
        for c in counts:
            df[[vocab[t] for t in c]] += 1
        n = sum(cid is not None for cid in ids) + len(added)
        new_columns, new_docs, new_data = [], [], []
        for (cid, _), c in zip(added, counts):
            doc = len(ids)
            ids.append(cid)
            norm = K1 * ((1 - B) + B * sum(c.values()) / self.stats["avgdl"])
            for token, tf in c.items():
                f = int(df[vocab[token]])
                new_columns.append(vocab[token])
                new_docs.append(doc)
                new_data.append(_idf(n, f) * tf / (norm + tf))

        columns = np.concatenate([columns, np.asarray(new_columns, dtype=columns.dtype)])
        indices = np.concatenate([indices, np.asarray(new_docs, dtype=indices.dtype)])
        data = np.concatenate([data, np.asarray(new_data, dtype=data.dtype)])
        order = np.argsort(columns, kind="stable")  # kept entries are in (column, row) order, added rows come last
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        model.scores = {
            "data": data[order],
            "indices": indices[order],
            "indptr": np.concatenate([[0], np.cumsum(np.bincount(columns, minlength=len(vocab)))]).astype(indptr.dtype),
            "num_docs": len(ids),
        }
        model.vocab_dict = vocab
        model.unique_token_ids_set = set(vocab.values())
        model.nonoccurrence_array = None  # Lucene's BM25 scores nothing for an absent word
        stats = {**self.stats, "stale": self.stats["stale"] + max(len(emptied), len(added))}
        return LexicalIndex(model, ids, fingerprint, report_keys, stats)

    def chunks_by_report(self) -> dict[str, int]:
        """How many chunks of each report the index holds."""
        return Counter(cid.rsplit("#", 1)[0] for cid in self._ids if cid is not None)

    def save(self, folder: Path) -> None:
        """Written to a temporary folder, then renamed into place: a reader never sees half an index."""
        tmp = folder.with_name(f"{folder.name}.tmp-{uuid.uuid4().hex[:8]}")  # two writers never share one
        self._model.save(str(tmp), show_progress=False)
        saved = {"ids": self._ids, "fingerprint": self.fingerprint, "reports": self.report_keys, "stats": self.stats}
        (tmp / IDS).write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        old = folder.with_name(f"{folder.name}.old-{uuid.uuid4().hex[:8]}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex | None":
        """The saved index, memory-mapped; None when there is none or it cannot be read."""
        try:
            saved = json.loads((folder / IDS).read_text(encoding="utf-8"))
            ids, fingerprint = list(saved["ids"]), str(saved["fingerprint"])
            report_keys, stats = dict(saved.get("reports") or {}), saved.get("stats")
            model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if folder.exists():
                log.warning("lexical index at %s unreadable (%s); it will be rebuilt", folder, exc)
            return None
        return cls(model, ids, fingerprint, report_keys, stats)

    def __len__(self) -> int:
        """Chunks in the index."""
        return self._live

    def reports_with(self, token: str) -> frozenset[str]:
        """The reports (doc ids) with a chunk that uses the token (cached: the index
        never changes once built)."""
        if token not in self._reports:
            at = self._vocab.get(token)
            found: frozenset[str] = frozenset()
            if at is not None and at < len(self._df):
                indptr, indices = self._model.scores["indptr"], self._model.scores["indices"]
                postings = indices[indptr[at] : indptr[at + 1]]
                found = frozenset(
                    cid.rsplit("#", 1)[0] for i in postings if i < len(self._ids) and (cid := self._ids[i]) is not None
                )
            self._reports[token] = found
        return self._reports[token]

    def _chunks_with(self, token: str) -> set[str]:
        at = self._vocab.get(token)
        if at is None or at >= len(self._df):
            return set()
        indptr, indices = self._model.scores["indptr"], self._model.scores["indices"]
        return {cid for i in indices[indptr[at] : indptr[at + 1]] if i < len(self._ids) and (cid := self._ids[i])}

    def reports_naming(self, skeletons: tuple[str, ...]) -> frozenset[str]:
        """The reports with a chunk that has, for each consonant skeleton of a Latin
        place name (`place_names.py`), an Urdu word with that skeleton."""
        if self._skeletons is None:
            self._skeletons = {}
            for token in self._vocab:
                if not token.isascii():
                    self._skeletons.setdefault(urdu_skeleton(token), []).append(token)
        chunks: set[str] | None = None
        for skeleton in skeletons:
            having = set().union(*(self._chunks_with(t) for t in self._skeletons.get(skeleton, [])))
            chunks = having if chunks is None else chunks & having
        return frozenset(cid.rsplit("#", 1)[0] for cid in chunks or ())

    def idf(self, token: str) -> float:
        """Rarity of a token; a token the corpus never uses counts as the rarest."""
        at = self._vocab.get(token)
        if at is None or at >= len(self._df) or not self._df[at]:
            return self.max_idf
        return _idf(self._live, int(self._df[at]))

    def known(self, token: str) -> bool:
        at = self._vocab.get(token)
        return at is not None and at < len(self._df) and bool(self._df[at])

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score of every chunk that shares at least one token with the query."""
        terms = sorted({t for t in query_terms(query) if self.known(t)})
        if not terms or not self._live:
            return {}
        values = self._model.get_scores(terms)
        hits = np.flatnonzero(values[: len(self._ids)] > 0)
        # an emptied slot (a removed chunk) has no postings, so never scores
        return {cid: float(values[i]) for i in hits if (cid := self._ids[i]) is not None}

    def coverage(self, query: str, text: str | None = None) -> float:
        """IDF-weighted share of the query's content tokens that occur in `text`
        (or anywhere in the corpus when `text` is None). 1.0 = every word found."""
        groups = query_groups(query)
        if not groups:
            return 0.0
        present = set(tokens(text)) if text is not None else None
        weights = [min(self.idf(t) for t in group) for group in groups]
        total = sum(weights)

        def found(group: list[str]) -> bool:
            return any((t in present) if present is not None else self.known(t) for t in group)

        return sum(w for w, group in zip(weights, groups) if found(group)) / total
