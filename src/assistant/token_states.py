"""Sentence token states for late interaction (ColBERT's MaxSim), kept beside the index.

Ingest computes the last-layer token states of every sentence the reader may read
(`TokenEncoder`, built from the bundled e5 weights) and keeps them here; at question
time only the question's tokens are encoded. A state set is keyed by the encoder's
weights and the sentence's text, so it never goes stale: a changed report's new
sentences get new keys, and a server that shares the catalog but not this folder (a
shared `chroma run`) computes what it lacks on first read and keeps it. One SQLite file
(stdlib, safe for several processes, each write one transaction); states are float16.

Where torch or transformers are not installed the store is not used and the reader
answers with its features without token matching (`available`), saying so once."""

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from .errors import BackendUnavailableError
from .token_encoder import TokenStates

log = logging.getLogger(__name__)
FILE = "token_states.sqlite"
TABLE = "states_v2"  # token vectors (float16) and their character spans (int32 pairs)
BATCH = 16  # sentences per encoder pass
MEMO = 4000  # sentences whose states a process keeps in memory (float16, about 40 kB each)


def word_states(text: str, states: TokenStates) -> np.ndarray:
    """The vectors of `text`'s tokens that hold a letter or a digit (a token of
    punctuation alone says nothing of what is asked); all of them when none does."""
    words = np.array([any(ch.isalnum() for ch in text[a:b]) for a, b in states.offsets], dtype=bool)
    return states.vectors[words] if words.any() else states.vectors


class TokenStateStore:
    """Token states of sentences, by encoder and text; computes what it lacks."""

    def __init__(self, folder: Path, encoder) -> None:
        self.path = Path(folder) / FILE
        self.encoder = encoder
        self._prefix = encoder.model_dir.name[:16]  # the weights' hash
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, tokens INTEGER, data BLOB, spans BLOB)")
        return db

    def key(self, text: str) -> str:
        return self._prefix + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    def states(self, texts: Sequence[str]) -> list[TokenStates]:
        """Each text's token states (tokens x 384, unit rows) with each token's (start,
        end) in the text: from the process's memory, this store's file, or computed
        (and kept in the file)."""
        keys = [self.key(t) for t in texts]
        with _MEMO_LOCK:
            found = {k: _MEMO[k] for k in keys if k in _MEMO}
        wanted = [k for k in dict.fromkeys(keys) if k not in found]
        if wanted:
            found.update(self._read(wanted))
            found.update(self._add({k: t for k, t in zip(keys, texts) if k not in found}))
        _remember(found)
        return [TokenStates(found[k][0].astype(np.float32), found[k][1]) for k in keys]

    def warm(self, texts: Sequence[str]) -> None:
        """Make sure this store's file holds the states of `texts` (ingest): what it
        lacks is taken from the process's memory or computed."""
        wanted = {self.key(t): t for t in texts}
        missing = {k: t for k, t in wanted.items() if k not in self._read(list(wanted))}
        with _MEMO_LOCK:
            known = {k: _MEMO[k] for k in missing if k in _MEMO}
        if known:
            self._keep(list(known), list(known.values()))
        _remember(self._add({k: t for k, t in missing.items() if k not in known}))

    def _add(self, texts: dict[str, str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Compute the states of `texts` (key -> text) and keep them in the file."""
        if not texts:
            return {}
        computed = [
            (s.vectors.astype(np.float16), np.asarray(s.offsets, dtype=np.int32).reshape(-1, 2))
            for s in self._compute(list(texts.values()))
        ]
        self._keep(list(texts), computed)
        return dict(zip(texts, computed))

    def _read(self, keys: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        with self._lock, closing(self._connect()) as db:
            for n in range(0, len(keys), 500):
                part = keys[n : n + 500]
                rows = db.execute(
                    f"SELECT key, tokens, data, spans FROM {TABLE} WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                for k, count, data, spans in rows:
                    out[k] = (np.frombuffer(data, dtype=np.float16).reshape(count, self.encoder.dim),
                              np.frombuffer(spans, dtype=np.int32).reshape(count, 2))  # fmt: skip
        return out

    def _compute(self, texts: list[str]) -> list[TokenStates]:
        out: list[TokenStates] = []
        for i in range(0, len(texts), BATCH):
            out.extend(self.encoder.encode(texts[i : i + BATCH], "passage"))
        return out

    def _keep(self, keys: list[str], states: list[tuple[np.ndarray, np.ndarray]]) -> None:
        rows = [(k, len(v), v.tobytes(), spans.tobytes()) for k, (v, spans) in zip(keys, states)]
        with self._lock, closing(self._connect()) as db, db:
            db.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?)", rows)


# States by key (weights and text: the same in every store), shared by the process's stores
_MEMO: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_MEMO_LOCK = threading.Lock()


def _remember(states: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    with _MEMO_LOCK:
        if len(_MEMO) + len(states) > MEMO:
            _MEMO.clear()
        _MEMO.update(states)


_encoder = None
_encoder_lock = threading.Lock()
_said = False


def shared_encoder():
    """The process's token encoder (built from the bundled weights on first use, cached
    on disk by their hash); None, said once in the log, where it cannot be built (and
    not tried again by this process)."""
    global _encoder, _said
    with _encoder_lock:
        if _encoder is None and not _said:
            try:
                from .token_encoder import TokenEncoder

                _encoder = TokenEncoder(engine_rounding=False)  # exact fp32: 18 ms a question, 80x the rounded
            except (BackendUnavailableError, ImportError, OSError) as exc:
                log.warning("token matching is off, the reader answers without it: %s", exc)
                _said = True
        return _encoder


def store_for(folder: Path) -> TokenStateStore | None:
    """The token-state store of an index folder, or None without an encoder."""
    encoder = shared_encoder()
    return None if encoder is None else TokenStateStore(folder, encoder)
