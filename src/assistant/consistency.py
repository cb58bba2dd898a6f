"""Whether what Chroma holds agrees with the report entries, and what an ingest or an
opening does when it does not.

A report's entry says "writing" while its vectors are replaced, so an interrupted ingest
is detected and the next one redoes that report. Only reports that say "done" are ever
cited (`ReportEntries.done`); opening an index an ingest was killed in drops the
half-written reports (`drop_unfinished`) and serves the rest. Vectors missing for a
report (a deleted or damaged vector store) or held for no report (outside meddling) show
in the totals first: the costlier per-report counts and sweeps run only when they differ."""

import logging
from collections.abc import Callable
from pathlib import Path

from .catalog import Catalog
from .chunk_store import ChunkStore
from .errors import IndexBusyError, IndexCorruptError, IndexPathError
from .manifest import ReportEntries

log = logging.getLogger(__name__)


def unfinished(reports: ReportEntries) -> list[str]:
    """Reports an interrupted ingest was writing."""
    return [doc_id for doc_id, d in reports.entries.items() if d["state"] != "done"]


def check_totals(store: ChunkStore, reports: ReportEntries, index_dir: Path) -> None:
    """Refuse to open an index whose vector counts differ from its reports'."""
    count, expected = store.collection.count(), reports.chunk_count()
    if count != expected:
        raise IndexCorruptError(
            f"index at {index_dir} is inconsistent: Chroma holds {count} vectors but the reports "
            f"list {expected} chunks; run `assistant ingest` to repair"
        )
    stored = store.sentences.count()
    if stored != reports.sentence_count():
        raise IndexCorruptError(
            f"index at {index_dir} is inconsistent: Chroma holds {stored} sentence vectors "
            f"but the reports list {reports.sentence_count()} sentences; run `assistant ingest` to repair"
        )


def totals_agree(store: ChunkStore, reports: ReportEntries) -> bool:
    """Chroma holds as many chunk and sentence vectors as the reports list."""
    chunks, sentences = reports.chunk_count(), reports.sentence_count()
    return store.collection.count() == chunks and store.sentences.count() == sentences


def damaged_doc_ids(store: ChunkStore, reports: ReportEntries) -> set[str]:
    """Reports whose vectors in Chroma do not match their entry (a deleted or damaged
    vector store)."""
    if totals_agree(store, reports):
        return set()
    return {d for d, e in reports.entries.items() if store.report_counts(d) != (e["chunks"], e["sentences"])}


def stray_doc_ids(store: ChunkStore, reports: ReportEntries) -> set[str]:
    """Reports that have vectors in Chroma but no entry. Writes mark a report's entry
    before its vectors change, so strays come only from outside meddling."""
    if totals_agree(store, reports):
        return set()
    return store.doc_ids() - set(reports.entries)


def drop_unfinished(
    catalog: Catalog, reports: ReportEntries, remove: Callable[[str], None], publish: Callable[[], None]
) -> list[str]:
    """Drop (`remove`) the reports an interrupted ingest (killed mid-write) left
    half-written, vectors and entries, so the index is consistent again; the next
    `assistant ingest` adds them anew from their files. Taken under the ingest lock; when
    that cannot be had (an ingest started, a read-only folder), they stay out of answers.
    Returns those left."""
    try:
        with catalog.lock():
            reports.load()  # as they are now that no ingest can change them
            writing = unfinished(reports)
            for doc_id in writing:
                remove(doc_id)
            if writing:
                publish()  # other servers reload
                log.warning("dropped %s, left half-written by an interrupted ingest; run `assistant ingest` to "
                            "add it again", ", ".join(writing))  # fmt: skip
    except (IndexBusyError, IndexPathError, OSError) as exc:
        log.warning("reports left half-written by an interrupted ingest are not answered from (%s)", exc)
    return unfinished(reports)
