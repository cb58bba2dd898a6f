"""The search index of one folder: Chroma (`chroma.py`) for vectors, chunk texts and
their metadata; the manifest and one file per report (`manifest.py`); the saved BM25
index (`lexical.py`). Open with `SearchIndex.open` (must exist) or `create_or_open`
(for ingest).

Crash safety: a report's file says "writing" while its vectors are replaced, so an
interrupted ingest is detected and the next one redoes that report. Only reports that
say "done" are ever cited (`served`); opening an index an ingest was killed in drops
the half-written reports (`_drop_unfinished`) and serves the rest. A rebuild writes a
new generation (collections, report files, lexical index) beside the live one, and
`commit` swaps the manifest in with one atomic step before anything old is dropped:
the live index answers until the new one is complete. One ingest at a time
(`Catalog.lock`).

The manifest and report entries live in the index's catalog (`catalog.py`): files in
the index folder, or records on a shared Chroma server. A server notices another
process's ingest by the catalog's version (`refresh`, at most once a second) and
reloads the report entries, reopens its collections (an embedded Chroma loaded anew from
disk: a process's copy of the vector index never sees another process's writes), and
rebuilds its lexical index from the tokens stored in Chroma, without a restart. Between
another process's writes and that reload, what this process holds and what Chroma holds
disagree: ids Chroma no longer has, or whose vectors this process's copy lacks, are
skipped, never an error."""

import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from . import chroma
from .catalog import Catalog, FolderCatalog, catalog_for
from .chroma import ChunkStore, chunk_metadata, collection_names
from .chunking import Chunk, Span, sentence_id
from .errors import IndexBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError, IndexPathError
from .lexical import STALE_SHARE, LexicalIndex
from .manifest import FORMAT, DocumentEntry, Manifest, ensure_folder, suffix

log = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0  # how often a server asks the catalog whether another process ingested
SWITCH_GRACE_SECONDS = 3.0  # after a shared rebuild is committed, before the old generation is dropped


class SearchIndex:
    def __init__(
        self, index_dir: Path, manifest: Manifest, catalog: Catalog, chroma_url: str | None = None, staged: bool = False
    ):
        self.index_dir = index_dir
        self.manifest = manifest
        self.catalog = catalog
        self.chroma_url = chroma_url
        self.staged = staged  # a rebuild: written beside the live index until `commit`
        self.reports = catalog.entries(self.generation)
        self.collection = None
        self.sentences = None
        self.chunks: ChunkStore | None = None
        self._lexical: LexicalIndex | None = None
        self._lock = threading.Lock()  # the lexical index is loaded once, by one thread
        self._refreshing = threading.Lock()  # one thread asks the catalog; the others go on answering
        self._version = catalog.version()
        self._checked = time.monotonic()

    @property
    def documents(self) -> dict[str, DocumentEntry]:
        return self.reports.entries

    @property
    def generation(self) -> str:
        return self.manifest["generation"]

    @property
    def version(self) -> str:
        """Which state of the index answers now: its generation and the last ingest published."""
        return f"{self.generation or 'first'}/{self._version or 'unpublished'}"

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedding: str, chroma_url: str | None = None) -> "SearchIndex":
        catalog = catalog_for(index_dir, chroma_url)
        manifest = catalog.read()
        if manifest is None and chroma_url and FolderCatalog(index_dir).read() is not None:
            raise IndexMissingError(
                f"the index folder {index_dir} was built for the Chroma server at {chroma_url} by an older version; "
                "run `assistant ingest` once to move its catalog onto the server"
            )
        if manifest is None:
            where = f"on the Chroma server at {chroma_url}" if chroma_url else f"at {index_dir}"
            raise IndexMissingError(f"no index {where}; run `assistant ingest` first")
        index = cls(index_dir, manifest, catalog, chroma_url)
        index._check_embedding(embedding)
        index.reports.load()
        index._open_collections(embedding, create=False)
        if catalog.ingesting():  # another process is writing it: serve what is there, reload when it ends
            return index
        if index.unfinished() and index._drop_unfinished():  # could not drop them: serve the others
            return index
        count, expected = index.collection.count(), index.chunk_count
        if count != expected:
            raise IndexCorruptError(
                f"index at {index_dir} is inconsistent: Chroma holds {count} vectors but the reports "
                f"list {expected} chunks; run `assistant ingest` to repair"
            )
        stored = index.sentences.count()
        if stored != index.sentence_count:
            raise IndexCorruptError(
                f"index at {index_dir} is inconsistent: Chroma holds {stored} sentence vectors "
                f"but the reports list {index.sentence_count} sentences; run `assistant ingest` to repair"
            )
        return index

    @classmethod
    def create_or_open(
        cls,
        index_dir: Path,
        embedding: str,
        dimension: int,
        chroma_url: str | None = None,
        rebuild: bool = False,
        catalog: Catalog | None = None,
    ) -> "SearchIndex":
        """The index to ingest into (call it holding `catalog.lock()`). With `rebuild`,
        a new empty generation staged beside the live index, which stays readable until
        `commit`."""
        ensure_folder(index_dir)
        catalog = catalog or catalog_for(index_dir, chroma_url)
        if chroma_url and not rebuild and catalog.read() is None:
            _move_folder_catalog(index_dir, catalog)
        manifest = None if rebuild else catalog.read()
        if manifest is None:
            manifest = {"format": FORMAT, "embedding": embedding, "dimension": dimension, "chunking": None,
                        "generation": uuid.uuid4().hex[:8] if rebuild else ""}  # fmt: skip
        index = cls(index_dir, manifest, catalog, chroma_url, staged=rebuild)
        index._check_embedding(embedding)
        if rebuild:
            index._drop_abandoned_rebuild()
        else:
            index.reports.load()
            index.drop_retired()
        index._open_collections(embedding, create=True)
        index.save()
        return index

    def _drop_unfinished(self) -> list[str]:
        """Drop the reports an interrupted ingest (killed mid-write) left half-written,
        vectors and entries, so the index is consistent again; the next `assistant
        ingest` adds them anew from their files. Taken under the ingest lock; when that
        cannot be had (an ingest started, a read-only folder), they stay out of answers
        (`served`). Returns those left."""
        try:
            with self.catalog.lock():
                self.reports.load()  # as they are now that no ingest can change them
                writing = self.unfinished()
                for doc_id in writing:
                    self.remove_document(doc_id)
                if writing:
                    self.publish()  # other servers reload
                    log.warning("dropped %s, left half-written by an interrupted ingest; run `assistant ingest` to "
                                "add it again", ", ".join(writing))  # fmt: skip
        except (IndexBusyError, IndexPathError, OSError) as exc:
            log.warning("reports left half-written by an interrupted ingest are not answered from (%s)", exc)
        return self.unfinished()

    def refresh(self) -> bool:
        """Pick up another process's finished ingest (the catalog is asked at most once
        every REFRESH_SECONDS, by one thread while the others answer, and not while an
        ingest is writing): True when the index changed. Report entries are reloaded and
        the collections reopened, all or nothing; the lexical index follows on its next
        use. A catalog that cannot be read just now leaves the index as it was."""
        if self.staged or time.monotonic() - self._checked < REFRESH_SECONDS:
            return False
        if not self._refreshing.acquire(blocking=False):
            return False
        try:
            self._checked = time.monotonic()
            version = self.catalog.version()
            if version == self._version or self.catalog.ingesting():  # reload between ingests, not during one
                return False
            manifest = self.catalog.read()
            if manifest is None:  # deleted under the server: keep answering from what is open
                return False
            self._check_embedding(self.embedding, manifest)
            reports = self.catalog.entries(manifest["generation"]).load()
            collections = (self.collection, self.sentences)
            if not self.chroma_url or manifest["generation"] != self.generation:
                names = collection_names(manifest["generation"])
                collections = chroma.open_collections(self.index_dir, self.chroma_url, self.embedding, False, names,
                                                      fresh=not self.chroma_url)  # fmt: skip
        except (IndexMismatchError, IndexCorruptError, IndexMissingError) as exc:
            log.warning("the index changed but cannot be reloaded yet: %s", exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a Chroma server that is briefly away
            log.warning("cannot ask the catalog whether the index changed: %s", exc)
            return False
        finally:
            self._refreshing.release()
        with self._lock:
            self.manifest, self.reports = manifest, reports
            self.collection, self.sentences = collections
            self.chunks = ChunkStore(self.collection)
            self._version = version
        log.info("index changed by another ingest: %d reports, %d chunks", len(self.documents), self.chunk_count)
        return True

    def publish(self) -> None:
        """Tell every server reading this index that an ingest has ended."""
        self.catalog.publish()
        self._version = self.catalog.version()

    def _open_collections(self, embedding: str, create: bool) -> None:
        """Through an embedded Chroma loaded from disk now (see `chroma.client`): what
        another process wrote before is seen, and an ingest never writes through an
        older copy of the vector index."""
        self.embedding = embedding
        names = collection_names(self.generation)
        self.collection, self.sentences = chroma.open_collections(
            self.index_dir, self.chroma_url, embedding, create, names, fresh=not self.chroma_url
        )
        self.chunks = ChunkStore(self.collection)

    def _check_embedding(self, embedding: str, manifest: Manifest | None = None) -> None:
        built_with = (manifest or self.manifest).get("embedding")
        if built_with != embedding:
            raise IndexMismatchError(
                f"the index at {self.index_dir} was built with embedding {built_with!r} but the "
                f"assistant is set to {embedding!r}; re-ingest with `assistant ingest --rebuild` "
                f"or set ASSISTANT_EMBEDDING={built_with!r}"
            )

    # --- reading -----------------------------------------------------------------
    @property
    def bm25(self) -> LexicalIndex:
        """The lexical index: loaded from disk (memory-mapped), rebuilt from Chroma's
        documents when missing or older than the reports."""
        with self._lock:
            if self._lexical is None or self._lexical.fingerprint != self.reports.fingerprint():
                self._lexical = self._load_or_build_lexical(progress=False)
            return self._lexical

    def refresh_lexical(self, progress: bool = False) -> None:
        """Bring the saved lexical index up to date with the reports (after an ingest)."""
        with self._lock:
            self._lexical = self._load_or_build_lexical(progress)

    def _load_or_build_lexical(self, progress: bool) -> LexicalIndex:
        """The saved lexical index when it is current; else the saved one updated with
        the reports that changed since (their tokens read from Chroma); else, with none
        saved or a fifth of it changed by updates, one built from every chunk's tokens."""
        folder = self.index_dir / f"lexical{suffix(self.generation)}"
        fingerprint = self.reports.fingerprint()
        saved = LexicalIndex.load(folder)
        keys = {doc_id: _report_key(self.documents[doc_id]) for doc_id in self.served}
        expected = sum(self.documents[d]["chunks"] for d in keys)
        if saved is not None and saved.fingerprint == fingerprint and len(saved) == expected:
            return saved
        built = None
        if saved is not None and saved.report_keys and len(saved):
            unchanged = {d for d, key in keys.items() if saved.report_keys.get(d) == key}
            held = saved.chunks_by_report()
            gone = set(held) - unchanged
            new = sorted(set(keys) - unchanged)
            change = max(sum(held[d] for d in gone), sum(self.documents[d]["chunks"] for d in new))
            if saved.stats["stale"] + change <= STALE_SHARE * expected:  # else its statistics would drift
                update = saved.updated(gone, list(self._stored_tokens(new)), fingerprint, keys)
                if len(update) == expected:  # else something outside ingest changed Chroma: build anew
                    built = update
        if built is None:  # the chunks of the reports served, as Chroma holds them now
            bar = tqdm(self._stored_tokens(sorted(keys)), total=expected, desc="lexical index", unit="chunk",
                       disable=not progress)  # fmt: skip
            built = LexicalIndex.build(bar, fingerprint, keys)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)  # a server's first use of a shared index
            built.save(folder)
        except OSError as exc:  # a read-only folder still answers, from memory
            log.warning("cannot save the lexical index in %s (%s); it is kept in memory", folder, exc)
        return built

    def _stored_tokens(self, doc_ids: list[str] | None = None) -> Iterator[tuple[str, list[str]]]:
        """The BM25 tokens ingest stored in Chroma with each chunk, page by page: of every
        chunk, or of the chunks of `doc_ids`."""
        if doc_ids is None:
            wheres: list[dict | None] = [None]
        else:
            wheres = [{"doc_id": {"$in": doc_ids[at : at + 500]}} for at in range(0, len(doc_ids), 500)]
        for where in wheres:
            for page in chroma.pages(self.collection, ["metadatas"], where):
                for cid, meta in zip(page["ids"], page["metadatas"]):
                    if not isinstance((meta or {}).get("tokens"), str):
                        raise IndexCorruptError(
                            f"chunk {cid} in the index at {self.index_dir} has no stored tokens (built by an "
                            "older version?); rebuild it with `assistant ingest --rebuild`"
                        )
                    yield cid, meta["tokens"].split()

    def dense_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest chunks."""
        n = min(n, self.chunk_count)
        if n == 0:
            return {}
        result = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return {cid: 1.0 - d for cid, d in zip(result["ids"][0], result["distances"][0])}

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        return _stored_vectors(self.collection, ids)

    @property
    def chunk_size(self) -> int | None:
        """The chunk size the index was built with (sentences are split below it)."""
        return (self.manifest.get("chunking") or {}).get("size")

    @property
    def served(self) -> frozenset[str]:
        """The reports answers may cite: those whose last write finished."""
        return self.reports.done()

    @property
    def chunk_count(self) -> int:
        """Chunks the reports say the index holds."""
        return sum(d["chunks"] for d in self.documents.values())

    @property
    def sentence_count(self) -> int:
        """Sentences the reports say the index holds."""
        return sum(d["sentences"] for d in self.documents.values())

    def sentence_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest sentences, by chunk: the best sentence
        score of each chunk that has one among them."""
        n = min(n, self.sentence_count)
        if n == 0:
            return {}
        result = self.sentences.query(query_embeddings=[vector], n_results=n, include=["distances", "metadatas"])
        best: dict[str, float] = {}
        for meta, d in zip(result["metadatas"][0], result["distances"][0]):
            if meta is None:  # removed by another process since this one loaded the vector index
                continue
            best[meta["chunk_id"]] = max(best.get(meta["chunk_id"], -1.0), 1.0 - d)
        return best

    def sentence_vectors(self, ids: list[str]) -> dict[str, list[float]]:
        return _stored_vectors(self.sentences, ids)

    # --- checking ----------------------------------------------------------------
    def unfinished(self) -> list[str]:
        """Reports an interrupted ingest was writing."""
        return [doc_id for doc_id, d in self.documents.items() if d["state"] != "done"]

    def _totals_agree(self) -> bool:
        """Chroma holds as many chunk and sentence vectors as the reports list."""
        return self.collection.count() == self.chunk_count and self.sentences.count() == self.sentence_count

    def damaged_doc_ids(self) -> set[str]:
        """Reports whose vectors in Chroma do not match their file (a deleted or damaged
        vector store). Counting per report runs only when the totals differ."""
        if self._totals_agree():
            return set()
        damaged = set()
        for doc_id, doc in self.documents.items():
            for collection, expected in ((self.collection, doc["chunks"]), (self.sentences, doc["sentences"])):
                if sum(len(p["ids"]) for p in chroma.pages(collection, [], {"doc_id": doc_id})) != expected:
                    damaged.add(doc_id)
        return damaged

    def stray_doc_ids(self) -> set[str]:
        """Reports that have vectors in Chroma but no file. Writes mark a report's file
        before its vectors change, so strays come only from outside meddling, which
        shows in the totals: the whole-collection sweep runs only when they differ."""
        if self._totals_agree():
            return set()
        found: set[str] = set()
        for collection in (self.collection, self.sentences):
            for page in chroma.pages(collection, ["metadatas"]):
                found |= {m["doc_id"] for m in page["metadatas"]}
        return found - set(self.documents)

    # --- writing -----------------------------------------------------------------
    def replace_document(
        self,
        doc: DocumentEntry,
        chunks: list[Chunk],
        searchable: list[str],
        vectors: list[list[float]],
        sentences: list[Span],
        sentence_vectors: list[list[float]],
    ) -> None:
        doc_id = doc["doc_id"]
        self.reports.write({**doc, "state": "writing"})
        self._delete_vectors(doc_id)
        for at in range(0, len(chunks), chroma.PAGE):
            part = chunks[at : at + chroma.PAGE]
            self.collection.add(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[at : at + chroma.PAGE],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c, s) for c, s in zip(part, searchable[at : at + chroma.PAGE])],
            )
        for at in range(0, len(sentences), chroma.PAGE):
            part = sentences[at : at + chroma.PAGE]
            self.sentences.add(
                ids=[sentence_id(doc_id, s.start) for s in part],
                embeddings=sentence_vectors[at : at + chroma.PAGE],
                metadatas=[
                    {"doc_id": doc_id, "start": s.start, "end": s.end, "chunk_id": _chunk_of(s, chunks)} for s in part
                ],
            )
        self.reports.write({**doc, "state": "done"})

    def relocate(self, doc_id: str, path: str, file: str) -> None:
        """Record a report's new location (the corpus was moved); its vectors stay."""
        for page in chroma.pages(self.collection, ["metadatas"], {"doc_id": doc_id}):
            self.collection.update(ids=page["ids"], metadatas=[{**m, "file": file} for m in page["metadatas"]])
        self.reports.write({**self.documents[doc_id], "path": path, "file": file})

    def remove_document(self, doc_id: str) -> None:
        if doc_id in self.documents:
            self.reports.write({**self.documents[doc_id], "state": "writing"})
        self._delete_vectors(doc_id)
        self.reports.delete(doc_id)

    def _delete_vectors(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})
        self.sentences.delete(where={"doc_id": doc_id})

    def save(self) -> None:
        self.catalog.write(self.manifest, staged=self.staged)

    def commit(self) -> None:
        """Make a staged rebuild the live index, then drop the generation it replaced."""
        if not self.staged:
            return
        try:
            replaced = self.catalog.read()
        except IndexCorruptError:  # what a rebuild is for: an unreadable or older index
            replaced = None
        if replaced and replaced.get("retired") not in (None, self.generation):  # left by an earlier crash
            self._drop_generation(replaced["retired"])
        self.manifest["retired"] = replaced["generation"] if replaced else ""
        self.save()
        self.catalog.promote()
        self.staged = False
        if self.chroma_url:  # other servers switch on their next question; let those in flight finish
            self.publish()
            time.sleep(SWITCH_GRACE_SECONDS)
        self.drop_retired()

    def drop_retired(self) -> None:
        """Drop what the generation a rebuild replaced left (again after a crash)."""
        if "retired" not in self.manifest or self.manifest["retired"] == self.generation:
            self.manifest.pop("retired", None)
            return
        self._drop_generation(self.manifest["retired"])
        del self.manifest["retired"]
        self.save()

    def abandon(self) -> None:
        """Drop a staged rebuild; the live index is untouched."""
        if self.staged:
            self._drop_abandoned_rebuild()

    def _drop_generation(self, generation: str) -> None:
        chroma.drop_collections(self.index_dir, self.chroma_url, generation)
        self.catalog.drop_entries(generation)
        shutil.rmtree(self.index_dir / f"lexical{suffix(generation)}", ignore_errors=True)

    def _drop_abandoned_rebuild(self) -> None:
        """Remove what an interrupted or refused rebuild left: its staged manifest, collections and entries."""
        try:
            left = self.catalog.read(staged=True)
            live = self.catalog.read()
        except IndexCorruptError:
            left, live = None, None
        in_use = {live["generation"], live.get("retired")} if live else set()
        if left is not None and left.get("generation") and left["generation"] not in in_use:
            self._drop_generation(left["generation"])  # (a crash right after a commit leaves the live one staged)
        self.catalog.discard_staged()


def _stored_vectors(collection, ids: list[str]) -> dict[str, list[float]]:
    """The stored vectors of those of `ids` that this process's copy of the vector index
    holds: one another process added since it was loaded is skipped (Chroma's "Error
    finding id" fails the whole call, so the ids are then asked one by one)."""
    from chromadb.errors import InternalError

    if not ids:
        return {}
    try:
        got = collection.get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))
    except InternalError:
        pass
    found: dict[str, list[float]] = {}
    for one in ids:
        try:
            got = collection.get(ids=[one], include=["embeddings"])
        except InternalError:
            continue
        found.update(zip(got["ids"], got["embeddings"]))
    return found


def _report_key(doc: DocumentEntry) -> str:
    """What a report's chunks depend on: its content and how it was chunked."""
    return f"{doc['sha256']}:{doc['chunks']}:{json.dumps(doc['chunking'], sort_keys=True)}"


def _move_folder_catalog(index_dir: Path, catalog: Catalog) -> None:
    """An index folder built for a Chroma server by an older version kept the catalog
    in files: copy its manifest and report entries onto the server, so its vectors are
    used rather than embedded again."""
    folder = FolderCatalog(index_dir)
    manifest = folder.read()
    if manifest is None:
        return
    target = catalog.entries(manifest["generation"])
    for entry in folder.entries(manifest["generation"]).load().entries.values():
        target.write(entry)
    catalog.write(manifest)
    log.info("moved the catalog of %s onto the Chroma server", index_dir)


def _chunk_of(sentence: Span, chunks: list[Chunk]) -> str:
    """The first chunk that holds the sentence."""
    found = next((c.chunk_id for c in chunks if c.start <= sentence.start and sentence.end <= c.end), None)
    if found is None:
        raise ValueError(f"sentence at {sentence.start}-{sentence.end} lies in no chunk")
    return found
