"""BM25 over normalised tokens (English query words bridged to Urdu, see glossary.py),
kept by the bm25s library: sparse matrices, saved beside the manifest, the score
matrices loaded memory-mapped, so opening an index does not re-read the corpus and a question scores
the whole corpus in vectorised code. Our tokeniser and normaliser do the tokenising;
the scoring is Lucene's BM25 (k1 = 1.4, b = 0.75) in its classic form (times k1 + 1),
the same scores as the hand-written loop it replaced.

Chroma's own sparse/BM25 index is not an option: single-node Chroma 1.5 refuses it
("Sparse vector indexing is not enabled in local")."""

import json
import logging
import math
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np

from .glossary import bridged
from .normalize import content_tokens, tokens

K1, B = 1.4, 0.75
IDS = "chunk_ids.json"
log = logging.getLogger(__name__)


def query_groups(query: str) -> list[list[str]]:
    """The query's content words, each as its group of alternatives: an English word
    with the Urdu words the glossary bridges it to, an Urdu word alone."""
    seen: set[str] = set()
    groups = []
    for t in content_tokens(query):
        if t not in seen:
            seen.add(t)
            groups.append(bridged(t) if t.isascii() else [t])
    return groups


def query_terms(query: str) -> list[str]:
    return [t for group in query_groups(query) for t in group]


class LexicalIndex:
    """BM25 over the chunks of one index generation. Build with `build`, persist with
    `save`, reopen with `load`."""

    def __init__(self, model: bm25s.BM25, ids: list[str], fingerprint: str) -> None:
        self._model = model
        self._ids = ids
        self.fingerprint = fingerprint  # what the chunks were when it was built (see index.py)
        self._vocab: dict[str, int] = model.vocab_dict
        indptr = np.asarray(model.scores["indptr"])
        self._df = np.diff(indptr)  # documents each token occurs in
        self._reports: dict[str, frozenset[str]] = {}  # token -> reports using it (see reports_with)
        n = len(ids)
        self.max_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, list[str]]], fingerprint: str) -> "LexicalIndex":
        """From (chunk id, tokens) pairs: the normalised tokens of each chunk's searchable
        text, stored with the chunk in Chroma at ingest (`chroma.chunk_metadata`)."""
        ids, corpus = [], []
        for cid, chunk_tokens in chunks:
            ids.append(cid)
            corpus.append(chunk_tokens or [""])
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        if corpus:
            model.index(corpus, show_progress=False)  # the caller's bar shows reading the tokens
        else:
            model.index([[""]], show_progress=False)  # bm25s needs one document; it is never returned
        return cls(model, ids, fingerprint)

    def save(self, folder: Path) -> None:
        """Written to a temporary folder, then renamed into place: a reader never sees half an index."""
        tmp = folder.with_name(f"{folder.name}.tmp-{uuid.uuid4().hex[:8]}")  # two writers never share one
        self._model.save(str(tmp), show_progress=False)
        (tmp / IDS).write_text(json.dumps({"ids": self._ids, "fingerprint": self.fingerprint}), encoding="utf-8")
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
            model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if folder.exists():
                log.warning("lexical index at %s unreadable (%s); it will be rebuilt", folder, exc)
            return None
        return cls(model, ids, fingerprint)

    def __len__(self) -> int:
        return len(self._ids)

    def reports_with(self, token: str) -> frozenset[str]:
        """The reports (doc ids) with a chunk that uses the token (cached: the index
        never changes once built)."""
        if token not in self._reports:
            at = self._vocab.get(token)
            found: frozenset[str] = frozenset()
            if at is not None and at < len(self._df):
                indptr, indices = self._model.scores["indptr"], self._model.scores["indices"]
                postings = indices[indptr[at] : indptr[at + 1]]
                found = frozenset(self._ids[i].rsplit("#", 1)[0] for i in postings if i < len(self._ids))
            self._reports[token] = found
        return self._reports[token]

    def idf(self, token: str) -> float:
        """Rarity of a token; a token the corpus never uses counts as the rarest."""
        at = self._vocab.get(token)
        if at is None or at >= len(self._df) or not self._df[at]:
            return self.max_idf
        n, f = len(self._ids), int(self._df[at])
        return math.log(1 + (n - f + 0.5) / (f + 0.5))

    def known(self, token: str) -> bool:
        at = self._vocab.get(token)
        return at is not None and at < len(self._df) and bool(self._df[at])

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score of every chunk that shares at least one token with the query."""
        terms = sorted({t for t in query_terms(query) if self.known(t)})
        if not terms or not self._ids:
            return {}
        values = self._model.get_scores(terms)
        hits = np.flatnonzero(values[: len(self._ids)] > 0)
        return {self._ids[i]: float(values[i]) * (K1 + 1) for i in hits}  # the classic form: tf * (k1 + 1) / ...

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
