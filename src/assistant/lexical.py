"""BM25 over normalised tokens (English query words bridged to Urdu, see glossary.py).
Built once when the index is opened (and after each ingest), then queried many times:
nothing is rebuilt per query."""

import math
from collections import Counter

from .glossary import bridged
from .normalize import content_tokens, tokens


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


class BM25:
    def __init__(self, docs: dict[str, str], k1: float = 1.4, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._ids = list(docs)
        self._tf = [Counter(tokens(docs[i])) for i in self._ids]
        lengths = [sum(tf.values()) for tf in self._tf]
        self._len = lengths
        self._avg = (sum(lengths) / len(lengths)) if lengths else 1.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(self._ids)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

    def __len__(self) -> int:
        return len(self._ids)

    def idf(self, token: str) -> float:
        """Rarity of a token; a token the corpus never uses counts as the rarest."""
        return self._idf.get(token, self.max_idf)

    def known(self, token: str) -> bool:
        return token in self._idf

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score of every document that shares at least one token with the query."""
        terms = [t for t in set(query_terms(query)) if t in self._idf]
        out: dict[str, float] = {}
        for i, tf in enumerate(self._tf):
            norm = self.k1 * (1 - self.b + self.b * self._len[i] / self._avg)
            score = sum(self._idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf)
            if score > 0:
                out[self._ids[i]] = score
        return out

    def coverage(self, query: str, text: str | None = None) -> float:
        """IDF-weighted share of the query's content tokens that occur in `text`
        (or anywhere in the corpus when `text` is None). 1.0 = every word found."""
        groups = query_groups(query)
        if not groups:
            return 0.0
        present = set(tokens(text)) if text is not None else set(self._idf)
        weights = [min(self.idf(t) for t in group) for group in groups]
        total = sum(weights)
        return sum(w for w, group in zip(weights, groups) if any(t in present for t in group)) / total
