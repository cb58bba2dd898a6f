"""Chroma, holding what it is for: a vector per chunk with the chunk's text
(`documents`) and metadata (report id, offsets, title, file, source URL) in `reports`,
and a vector per sentence in `reports_sentences`. Embedded in `index/chroma`, or a
`chroma run` server. Nothing reads or writes a whole collection in one call: SQLite
inside Chroma limits the variables of one statement (32,766)."""

import json
from collections.abc import Iterator
from pathlib import Path

from .chunking import Chunk
from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexPathError
from .manifest import suffix
from .normalize import tokens
from .settings import parse_chroma_url

COLLECTION = "reports"
SENTENCES = "reports_sentences"
PAGE = 5000  # rows per Chroma read or write


def collection_names(generation: str) -> tuple[str, str]:
    """Chunk and sentence collection names of one generation of the index."""
    return COLLECTION + suffix(generation), SENTENCES + suffix(generation)


def client(index_dir: Path, chroma_url: str | None, fresh: bool = False):
    """A Chroma client: over HTTP, or embedded in the index folder. An embedded client
    keeps the vector index in this process's memory, loaded once, and never sees what
    another process (`assistant ingest`) wrote since: `fresh` loads it anew from disk,
    leaving clients opened before it to the threads still using them."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        host, port, ssl = parse_chroma_url(chroma_url)
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise IndexMissingError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
    if fresh:
        _forget_embedded(str(index_dir / "chroma"))
    try:
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb wraps OSError from its SQLite/HNSW files in several types
        raise IndexPathError(f"cannot open the vector store in {index_dir / 'chroma'}: {exc}") from exc


def _forget_embedded(path: str) -> None:
    """Make the next embedded client of `path` a new one. Chroma shares one instance per
    folder in a process (`SharedSystemClient`, keyed by the folder); the one dropped
    from that cache is not stopped: collections opened from it keep answering until
    they are let go."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)


def open_collections(
    index_dir: Path, chroma_url: str | None, embedding: str, create: bool, names: tuple[str, ...], fresh: bool = False
) -> tuple:
    """Several collections through one client (`fresh`: see `client`)."""
    chroma = client(index_dir, chroma_url, fresh)
    return tuple(_collection(chroma, embedding, create, name) for name in names)


def _collection(chroma, embedding: str, create: bool, name: str):
    try:
        if create:
            collection = chroma.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine", "embedding": embedding}, embedding_function=None
            )
        else:
            collection = chroma.get_collection(name, embedding_function=None)
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


def catalog_collection(index_dir: Path, chroma_url: str, name: str):
    """The collection that holds a shared index's catalog (`catalog.py`)."""
    try:
        return client(index_dir, chroma_url).get_or_create_collection(name, embedding_function=None)
    except (IndexMissingError, IndexPathError):
        raise
    except Exception as exc:  # chromadb raises connection and server errors in several types
        raise IndexMissingError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc


def drop_collections(index_dir: Path, chroma_url: str | None, generation: str) -> None:
    chroma = client(index_dir, chroma_url)
    for name in collection_names(generation):
        try:
            chroma.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent collection is the normal case
            pass


def chunk_metadata(chunk: Chunk, searchable: str) -> dict:
    """What Chroma keeps beside a chunk's text: where it is from, and the BM25 tokens of
    its searchable text (`chunking.searchable_text`), so BM25 is rebuilt without re-tokenising."""
    return {
        "doc_id": chunk.doc_id,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "file": chunk.file,
        "source_url": chunk.source_url or "",
        "tokens": " ".join(tokens(searchable)),
        **({"locations": json.dumps(chunk.locations, ensure_ascii=False)} if chunk.locations else {}),
        **({"left_out": json.dumps(chunk.left_out)} if chunk.left_out else {}),
    }


def pages(collection, include: list[str], where: dict | None = None) -> Iterator[dict]:
    """A collection (or the part `where` selects) in pages of PAGE rows."""
    offset = 0
    while True:
        page = collection.get(where=where, include=include, limit=PAGE, offset=offset)
        if not page["ids"]:
            return
        yield page
        offset += len(page["ids"])


class ChunkStore:
    """The index's chunks, read from Chroma when asked: their texts live there, not in
    this process's memory."""

    def __init__(self, collection) -> None:
        self._collection = collection

    def __len__(self) -> int:
        return self._collection.count()

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, chunk_id: str) -> Chunk:
        return self.get_many([chunk_id])[chunk_id]

    def get_many(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: _chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def items(self, where: dict | None = None) -> Iterator[tuple[str, Chunk]]:
        for page in pages(self._collection, ["documents", "metadatas"], where):
            for i, d, m in zip(page["ids"], page["documents"], page["metadatas"]):
                yield i, _chunk(i, d, m)

    def values(self, where: dict | None = None) -> Iterator[Chunk]:
        return (chunk for _, chunk in self.items(where))


def _chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(chunk_id=chunk_id, doc_id=meta["doc_id"], title=meta["title"], source_url=meta["source_url"] or None,
                 file=meta["file"], start=meta["start"], end=meta["end"], text=text,
                 locations=tuple((at, label) for at, label in json.loads(meta.get("locations") or "[]")),
                 left_out=tuple((a, b) for a, b in json.loads(meta.get("left_out") or "[]")))  # fmt: skip
