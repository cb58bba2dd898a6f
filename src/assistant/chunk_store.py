"""What the index keeps in Chroma for one generation (`chroma.py` opens it): a vector per
chunk with the chunk's text (`documents`) and metadata (report id, offsets, title, file,
source URL, and the BM25 tokens of its searchable text) in `reports`, and a vector per
sentence, with the chunk it lies in, in `reports_sentences`. Chunk texts are read from
Chroma when asked, not held in this process's memory.

Between another process's writes and this process's reload (`refresh.py`), what this
process holds and what Chroma holds disagree: ids Chroma no longer has, or whose vectors
this process's copy lacks, are skipped, never an error."""

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .chroma import PAGE, collection_names, metadatas, open_collections, pages
from .chunking import Chunk, Span, sentence_id
from .errors import IndexCorruptError

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import GetResult, PyEmbedding, Where
    from chromadb.base_types import InclusionExclusionOperator, LiteralValue

ChunkTokens = tuple[str, list[str]]  # a chunk's id and its BM25 tokens


class ChunkStore:
    """The chunks and sentences of one index generation in Chroma: read by id, searched
    by vector, and written a report at a time (its chunks and sentences replaced or
    removed together)."""

    def __init__(self, chunks: "Collection", sentences: "Collection", index_dir: Path) -> None:
        self.collection = chunks
        self.sentences = sentences
        self._index_dir = index_dir  # named in errors

    @classmethod
    def open(
        cls, index_dir: Path, chroma_url: str | None, embedding: str, generation: str, create: bool
    ) -> "ChunkStore":
        """Through an embedded Chroma loaded from disk now (see `chroma.client`): what
        another process wrote before is seen, and an ingest never writes through an
        older copy of the vector index."""
        names = collection_names(generation)
        chunks, sentences = open_collections(index_dir, chroma_url, embedding, create, names, fresh=not chroma_url)
        return cls(chunks, sentences, index_dir)

    # --- chunks by id ------------------------------------------------------------
    def __len__(self) -> int:
        return self.collection.count()

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, chunk_id: str) -> Chunk:
        return self.get_many([chunk_id])[chunk_id]

    def get_many(self, ids: list[str]) -> dict[str, Chunk]:
        """The chunks of those of `ids` that Chroma holds."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: _chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], metadatas(got))}

    def items(self, where: "Where | None" = None) -> Iterator[tuple[str, Chunk]]:
        for page in pages(self.collection, ["documents", "metadatas"], where):
            for i, d, m in zip(page["ids"], page["documents"] or [], metadatas(page)):
                yield i, _chunk(i, d, m)

    def values(self, where: "Where | None" = None) -> Iterator[Chunk]:
        return (chunk for _, chunk in self.items(where))

    def stored_tokens(self, doc_ids: list[str] | None = None) -> Iterator[ChunkTokens]:
        """The BM25 tokens stored with each chunk, page by page: of every chunk, or of the
        chunks of `doc_ids`. For a process that did not write them (`lexical_upkeep.py`)."""
        wheres: list[Where | None] = [None]
        if doc_ids is not None:
            wheres = [_of_reports(doc_ids[at : at + 500]) for at in range(0, len(doc_ids), 500)]
        for where in wheres:
            for page in pages(self.collection, ["metadatas"], where):
                for cid, meta in zip(page["ids"], metadatas(page)):
                    if not isinstance((meta or {}).get("tokens"), str):
                        raise IndexCorruptError(
                            f"chunk {cid} in the index at {self._index_dir} has no stored tokens (built by an "
                            "older version?); rebuild it with `assistant ingest --rebuild`"
                        )
                    yield cid, meta["tokens"].split()

    # --- by vector -----------------------------------------------------------------
    def dense_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest chunks."""
        result = self.collection.query(query_embeddings=_embeddings([vector]), n_results=n, include=["distances"])
        return {cid: 1.0 - d for cid, d in zip(result["ids"][0], (result["distances"] or [[]])[0])}

    def sentence_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest sentences, by chunk: the best sentence
        score of each chunk that has one among them."""
        query = _embeddings([vector])
        result = self.sentences.query(query_embeddings=query, n_results=n, include=["distances", "metadatas"])
        best: dict[str, float] = {}
        found: list[Mapping[str, Any] | None] = [*(result["metadatas"] or [[]])[0]]
        for meta, d in zip(found, (result["distances"] or [[]])[0]):
            if meta is None:  # removed by another process since this one loaded the vector index
                continue
            best[meta["chunk_id"]] = max(best.get(meta["chunk_id"], -1.0), 1.0 - d)
        return best

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        return _stored_vectors(self.collection, ids)

    def sentence_vectors(self, ids: list[str]) -> dict[str, list[float]]:
        return _stored_vectors(self.sentences, ids)

    # --- what it holds, for the consistency checks ---------------------------------------
    def report_counts(self, doc_id: str) -> tuple[int, int]:
        """Chunk and sentence vectors held for one report."""

        def held(collection: "Collection") -> int:
            return sum(len(page["ids"]) for page in pages(collection, [], {"doc_id": doc_id}))

        return held(self.collection), held(self.sentences)

    def doc_ids(self) -> set[str]:
        """Every report with a chunk or sentence vector (a sweep of both collections)."""
        found: set[str] = set()
        for collection in (self.collection, self.sentences):
            for page in pages(collection, ["metadatas"]):
                found |= {m["doc_id"] for m in metadatas(page)}
        return found

    # --- writing -----------------------------------------------------------------
    def write_report(
        self,
        doc_id: str,
        chunks: list[Chunk],
        chunk_tokens: list[list[str]],
        vectors: list[list[float]],
        sentences: list[Span],
        sentence_vectors: list[list[float]],
    ) -> None:
        """A report's chunks (with their BM25 tokens) and sentences, in place of what it had."""
        self.delete_report(doc_id)
        for at in range(0, len(chunks), PAGE):
            part = chunks[at : at + PAGE]
            self.collection.add(
                ids=[c.chunk_id for c in part],
                embeddings=_embeddings(vectors[at : at + PAGE]),
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c, t) for c, t in zip(part, chunk_tokens[at : at + PAGE])],
            )
        holders = containing_chunks(sentences, chunks)
        for at in range(0, len(sentences), PAGE):
            spans = sentences[at : at + PAGE]
            self.sentences.add(
                ids=[sentence_id(doc_id, s.start) for s in spans],
                embeddings=_embeddings(sentence_vectors[at : at + PAGE]),
                metadatas=[
                    {"doc_id": doc_id, "start": s.start, "end": s.end, "chunk_id": chunk_id}
                    for s, chunk_id in zip(spans, holders[at : at + PAGE])
                ],
            )

    def relocate(self, doc_id: str, file: str) -> None:
        """Record a report's new file name with its chunks; their vectors stay."""
        for page in pages(self.collection, ["metadatas"], {"doc_id": doc_id}):
            self.collection.update(ids=page["ids"], metadatas=[{**m, "file": file} for m in metadatas(page)])

    def delete_report(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})
        self.sentences.delete(where={"doc_id": doc_id})


def chunk_metadata(chunk: Chunk, tokens: list[str]) -> dict[str, str | int]:
    """What Chroma keeps beside a chunk's text: where it is from, and its BM25 tokens, so
    a process that did not write them rebuilds BM25 without re-tokenising."""
    return {
        "doc_id": chunk.doc_id,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "file": chunk.file,
        "source_url": chunk.source_url or "",
        "tokens": " ".join(tokens),
        **({"locations": json.dumps(chunk.locations, ensure_ascii=False)} if chunk.locations else {}),
        **({"left_out": json.dumps(chunk.left_out)} if chunk.left_out else {}),
    }


def _chunk(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    return Chunk(chunk_id=chunk_id, doc_id=meta["doc_id"], title=meta["title"], source_url=meta["source_url"] or None,
                 file=meta["file"], start=meta["start"], end=meta["end"], text=text,
                 locations=tuple((at, label) for at, label in json.loads(meta.get("locations") or "[]")),
                 left_out=tuple((a, b) for a, b in json.loads(meta.get("left_out") or "[]")))  # fmt: skip


def containing_chunks(sentences: list[Span], chunks: list[Chunk]) -> list[str]:
    """The id of the first chunk that holds each sentence, found by bisection: chunks come
    in report order (`chunking.chunk_report`: each starts and ends after the one before),
    so the first to hold a sentence is the first, of those starting at or before it, to
    end at or after it."""
    starts, ends = [c.start for c in chunks], [c.end for c in chunks]
    if any(a > b for a, b in zip(starts, starts[1:])) or any(a > b for a, b in zip(ends, ends[1:])):
        raise ValueError("chunks out of report order")
    found = []
    for s in sentences:
        before = bisect_right(starts, s.start)  # chunks starting at or before the sentence
        at = bisect_left(ends, s.end, 0, before)
        if at == before:
            raise ValueError(f"sentence at {s.start}-{s.end} lies in no chunk")
        found.append(chunks[at].chunk_id)
    return found


def _stored_vectors(collection: "Collection", ids: list[str]) -> dict[str, list[float]]:
    """The stored vectors of those of `ids` that this process's copy of the vector index
    holds: one another process added since it was loaded is skipped (Chroma's "Error
    finding id" fails the whole call, so the ids are then asked one by one)."""
    from chromadb.errors import InternalError

    if not ids:
        return {}
    try:
        return _rows(collection.get(ids=ids, include=["embeddings"]))
    except InternalError:
        pass
    found: dict[str, list[float]] = {}
    for one in ids:
        try:
            found.update(_rows(collection.get(ids=[one], include=["embeddings"])))
        except InternalError:
            continue
    return found


def _rows(got: "GetResult") -> dict[str, list[float]]:
    """Ids and the vectors read with them. Chroma gives float32 rows (numpy arrays); they
    are used as they come wherever the code takes a vector (a list of floats), since
    converting them would change the arithmetic of every score computed from them."""
    if got["embeddings"] is None:
        raise ValueError("vectors read without their embeddings")
    return dict(zip(got["ids"], cast("list[list[float]]", got["embeddings"])))


def _of_reports(doc_ids: list[str]) -> "Where":
    """Chroma's filter for the rows of any of `doc_ids`."""
    values: list[LiteralValue] = [*doc_ids]
    among: dict[InclusionExclusionOperator, list[LiteralValue]] = {"$in": values}
    return {"doc_id": among}


def _embeddings(vectors: Sequence[Sequence[float]]) -> "list[PyEmbedding]":
    """Vectors as Chroma's `add` and `query` take them."""
    return list(vectors)
