"""Reaching Chroma: a client embedded in `index/chroma` or of a `chroma run` server,
the collections of one index generation (`reports` for chunks, `reports_sentences` for
sentences), and reads in pages. What the index keeps in those collections:
`chunk_store.py`. Nothing reads or writes a whole collection in one call: SQLite inside
Chroma limits the variables of one statement (32,766)."""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexPathError
from .manifest import suffix
from .settings import parse_chroma_url

if TYPE_CHECKING:  # chromadb is imported when a client is made: it is slow to import
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import GetResult, Include, Where

COLLECTION = "reports"
SENTENCES = "reports_sentences"
PAGE = 5000  # rows per Chroma read or write


def collection_names(generation: str) -> tuple[str, str]:
    """Chunk and sentence collection names of one generation of the index."""
    return COLLECTION + suffix(generation), SENTENCES + suffix(generation)


def client(index_dir: Path, chroma_url: str | None, fresh: bool = False) -> "ClientAPI":
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
) -> tuple["Collection", ...]:
    """Several collections through one client (`fresh`: see `client`)."""
    chroma = client(index_dir, chroma_url, fresh)
    return tuple(_collection(chroma, embedding, create, name) for name in names)


def _collection(chroma: "ClientAPI", embedding: str, create: bool, name: str) -> "Collection":
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


def catalog_collection(index_dir: Path, chroma_url: str, name: str) -> "Collection":
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


def pages(collection: "Collection", include: "Include", where: "Where | None" = None) -> Iterator["GetResult"]:
    """A collection (or the part `where` selects) in pages of PAGE rows."""
    offset = 0
    while True:
        page = collection.get(where=where, include=include, limit=PAGE, offset=offset)
        if not page["ids"]:
            return
        yield page
        offset += len(page["ids"])


def metadatas(page: "GetResult") -> "list[Mapping[str, Any]]":
    """The metadatas of a page read with them: Chroma's schemaless values, read by name."""
    found = page["metadatas"]
    if found is None:
        raise ValueError("a page read without its metadatas")
    return found
