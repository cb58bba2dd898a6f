"""The search index: vectors in Chroma (embedded in `index/chroma`, or a `chroma run`
server), and beside it `manifest.json` holding what was indexed (document hashes,
the embedding that built it, chunk settings) and the chunk texts for BM25 and citations.

Two collections: `reports` holds a vector per chunk (what retrieval ranks) and
`reports_sentences` a vector per sentence, embedded once at ingest, so the reader
scores sentences against the question without embedding anything at question time.

The manifest is written atomically after each document, and names the document being
written while Chroma is touched, so an interrupted ingest is detected and repaired by
the next one instead of leaving a silently inconsistent index."""

import json
import os
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlparse

from .chunking import Chunk, Span, sentence_id
from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from .lexical import BM25

FORMAT = 2  # 2: sentence vectors beside chunk vectors
COLLECTION = "reports"
SENTENCES = "reports_sentences"
MANIFEST = "manifest.json"


def _chroma_client(index_dir: Path, chroma_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise IndexMissingError(f"chroma_url must look like http://host:port, got {chroma_url!r}")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 80),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise IndexMissingError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)


class SearchIndex:
    """One index: Chroma collection + manifest. Open with `open` (must exist) or
    `create_or_open` (for ingest)."""

    def __init__(self, index_dir: Path, manifest: dict, collection, sentences=None) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.collection = collection
        self.sentences = sentences
        self._reload_chunks()

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedding: str, chroma_url: str | None = None) -> "SearchIndex":
        manifest = _read_manifest(index_dir)
        if manifest is None:
            raise IndexMissingError(f"no index at {index_dir}; run `assistant ingest` first")
        index = cls(index_dir, manifest, None)
        index._check_embedding(embedding)
        if manifest.get("pending"):
            raise IndexCorruptError(
                f"the last ingest stopped while writing {manifest['pending']!r}; run `assistant ingest` to repair"
            )
        index.collection = _collection(index_dir, chroma_url, embedding, create=False)
        index.sentences = _collection(index_dir, chroma_url, embedding, create=False, name=SENTENCES)
        count = index.collection.count()
        if count != len(index.chunks):
            raise IndexCorruptError(
                f"index at {index_dir} is inconsistent: Chroma holds {count} vectors but the manifest "
                f"lists {len(index.chunks)} chunks; run `assistant ingest --rebuild`"
            )
        stored = index.sentences.count()
        if stored != index.sentence_count:
            raise IndexCorruptError(
                f"index at {index_dir} is inconsistent: Chroma holds {stored} sentence vectors "
                f"but the manifest lists {index.sentence_count} sentences; run `assistant ingest --rebuild`"
            )
        return index

    @classmethod
    def create_or_open(
        cls, index_dir: Path, embedding: str, dimension: int, chroma_url: str | None = None, rebuild: bool = False
    ) -> "SearchIndex":
        manifest = None if rebuild else _read_manifest(index_dir)
        if manifest is None:
            manifest = {
                "format": FORMAT,
                "embedding": embedding,
                "dimension": dimension,
                "chunking": None,
                "pending": None,
                "documents": {},
                "chunks": {},
            }
        index = cls(index_dir, manifest, None)
        index._check_embedding(embedding)
        index_dir.mkdir(parents=True, exist_ok=True)
        if rebuild:
            _drop_collection(index_dir, chroma_url)
        index.collection = _collection(index_dir, chroma_url, embedding, create=True)
        index.sentences = _collection(index_dir, chroma_url, embedding, create=True, name=SENTENCES)
        index.save()
        return index

    def _check_embedding(self, embedding: str) -> None:
        built_with = self.manifest.get("embedding")
        if built_with != embedding:
            raise IndexMismatchError(
                f"the index at {self.index_dir} was built with embedding {built_with!r} but the "
                f"assistant is set to {embedding!r}; re-ingest with `assistant ingest --rebuild` "
                f"or set ASSISTANT_EMBEDDING={built_with!r}"
            )

    # --- reading -----------------------------------------------------------------
    @property
    def bm25(self) -> BM25:
        if self._bm25 is None:
            self._bm25 = BM25({cid: c.text for cid, c in self.chunks.items()})
        return self._bm25

    def dense_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest chunks."""
        n = min(n, len(self.chunks))
        if n == 0:
            return {}
        result = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return {cid: 1.0 - d for cid, d in zip(result["ids"][0], result["distances"][0])}

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))

    @property
    def chunk_size(self) -> int | None:
        """The chunk size the index was built with (sentences are split below it)."""
        return (self.manifest.get("chunking") or {}).get("size")

    @property
    def sentence_count(self) -> int:
        """Sentences the manifest says the index holds."""
        return sum(d.get("sentences", 0) for d in self.manifest["documents"].values())

    def sentence_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest sentences, by chunk: the best sentence
        score of each chunk that has one among them."""
        n = min(n, self.sentence_count)
        if n == 0:
            return {}
        result = self.sentences.query(query_embeddings=[vector], n_results=n, include=["distances", "metadatas"])
        best: dict[str, float] = {}
        for meta, d in zip(result["metadatas"][0], result["distances"][0]):
            best[meta["chunk_id"]] = max(best.get(meta["chunk_id"], -1.0), 1.0 - d)
        return best

    def sentence_vectors(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self.sentences.get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))

    # --- writing -----------------------------------------------------------------
    def replace_document(
        self,
        doc: dict,
        chunks: list[Chunk],
        vectors: list[list[float]],
        sentences: list[Span],
        sentence_vectors: list[list[float]],
    ) -> None:
        doc_id = doc["doc_id"]
        self.manifest["pending"] = doc_id
        self.save()
        self.collection.delete(where={"doc_id": doc_id})
        self.sentences.delete(where={"doc_id": doc_id})
        if chunks:
            self.collection.add(
                ids=[c.chunk_id for c in chunks],
                embeddings=vectors,
                metadatas=[{"doc_id": c.doc_id, "start": c.start, "end": c.end} for c in chunks],
            )
        if sentences:
            self.sentences.add(
                ids=[sentence_id(doc_id, s.start) for s in sentences],
                embeddings=sentence_vectors,
                metadatas=[
                    {"doc_id": doc_id, "start": s.start, "end": s.end, "chunk_id": _chunk_of(s, chunks)}
                    for s in sentences
                ],
            )
        self._forget_chunks(doc_id)
        self.manifest["chunks"].update({c.chunk_id: asdict(c) for c in chunks})
        self._reload_chunks()
        self.manifest["documents"][doc_id] = doc
        self.manifest["pending"] = None
        self.save()

    def remove_document(self, doc_id: str) -> None:
        self.manifest["pending"] = doc_id
        self.save()
        self.collection.delete(where={"doc_id": doc_id})
        self.sentences.delete(where={"doc_id": doc_id})
        self._forget_chunks(doc_id)
        self.manifest["documents"].pop(doc_id, None)
        self.manifest["pending"] = None
        self.save()

    def stray_doc_ids(self) -> set[str]:
        """Documents that have vectors in Chroma but no manifest entry (left by a crash)."""
        found: set[str] = set()
        for collection in (self.collection, self.sentences):
            found |= {m["doc_id"] for m in collection.get(include=["metadatas"])["metadatas"] or []}
        return found - set(self.manifest["documents"])

    def _forget_chunks(self, doc_id: str) -> None:
        stale = [cid for cid, c in self.manifest["chunks"].items() if c["doc_id"] == doc_id]
        for cid in stale:
            del self.manifest["chunks"][cid]
        self._reload_chunks()

    def _reload_chunks(self) -> None:
        self.chunks = {cid: Chunk(**c) for cid, c in self.manifest["chunks"].items()}
        self._bm25: BM25 | None = None

    def save(self) -> None:
        path = self.index_dir / MANIFEST
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.manifest, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)


def _chunk_of(sentence: Span, chunks: list[Chunk]) -> str:
    """The first chunk that holds the sentence."""
    found = next((c.chunk_id for c in chunks if c.start <= sentence.start and sentence.end <= c.end), None)
    if found is None:
        raise ValueError(f"sentence at {sentence.start}-{sentence.end} lies in no chunk")
    return found


def _read_manifest(index_dir: Path) -> dict | None:
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(
                f"format {manifest.get('format')!r}, expected {FORMAT}: built by an older version of the assistant"
            )
        for key in ("embedding", "documents", "chunks"):
            manifest[key]  # noqa: B018 - presence check
        for chunk in manifest["chunks"].values():
            Chunk(**chunk)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(
            f"cannot read {path} ({exc}); delete {index_dir} or run `assistant ingest --rebuild`"
        ) from None
    return manifest


def _collection(index_dir: Path, chroma_url: str | None, embedding: str, create: bool, name: str = COLLECTION):
    client = _chroma_client(index_dir, chroma_url)
    try:
        if create:
            collection = client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine", "embedding": embedding}, embedding_function=None
            )
        else:
            collection = client.get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb raises NotFoundError/ValueError/connection errors
        raise IndexCorruptError(f"cannot open the Chroma collection {name!r}: {exc}") from exc
    built_with = (collection.metadata or {}).get("embedding")
    if built_with != embedding:
        raise IndexMismatchError(
            f"the Chroma collection was built with embedding {built_with!r} but the assistant is set to "
            f"{embedding!r}; re-ingest with `assistant ingest --rebuild`"
        )
    return collection


def _drop_collection(index_dir: Path, chroma_url: str | None) -> None:
    client = _chroma_client(index_dir, chroma_url)
    for name in (COLLECTION, SENTENCES):
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent collection is the normal case
            pass
