"""The search index: vectors in Chroma (embedded in `index/chroma`, or a `chroma run`
server), and beside it `manifest.json` holding what was indexed (document hashes,
the embedding that built it, chunk settings) and the chunk texts for BM25 and citations.

Two collections: `reports` holds a vector per chunk (what retrieval ranks) and
`reports_sentences` a vector per sentence, embedded once at ingest, so the reader
scores sentences against the question without embedding anything at question time.

The manifest is written atomically after each document, and names the document being
written while Chroma is touched, so an interrupted ingest is detected and repaired by
the next one instead of leaving a silently inconsistent index.

A rebuild never destroys the index it replaces until the new one is complete: it
writes a new generation of collections and a staged manifest beside the old ones, and
`commit` swaps the manifest in (one atomic rename) before dropping the old collections.
The manifest is validated as a typed model when read."""

import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import NotRequired

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs it on Python 3.11

from .chunking import Chunk, Span, searchable_text, sentence_id
from .errors import IndexBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError, IndexPathError
from .lexical import BM25
from .settings import parse_chroma_url

FORMAT = 2  # 2: sentence vectors beside chunk vectors
COLLECTION = "reports"
SENTENCES = "reports_sentences"
MANIFEST = "manifest.json"
STAGED = "manifest.rebuild.json"  # the manifest of a rebuild in progress
PAGE = 5000  # rows per Chroma read: one call for a whole collection exceeds SQLite's variable limit


class Chunking(TypedDict):
    size: int
    overlap: int
    version: int


class DocumentEntry(TypedDict):
    doc_id: str
    sha256: str
    path: str
    file: str
    title: str
    source_url: str | None
    chunks: int
    sentences: int
    chunking: NotRequired[Chunking]  # absent in indexes built before it was recorded per report


# a chunk as the manifest stores it: the fields of `Chunk`, as a dict
ChunkEntry = TypedDict("ChunkEntry", {f.name: f.type for f in fields(Chunk)})


class Manifest(TypedDict):
    format: int
    embedding: str
    dimension: int | None
    chunking: Chunking | None
    pending: str | None
    generation: NotRequired[str]  # suffix of the collection names; "" for the first build
    retired: NotRequired[str]  # a generation a rebuild replaced, until its collections are dropped
    documents: dict[str, DocumentEntry]
    chunks: dict[str, ChunkEntry]


_MANIFEST = TypeAdapter(Manifest)


def collection_names(generation: str) -> tuple[str, str]:
    """Chunk and sentence collection names of one generation of the index."""
    suffix = f"_{generation}" if generation else ""
    return COLLECTION + suffix, SENTENCES + suffix


def _chroma_client(index_dir: Path, chroma_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        host, port, ssl = parse_chroma_url(chroma_url)
        try:
            return chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise IndexMissingError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
    try:
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb wraps OSError from its SQLite/HNSW files in several types
        raise IndexPathError(f"cannot open the vector store in {index_dir / 'chroma'}: {exc}") from exc


class SearchIndex:
    """One index: Chroma collections + manifest. Open with `open` (must exist) or
    `create_or_open` (for ingest)."""

    def __init__(self, index_dir: Path, manifest: Manifest, chroma_url: str | None = None, staged: bool = False):
        self.index_dir = index_dir
        self.manifest = manifest
        self.chroma_url = chroma_url
        self.staged = staged  # a rebuild: written beside the live index until `commit`
        self.collection = None
        self.sentences = None
        self._lock = threading.Lock()  # the BM25 index is built once, by one thread
        self._reload_chunks()

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedding: str, chroma_url: str | None = None) -> "SearchIndex":
        manifest = _read_manifest(index_dir)
        if manifest is None:
            raise IndexMissingError(f"no index at {index_dir}; run `assistant ingest` first")
        index = cls(index_dir, manifest, chroma_url)
        index._check_embedding(embedding)
        if manifest.get("pending"):
            raise IndexCorruptError(
                f"the last ingest stopped while writing {manifest['pending']!r}; run `assistant ingest` to repair"
            )
        index._open_collections(embedding, create=False)
        count = index.collection.count()
        if count != len(index.chunks):
            raise IndexCorruptError(
                f"index at {index_dir} is inconsistent: Chroma holds {count} vectors but the manifest "
                f"lists {len(index.chunks)} chunks; run `assistant ingest` to repair"
            )
        stored = index.sentences.count()
        if stored != index.sentence_count:
            raise IndexCorruptError(
                f"index at {index_dir} is inconsistent: Chroma holds {stored} sentence vectors "
                f"but the manifest lists {index.sentence_count} sentences; run `assistant ingest` to repair"
            )
        return index

    @classmethod
    def create_or_open(
        cls, index_dir: Path, embedding: str, dimension: int, chroma_url: str | None = None, rebuild: bool = False
    ) -> "SearchIndex":
        """The index to ingest into. With `rebuild`, a new empty generation staged beside
        the live index, which stays readable until `commit`."""
        _ensure_folder(index_dir)
        manifest = None if rebuild else _read_manifest(index_dir)
        if manifest is None:
            manifest = {
                "format": FORMAT,
                "embedding": embedding,
                "dimension": dimension,
                "chunking": None,
                "pending": None,
                "generation": uuid.uuid4().hex[:8] if rebuild else "",
                "documents": {},
                "chunks": {},
            }
        index = cls(index_dir, manifest, chroma_url, staged=rebuild)
        index._check_embedding(embedding)
        if rebuild:
            _drop_abandoned_rebuild(index_dir, chroma_url)
        else:
            index.drop_retired()
        index._open_collections(embedding, create=True)
        index.save()
        return index

    def _open_collections(self, embedding: str, create: bool) -> None:
        chunks, sentences = collection_names(self.generation)
        self.collection = _collection(self.index_dir, self.chroma_url, embedding, create, chunks)
        self.sentences = _collection(self.index_dir, self.chroma_url, embedding, create, sentences)

    def _check_embedding(self, embedding: str) -> None:
        built_with = self.manifest.get("embedding")
        if built_with != embedding:
            raise IndexMismatchError(
                f"the index at {self.index_dir} was built with embedding {built_with!r} but the "
                f"assistant is set to {embedding!r}; re-ingest with `assistant ingest --rebuild` "
                f"or set ASSISTANT_EMBEDDING={built_with!r}"
            )

    @property
    def generation(self) -> str:
        return self.manifest.get("generation", "")

    # --- reading -----------------------------------------------------------------
    @property
    def bm25(self) -> BM25:
        with self._lock:
            if self._bm25 is None:
                self._bm25 = BM25({cid: searchable_text(c.text) for cid, c in self.chunks.items()})
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

    # --- checking ----------------------------------------------------------------
    def damaged_doc_ids(self) -> set[str]:
        """Documents whose vectors in Chroma do not match the manifest (a deleted or
        damaged vector store). Counting per document runs only when the totals differ."""
        if self.collection.count() == len(self.chunks) and self.sentences.count() == self.sentence_count:
            return set()
        damaged = set()
        for doc_id, doc in self.manifest["documents"].items():
            for collection, expected in ((self.collection, doc["chunks"]), (self.sentences, doc["sentences"])):
                if len(collection.get(where={"doc_id": doc_id}, include=[])["ids"]) != expected:
                    damaged.add(doc_id)
        return damaged

    def stray_doc_ids(self) -> set[str]:
        """Documents that have vectors in Chroma but no manifest entry (left by a crash)."""
        found: set[str] = set()
        for collection in (self.collection, self.sentences):
            for offset in range(0, collection.count(), PAGE):
                page = collection.get(include=["metadatas"], limit=PAGE, offset=offset)["metadatas"] or []
                found |= {m["doc_id"] for m in page}
        return found - set(self.manifest["documents"])

    # --- writing -----------------------------------------------------------------
    def replace_document(
        self,
        doc: DocumentEntry,
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

    def relocate(self, doc_id: str, path: str, file: str) -> None:
        """Record a report's new location (the corpus was moved); its vectors stay."""
        self.manifest["documents"][doc_id].update(path=path, file=file)
        for chunk in self.manifest["chunks"].values():
            if chunk["doc_id"] == doc_id:
                chunk["file"] = file
        self._reload_chunks()
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

    def commit(self) -> None:
        """Make a staged rebuild the live index, then drop the generation it replaced."""
        if not self.staged:
            return
        try:
            replaced = _read_manifest(self.index_dir)
        except IndexCorruptError:  # what a rebuild is for; its collections are left to Chroma
            replaced = None
        if replaced is not None and replaced.get("generation", "") != self.generation:
            self.manifest["retired"] = replaced.get("generation", "")
            self.save()
        os.replace(self.index_dir / STAGED, self.index_dir / MANIFEST)
        self.staged = False
        self.drop_retired()

    def drop_retired(self) -> None:
        """Drop the collections of the generation a rebuild replaced (again after a crash)."""
        if "retired" in self.manifest:
            _drop_collections(self.index_dir, self.chroma_url, self.manifest["retired"])
            del self.manifest["retired"]
            self.save()

    def abandon(self) -> None:
        """Drop a staged rebuild; the live index is untouched."""
        if self.staged:
            _drop_abandoned_rebuild(self.index_dir, self.chroma_url)

    def _forget_chunks(self, doc_id: str) -> None:
        stale = [cid for cid, c in self.manifest["chunks"].items() if c["doc_id"] == doc_id]
        for cid in stale:
            del self.manifest["chunks"][cid]
        self._reload_chunks()

    def _reload_chunks(self) -> None:
        self.chunks = {cid: Chunk(**c) for cid, c in self.manifest["chunks"].items()}
        self._bm25: BM25 | None = None

    def save(self) -> None:
        path = self.index_dir / (STAGED if self.staged else MANIFEST)
        tmp = path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(self.manifest, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise IndexPathError(f"cannot write the index manifest {path}: {exc.strerror or exc}") from None


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One ingest at a time per index folder (an advisory lock on a file in it); a
    second one is refused rather than left to interleave its writes with the first."""
    _ensure_folder(index_dir)
    with open(index_dir / ".ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(
                f"another ingest is writing the index at {index_dir}; wait for it to finish and run this one again"
            ) from None
        yield


def _chunk_of(sentence: Span, chunks: list[Chunk]) -> str:
    """The first chunk that holds the sentence."""
    found = next((c.chunk_id for c in chunks if c.start <= sentence.start and sentence.end <= c.end), None)
    if found is None:
        raise ValueError(f"sentence at {sentence.start}-{sentence.end} lies in no chunk")
    return found


def _ensure_folder(index_dir: Path) -> None:
    """Create the index folder, or say in one line why it cannot be used."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexPathError(f"the index path {index_dir} is a file, not a folder; choose another --index")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexPathError(f"cannot create the index folder {index_dir}: {exc.strerror or exc}") from None
    if not os.access(index_dir, os.W_OK | os.X_OK):
        raise IndexPathError(f"the index folder {index_dir} is not writable; ingest needs write access")


def _read_manifest(index_dir: Path, name: str = MANIFEST) -> Manifest | None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexPathError(f"the index path {index_dir} is a file, not a folder; point --index at a folder")
    path = index_dir / name
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
            raise ValueError(f"format {found!r}, expected {FORMAT}: not a manifest of this version of the assistant")
        manifest = _MANIFEST.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise IndexCorruptError(
            f"cannot read {path} ({where}: {first['msg']}); delete {index_dir} or run `assistant ingest --rebuild`"
        ) from None
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(
            f"cannot read {path} ({exc}); delete {index_dir} or run `assistant ingest --rebuild`"
        ) from None
    except OSError as exc:
        raise IndexPathError(f"cannot read {path}: {exc.strerror or exc}") from None
    return manifest


def _collection(index_dir: Path, chroma_url: str | None, embedding: str, create: bool, name: str):
    client = _chroma_client(index_dir, chroma_url)
    try:
        if create:
            collection = client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine", "embedding": embedding}, embedding_function=None
            )
        else:
            collection = client.get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb raises NotFoundError/ValueError/connection errors
        raise IndexCorruptError(
            f"cannot open the Chroma collection {name!r}: {exc}; run `assistant ingest` to repair"
        ) from exc
    built_with = (collection.metadata or {}).get("embedding")
    if built_with != embedding:
        raise IndexMismatchError(
            f"the Chroma collection was built with embedding {built_with!r} but the assistant is set to "
            f"{embedding!r}; re-ingest with `assistant ingest --rebuild`"
        )
    return collection


def _drop_collections(index_dir: Path, chroma_url: str | None, generation: str) -> None:
    client = _chroma_client(index_dir, chroma_url)
    for name in collection_names(generation):
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent collection is the normal case
            pass


def _drop_abandoned_rebuild(index_dir: Path, chroma_url: str | None) -> None:
    """Remove what an interrupted or refused rebuild left: its staged manifest and collections."""
    staged = index_dir / STAGED
    try:
        left = _read_manifest(index_dir, STAGED)
    except IndexCorruptError:
        left = None
    if left is not None and left.get("generation"):
        _drop_collections(index_dir, chroma_url, left["generation"])
    staged.unlink(missing_ok=True)
