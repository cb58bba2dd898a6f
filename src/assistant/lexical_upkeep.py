"""Keeping one index's lexical index current with its reports, at the cost of what
changed: the saved one is used while it matches the reports; else updated with the
reports that changed since (`LexicalIndex.updated`); else, with none saved or a fifth of
it changed by updates (`STALE_SHARE`), built anew from every chunk's tokens.

Tokens reach it two ways. The process that writes a report hands its chunks' tokens over
(`hand_over`), so an ingest never reads back from Chroma what it has just written there.
What this process did not write (another process's ingest, an index opened without a
saved lexical index, the unchanged reports of a full build) is read from Chroma, where
ingest stores the tokens beside each chunk (`ChunkStore.stored_tokens`)."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from .chunk_store import ChunkStore, ChunkTokens
from .lexical import STALE_SHARE, LexicalIndex
from .manifest import DocumentEntry, ReportEntries, suffix

log = logging.getLogger(__name__)


class LexicalUpkeep:
    """The lexical index of one index folder and the tokens handed to it since it was
    last brought up to date. Not thread-safe: `SearchIndex` calls it under its lock."""

    def __init__(self, index_dir: Path) -> None:
        self._index_dir = index_dir
        self._current: LexicalIndex | None = None
        self._handed: dict[str, list[ChunkTokens]] = {}  # report -> its chunks' tokens, in the order written

    def hand_over(self, doc_id: str, chunk_tokens: list[ChunkTokens]) -> None:
        """The tokens of a report this process has just written, as Chroma now holds them."""
        self._handed.pop(doc_id, None)  # a report written again comes last, as in Chroma
        self._handed[doc_id] = chunk_tokens

    def forget(self, doc_id: str | None = None) -> None:
        """Drop what was handed over for a report (removed), or for all (another process
        may have written them since)."""
        if doc_id is None:
            self._handed.clear()
        else:
            self._handed.pop(doc_id, None)

    def current(self, generation: str, reports: ReportEntries, store: ChunkStore) -> LexicalIndex:
        """The lexical index of the reports as they are, brought up to date when they changed."""
        if self._current is None or self._current.fingerprint != reports.fingerprint():
            self._current = self._load_or_build(generation, reports, store, progress=False)
        return self._current

    def bring_up_to_date(self, generation: str, reports: ReportEntries, store: ChunkStore, progress: bool) -> None:
        """Bring the saved lexical index up to date with the reports (after an ingest)."""
        self._current = self._load_or_build(generation, reports, store, progress)

    def _load_or_build(
        self, generation: str, reports: ReportEntries, store: ChunkStore, progress: bool
    ) -> LexicalIndex:
        folder = self._index_dir / f"lexical{suffix(generation)}"
        documents, fingerprint = reports.entries, reports.fingerprint()
        saved = LexicalIndex.load(folder)
        keys = {doc_id: _report_key(documents[doc_id]) for doc_id in reports.done()}
        expected = sum(documents[d]["chunks"] for d in keys)
        if saved is not None and saved.fingerprint == fingerprint and len(saved) == expected:
            self._handed.clear()  # what was handed is in it
            return saved
        built = None
        if saved is not None and saved.report_keys and len(saved):
            unchanged = {d for d, key in keys.items() if saved.report_keys.get(d) == key}
            held = saved.chunks_by_report()
            gone = set(held) - unchanged
            new = sorted(set(keys) - unchanged)
            change = max(sum(held[d] for d in gone), sum(documents[d]["chunks"] for d in new))
            if saved.stats["stale"] + change <= STALE_SHARE * expected:  # else its statistics would drift
                update = saved.updated(gone, list(self._tokens(new, store)), fingerprint, keys)
                if len(update) == expected:  # else something outside ingest changed Chroma: build anew
                    built = update
        if built is None:  # the chunks of the reports served, as Chroma holds them now
            bar = tqdm(self._tokens(sorted(keys), store), total=expected, desc="lexical index", unit="chunk",
                       disable=not progress)  # fmt: skip
            built = LexicalIndex.build(bar, fingerprint, keys)
        self._handed.clear()
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)  # a server's first use of a shared index
            built.save(folder)
        except OSError as exc:  # a read-only folder still answers, from memory
            log.warning("cannot save the lexical index in %s (%s); it is kept in memory", folder, exc)
        return built

    def _tokens(self, doc_ids: list[str], store: ChunkStore) -> Iterator[ChunkTokens]:
        """The tokens of the chunks of `doc_ids` in the order Chroma holds them: those this
        process did not write read from Chroma (written earlier), then those handed over,
        in the order written."""
        stored = [d for d in doc_ids if d not in self._handed]
        if stored:
            yield from store.stored_tokens(stored)
        wanted = set(doc_ids)
        for doc_id, chunk_tokens in self._handed.items():
            if doc_id in wanted:
                yield from chunk_tokens


def _report_key(doc: DocumentEntry) -> str:
    """What a report's chunks depend on: its content and how it was chunked."""
    return f"{doc['sha256']}:{doc['chunks']}:{json.dumps(doc['chunking'], sort_keys=True)}"
