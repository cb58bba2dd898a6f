"""Incremental ingest: unchanged reports (same content hash and chunk settings) are
skipped, changed ones replaced, removed ones deleted. Re-running never duplicates.

Each report records the chunk settings it was built with, so an interrupted ingest
keeps every report it finished. Reports whose vectors are missing from Chroma (a
deleted or damaged vector store) are embedded again and reported as repaired.

Files are named relative to the corpus folder in citations and messages
(`corpus.shown`); a link that leads out of it is skipped, and a report an older version
indexed through such a link is removed."""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from .chunking import VERSION as CHUNKER_VERSION
from .chunking import chunk_report, left_out_sentences, overlaps, searchable_text, sentence_units
from .corpus import SkippedFile, discover, file_sha256, read_report, shown
from .errors import CorpusPathError
from .formats import reader_version
from .index import SearchIndex
from .lexical import searchable_tokens
from .manifest import Chunking, DocumentEntry
from .planted import EMBEDDING as PLANTED_EMBEDDING
from .planted import classifier
from .token_states import TokenStateStore

EMBED_BATCH = 8  # a question waits for one batch: /api/ask p95 while a large report is indexed (bench/ingest_load.py)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped"
            + (f", {len(self.repaired)} repaired" if self.repaired else "")
            + f"; {self.chunks} chunks in the index "
            f"({self.seconds:.1f} s)"
        )


def _embed(embeddings: Embeddings, texts: list[str]) -> list[list[float]]:
    vectors: list[list[float]] = []
    for i in range(0, len(texts), EMBED_BATCH):
        vectors.extend(embeddings.embed_documents(texts[i : i + EMBED_BATCH]))
    return vectors


def _unchanged(old: DocumentEntry, file: Path, chunking: Chunking) -> bool:
    """The file is the one indexed, with today's chunk settings and reader. It is known
    by its bytes: a PDF is not read again (~0.2 s a report)."""
    return (
        old["sha256"] == file_sha256(file)
        and old["chunking"] == chunking
        and old.get("reader", 0) == reader_version(file)
    )


def _check_folders_still_hold_reports(
    index: SearchIndex, paths: list[Path], files: list[tuple[Path, str]], base: Path
) -> None:
    """Refuse to treat an empty folder (an unmounted share, a wrong path) as every
    report in it having been deleted."""
    for given in (p for p in paths if p.is_dir()):
        root = given.resolve()
        if any(f.is_relative_to(root) for f, _ in files):
            continue
        indexed = [d for d in index.documents.values() if Path(d["path"]).is_relative_to(root)]
        if indexed:
            raise CorpusPathError(
                f"{shown(given, base)} holds no files, but the index has {len(indexed)} reports from it; nothing was "
                f"removed. If they were really deleted, delete the index folder and ingest again"
            )


def _forget_linked(index: SearchIndex, files: list[tuple[Path, str]], skipped: list[SkippedFile]) -> list[str]:
    """Reports an older version indexed through a link that leads out of the corpus
    folder (under the absolute path it pointed to), now that such links are skipped."""
    targets = [s.target for s in skipped if s.target is not None]
    ids = {doc_id for _, doc_id in files}
    gone = [
        doc_id
        for doc_id, d in index.documents.items()
        if doc_id not in ids and Path(doc_id).is_absolute() and any(Path(d["path"]).is_relative_to(t) for t in targets)
    ]
    for doc_id in gone:
        index.remove_document(doc_id)
    return gone


def _forget_renamed(index: SearchIndex, files: list[tuple[Path, str]], report: IngestReport) -> None:
    """A file indexed under another id (an older naming, another corpus folder) is
    removed under that id before it is added under its own, so it is never held twice."""
    ids = {doc_id for _, doc_id in files}
    by_path = {d["path"]: doc_id for doc_id, d in index.documents.items()}
    for file, doc_id in files:
        old_id = by_path.get(str(file.resolve()))
        if old_id is not None and old_id != doc_id and old_id not in ids:
            index.remove_document(old_id)
            report.removed.append(old_id)


def ingest(
    index: SearchIndex,
    embeddings: Embeddings,
    paths: list[Path],
    base: Path,
    chunk_size: int,
    chunk_overlap: int,
    progress: bool = True,
    tokens: TokenStateStore | None = None,
    added_by: str | None = None,
    reread: frozenset[str] = frozenset(),
) -> IngestReport:
    """Bring `index` up to date with the reports under `paths`; doc ids are relative to
    `base` (the corpus folder). A staged rebuild is committed only when it succeeded.
    With `tokens`, each report's sentences get their token states (`token_states.py`).
    Each report indexed anew records when, and `added_by` who (the library shows it).
    The reports named in `reread` are read and indexed again even when unchanged."""
    started = time.perf_counter()
    report = IngestReport()
    files, report.skipped = discover(paths, base)
    chunking: Chunking = {"size": chunk_size, "overlap": chunk_overlap, "version": CHUNKER_VERSION}
    pending = set(index.unfinished())
    damaged = index.damaged_doc_ids()
    _check_folders_still_hold_reports(index, paths, files, base)
    _forget_renamed(index, files, report)
    report.removed += _forget_linked(index, files, report.skipped)

    def add(file: Path, doc_id: str, old: DocumentEntry | None) -> bool:
        try:
            if old is not None and doc_id not in damaged | pending | reread and _unchanged(old, file, chunking):
                if old["path"] != str(file.resolve()) or old["file"] != shown(file, base):  # the corpus moved
                    index.relocate(doc_id, str(file.resolve()), shown(file, base))
                report.unchanged.append(doc_id)
                return True
            doc = read_report(file, doc_id)
        except (ValueError, OSError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)  # no server path
            name = shown(file, base)
            report.skipped.append(SkippedFile(Path(name), why.replace(str(file.resolve()), name)))
            return False
        units = sentence_units(doc.text, chunk_size)
        unit_vectors = _embed(embeddings, [u.text for u in units])
        e5 = unit_vectors if index.embedding == PLANTED_EMBEDDING else None  # the classifier's own vectors
        flags = classifier().flags([u.text for u in units], e5)
        left_out = left_out_sentences(doc.text, [u for u, f in zip(units, flags) if f])
        kept = [i for i, u in enumerate(units) if not overlaps(u, left_out)]
        units, sentence_vectors = [units[i] for i in kept], [unit_vectors[i] for i in kept]
        chunks = chunk_report(doc, shown(file, base), chunk_size, chunk_overlap, left_out)
        searchable = [searchable_text(c.text, c.start, c.left_out) for c in chunks]  # embedded and counted by BM25
        vectors = _embed(embeddings, searchable)
        counted = [searchable_tokens(s) for s in searchable]  # made once: stored, and handed to BM25
        entry: DocumentEntry = {
            "doc_id": doc_id,
            "sha256": doc.sha256,
            "path": str(file.resolve()),
            "file": shown(file, base),
            "title": doc.title,
            "source_url": doc.source_url,
            "chunks": len(chunks),
            "sentences": len(units),
            "chunking": chunking,
            "state": "done",
            "reader": reader_version(file),
            "paragraphs": sum(1 for line in doc.text.splitlines() if line.strip()),
            "indexed_at": time.time(),
        }
        pages = {label for _, label in doc.locations if label.startswith("page ")}
        if pages:
            entry["pages"] = len(pages)
        if added_by:
            entry["added_by"] = added_by
        if tokens is not None:  # before the report is served, so its first question finds them
            tokens.warm([doc.title, *(u.text for u in units)])
        index.replace_document(entry, chunks, counted, vectors, units, sentence_vectors)
        if doc_id in damaged and old and old["sha256"] == doc.sha256:
            report.repaired.append(doc_id)
        else:
            (report.updated if old else report.added).append(doc_id)
        return True

    seen: dict[str, Path] = {}
    bar = tqdm(files, desc="ingest", unit="report", disable=not progress)
    for file, doc_id in bar:
        bar.set_postfix_str(doc_id[-30:])
        if doc_id in seen:
            same = f"same document id as {shown(seen[doc_id], base)}"
            report.skipped.append(SkippedFile(Path(shown(file, base)), same))
            continue
        seen[doc_id] = file
        add(file, doc_id, index.documents.get(doc_id))

    roots = [str(p.resolve()) for p in paths if p.is_dir()]
    current = {str(f.resolve()) for f, _ in files}
    for doc_id, doc in list(index.documents.items()):
        under_root = any(doc["path"].startswith(root + os.sep) for root in roots)
        if under_root and doc["path"] not in current:
            index.remove_document(doc_id)
            report.removed.append(doc_id)
        elif doc_id in damaged and doc_id not in seen:  # outside this run's paths: from where it was read
            if not add(Path(doc["path"]), doc_id, doc):
                index.remove_document(doc_id)
                report.removed.append(doc_id)
    for doc_id in index.unfinished():  # interrupted earlier and not among the paths given now
        report.removed.append(doc_id)
        index.remove_document(doc_id)
    for doc_id in index.stray_doc_ids():
        index.remove_document(doc_id)

    index.manifest["chunking"] = chunking
    index.save()
    index.refresh_lexical(progress)
    if index.staged:
        if not index.documents:
            index.abandon()
            where = ", ".join(shown(p, base) for p in paths)
            raise CorpusPathError(f"no readable reports under {where}; the index was left as it was")
        index.commit()
    report.chunks = index.chunk_count
    report.seconds = time.perf_counter() - started
    return report
