"""The search index of one folder, as the rest of the assistant uses it (`SearchIndex`):
its chunks and sentences in Chroma (`chunk_store.py`), its manifest and one entry per
report in a catalog (`manifest.py`, `catalog.py`), and a saved BM25 index (`lexical.py`).
Open with `SearchIndex.open` (must exist) or `create_or_open` (for ingest).

Each job lives in its own module, named for it: rebuilds and the generations they
write (`generations.py`), whether Chroma agrees with the report entries
(`consistency.py`), picking up another process's ingest (`refresh.py`), keeping the
lexical index current (`lexical_upkeep.py`)."""

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import consistency
from .catalog import Catalog, catalog_for
from .chunk_store import ChunkStore
from .chunking import Chunk, Span
from .generations import SWITCH_GRACE_SECONDS, Generations
from .lexical import LexicalIndex
from .lexical_upkeep import LexicalUpkeep
from .manifest import DocumentEntry, Manifest, ReportEntries, check_embedding, ensure_folder
from .refresh import Refresher

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)


class SearchIndex:
    """One index, as retrieval, the reader and ingest use it. Questions read it from many
    threads; one ingest at a time writes it (`Catalog.lock`), through an instance of its
    own that a server then answers from."""

    def __init__(
        self,
        generations: Generations,
        manifest: Manifest,
        reports: ReportEntries,
        store: ChunkStore,
        refresher: Refresher,
        embedding: str,
        staged: bool = False,
    ) -> None:
        self.index_dir = generations.index_dir
        self.catalog = generations.catalog
        self.chroma_url = generations.chroma_url
        self.manifest = manifest
        self.reports = reports
        self.embedding = embedding
        self.staged = staged  # a rebuild: written beside the live index until `commit`
        self._generations = generations
        self._store = store
        self._refresher = refresher
        self._lexical = LexicalUpkeep(self.index_dir)
        self._lock = threading.Lock()  # the lexical index is brought up to date by one thread; a reload swaps under it

    # --- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedding: str, chroma_url: str | None = None) -> "SearchIndex":
        """The index to answer from. Half-written reports an ingest killed mid-write left
        are dropped (or, when no ingest lock can be had, never cited); vectors that
        disagree with the reports' counts are refused."""
        catalog = catalog_for(index_dir, chroma_url)
        generations = Generations(index_dir, catalog, chroma_url)
        # the published version first: a rebuild committed while the manifest is read is
        # then newer than what this process holds, and the next question reloads it
        refresher = Refresher(catalog, index_dir, chroma_url)
        manifest = generations.live()
        check_embedding(manifest, embedding, index_dir)
        reports = catalog.entries(manifest["generation"]).load()
        store = ChunkStore.open(index_dir, chroma_url, embedding, manifest["generation"], create=False)
        index = cls(generations, manifest, reports, store, refresher, embedding)
        if catalog.ingesting():  # another process is writing it: serve what is there, reload when it ends
            return index
        if index.unfinished() and consistency.drop_unfinished(catalog, reports, index.remove_document, index.publish):
            return index  # could not drop them: serve the others
        consistency.check_totals(store, reports, index_dir)
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
        generations = Generations(index_dir, catalog, chroma_url)
        manifest = generations.to_ingest(embedding, dimension, rebuild)
        refresher = Refresher(catalog, index_dir, chroma_url)
        check_embedding(manifest, embedding, index_dir)
        reports = catalog.entries(manifest["generation"])
        if rebuild:
            generations.drop_abandoned_rebuild()
        else:
            reports.load()
            generations.drop_retired(manifest)
        store = ChunkStore.open(index_dir, chroma_url, embedding, manifest["generation"], create=True)
        index = cls(generations, manifest, reports, store, refresher, embedding, staged=rebuild)
        index.save()
        return index

    # --- what it holds -------------------------------------------------------------
    @property
    def documents(self) -> dict[str, DocumentEntry]:
        return self.reports.entries

    @property
    def generation(self) -> str:
        return self.manifest["generation"]

    @property
    def version(self) -> str:
        """Which state of the index answers now: its generation and the last ingest published."""
        return f"{self.generation or 'first'}/{self._refresher.version or 'unpublished'}"

    @property
    def chunk_size(self) -> int | None:
        """The chunk size the index was built with (sentences are split below it)."""
        chunking = self.manifest["chunking"]
        return chunking["size"] if chunking else None

    @property
    def served(self) -> frozenset[str]:
        """The reports answers may cite: those whose last write finished."""
        return self.reports.done()

    @property
    def chunk_count(self) -> int:
        """Chunks the reports say the index holds."""
        return self.reports.chunk_count()

    @property
    def sentence_count(self) -> int:
        """Sentences the reports say the index holds."""
        return self.reports.sentence_count()

    @property
    def chunks(self) -> ChunkStore:
        """The chunks, read from Chroma by id when asked."""
        return self._store

    @property
    def collection(self) -> "Collection":
        """Chroma's collection of chunk vectors."""
        return self._store.collection

    @property
    def sentences(self) -> "Collection":
        """Chroma's collection of sentence vectors."""
        return self._store.sentences

    # --- reading -----------------------------------------------------------------
    @property
    def bm25(self) -> LexicalIndex:
        """The lexical index: loaded from disk (memory-mapped), brought up to date when
        the reports changed."""
        with self._lock:
            return self._lexical.current(self.generation, self.reports, self._store)

    def refresh_lexical(self, progress: bool = False) -> None:
        """Bring the saved lexical index up to date with the reports (after an ingest)."""
        with self._lock:
            self._lexical.bring_up_to_date(self.generation, self.reports, self._store, progress)

    def dense_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest chunks."""
        n = min(n, self.chunk_count)
        return self._store.dense_search(vector, n) if n else {}

    def sentence_search(self, vector: list[float], n: int) -> dict[str, float]:
        """Cosine similarity of the `n` nearest sentences, by chunk: the best sentence
        score of each chunk that has one among them."""
        n = min(n, self.sentence_count)
        return self._store.sentence_search(vector, n) if n else {}

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        return self._store.vectors(ids)

    def sentence_vectors(self, ids: list[str]) -> dict[str, list[float]]:
        return self._store.sentence_vectors(ids)

    # --- checking ----------------------------------------------------------------
    def unfinished(self) -> list[str]:
        """Reports an interrupted ingest was writing."""
        return consistency.unfinished(self.reports)

    def damaged_doc_ids(self) -> set[str]:
        """Reports whose vectors in Chroma do not match their entry."""
        return consistency.damaged_doc_ids(self._store, self.reports)

    def stray_doc_ids(self) -> set[str]:
        """Reports that have vectors in Chroma but no entry."""
        return consistency.stray_doc_ids(self._store, self.reports)

    # --- writing -----------------------------------------------------------------
    def replace_document(
        self,
        doc: DocumentEntry,
        chunks: list[Chunk],
        chunk_tokens: list[list[str]],
        vectors: list[list[float]],
        sentences: list[Span],
        sentence_vectors: list[list[float]],
    ) -> None:
        """A report's chunks, with their BM25 tokens, and its sentences in place of what
        it had; its entry says "writing" until all are written. The tokens go to the
        lexical index from here: this process never reads back what it wrote."""
        doc_id = doc["doc_id"]
        with self._lock:
            self._lexical.forget(doc_id)
        self.reports.write({**doc, "state": "writing"})
        self._store.write_report(doc_id, chunks, chunk_tokens, vectors, sentences, sentence_vectors)
        self.reports.write({**doc, "state": "done"})
        with self._lock:
            self._lexical.hand_over(doc_id, [(c.chunk_id, t) for c, t in zip(chunks, chunk_tokens)])

    def relocate(self, doc_id: str, path: str, file: str) -> None:
        """Record a report's new location (the corpus was moved); its vectors stay."""
        self._store.relocate(doc_id, file)
        self.reports.write({**self.documents[doc_id], "path": path, "file": file})

    def remove_document(self, doc_id: str) -> None:
        if doc_id in self.documents:
            self.reports.write({**self.documents[doc_id], "state": "writing"})
        with self._lock:
            self._lexical.forget(doc_id)
        self._store.delete_report(doc_id)
        self.reports.delete(doc_id)

    def save(self) -> None:
        self.catalog.write(self.manifest, staged=self.staged)

    # --- generations and other processes --------------------------------------------
    def commit(self) -> None:
        """Make a staged rebuild the live index, then drop the generation it replaced."""
        if not self.staged:
            return
        self._generations.retire_live(self.manifest)
        self.save()
        self.catalog.promote()
        self.staged = False
        if self.chroma_url:  # other servers switch on their next question; let those in flight finish
            self.publish()
            time.sleep(SWITCH_GRACE_SECONDS)
        self._generations.drop_retired(self.manifest)

    def abandon(self) -> None:
        """Drop a staged rebuild; the live index is untouched."""
        if self.staged:
            self._generations.drop_abandoned_rebuild()

    def publish(self) -> None:
        """Tell every server reading this index that an ingest has ended."""
        self._refresher.publish()

    def refresh(self) -> bool:
        """Pick up another process's finished ingest (`refresh.py`): True when the index
        changed. Report entries and collections are swapped together; the lexical index
        follows on its next use, from the tokens in Chroma."""
        if self.staged:
            return False
        reloaded = self._refresher.reload(self.embedding, self.generation, self._store)
        if reloaded is None:
            return False
        with self._lock:
            self.manifest, self.reports, self._store = reloaded.manifest, reloaded.reports, reloaded.store
            self._refresher.version = reloaded.version
            self._lexical.forget()  # another process may have rewritten what this one handed over
        log.info("index changed by another ingest: %d reports, %d chunks", len(self.documents), self.chunk_count)
        return True
