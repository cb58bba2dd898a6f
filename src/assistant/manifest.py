"""What an index records beside its vectors, validated as typed models when read.

- the manifest (`manifest.json`): the index settings only (format, the embedding that built it, chunk
  settings, the generation of its collections). Small, written at the start and end of
  an ingest, replaced in one atomic step.
- one small entry per report (content hash, path, title, counts, chunk settings, and its
  state: "writing" while its vectors are being replaced, then "done"). Written per
  report, so an ingest never rewrites what it did not change.

Both live where the index's catalog keeps them (`catalog.py`): files in the index
folder, or records in a shared Chroma server."""

import hashlib
import json
import os
from pathlib import Path
from typing import Literal, NotRequired, Protocol

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs it on Python 3.11

from .errors import IndexCorruptError, IndexMismatchError, IndexPathError

FORMAT = 3  # 3: chunk texts in Chroma, one file per report, a saved lexical index
MANIFEST = "manifest.json"
STAGED = "manifest.rebuild.json"  # the manifest of a rebuild in progress


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
    chunking: Chunking
    state: Literal["writing", "done"]
    reader: NotRequired[int]  # formats.reader_version of the file when it was read (absent: 0)
    paragraphs: NotRequired[int]  # non-empty lines of its text (the library shows them)
    pages: NotRequired[int]  # a PDF's pages
    indexed_at: NotRequired[float]  # when this version was indexed (Unix time)
    added_by: NotRequired[str]  # who indexed it: a chat login or "command line (user)"


class Manifest(TypedDict):
    format: int
    embedding: str
    dimension: int | None
    chunking: Chunking | None
    generation: str  # suffix of the collection and folder names; "" for the first build
    retired: NotRequired[str]  # a generation a rebuild replaced, until its collections are dropped


_MANIFEST = TypeAdapter(Manifest)
_ENTRY = TypeAdapter(DocumentEntry)


def suffix(generation: str) -> str:
    return f"_{generation}" if generation else ""


def ensure_folder(index_dir: Path) -> None:
    """Create the index folder, or say in one line why it cannot be used."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexPathError(f"the index path {index_dir} is a file, not a folder; choose another --index")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexPathError(f"cannot create the index folder {index_dir}: {exc.strerror or exc}") from None
    if not os.access(index_dir, os.W_OK | os.X_OK):
        raise IndexPathError(f"the index folder {index_dir} is not writable; ingest needs write access")


def write_json(path: Path, data: object) -> None:
    """Written to a temporary file and renamed into place: never half a file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise IndexPathError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_manifest(index_dir: Path, name: str = MANIFEST) -> Manifest | None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexPathError(f"the index path {index_dir} is a file, not a folder; point --index at a folder")
    path = index_dir / name
    if not path.exists():
        return None
    return parse_manifest(read_json(path, index_dir), str(path), index_dir)


def parse_manifest(raw: object, where: str, index_dir: Path) -> Manifest:
    """A manifest read from `where` (a file, a catalog record), checked."""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise _corrupt(where, index_dir, f"format {found!r}, expected {FORMAT}: not written by this version")
    return _validated(_MANIFEST, raw, where, index_dir)


def parse_entry(raw: object, where: str, index_dir: Path) -> DocumentEntry:
    return _validated(_ENTRY, raw, where, index_dir)


def check_embedding(manifest: Manifest, embedding: str, index_dir: Path) -> None:
    """Refuse an index built with another embedding than the one the assistant is set to."""
    built_with = manifest.get("embedding")
    if built_with != embedding:
        raise IndexMismatchError(
            f"the index at {index_dir} was built with embedding {built_with!r} but the "
            f"assistant is set to {embedding!r}; re-ingest with `assistant ingest --rebuild` "
            f"or set ASSISTANT_EMBEDDING={built_with!r}"
        )


class EntryStore(Protocol):
    """Where one generation's report entries are kept (`catalog.py`)."""

    def load_all(self) -> list[DocumentEntry]: ...
    def put(self, entry: DocumentEntry) -> None: ...
    def remove(self, doc_id: str) -> None: ...


class ReportEntries:
    """The report entries of one index generation, held in memory as a dict and
    written through to their store one report at a time."""

    def __init__(self, store: EntryStore) -> None:
        self.store = store
        self.entries: dict[str, DocumentEntry] = {}
        self._fingerprint: str | None = None
        self._done: frozenset[str] | None = None

    def load(self) -> "ReportEntries":
        self.entries = {entry["doc_id"]: entry for entry in self.store.load_all()}
        self._changed()
        return self

    def write(self, entry: DocumentEntry) -> None:
        self.store.put(entry)
        self.entries[entry["doc_id"]] = entry
        self._changed()

    def delete(self, doc_id: str) -> None:
        self.store.remove(doc_id)
        self.entries.pop(doc_id, None)
        self._changed()

    def _changed(self) -> None:
        self._fingerprint, self._done = None, None

    def done(self) -> frozenset[str]:
        """The reports whose last write finished (cached until the entries change)."""
        if self._done is None:
            self._done = frozenset(d for d, e in self.entries.items() if e["state"] == "done")
        return self._done

    def chunk_count(self) -> int:
        """Chunks the reports say the index holds."""
        return sum(e["chunks"] for e in self.entries.values())

    def sentence_count(self) -> int:
        """Sentences the reports say the index holds."""
        return sum(e["sentences"] for e in self.entries.values())

    def fingerprint(self) -> str:
        """Changes whenever a report is added, changed, re-chunked or removed (cached
        until the entries change)."""
        if self._fingerprint is None:
            digest = hashlib.sha256()
            for doc_id in sorted(self.entries):
                e = self.entries[doc_id]
                digest.update(json.dumps([doc_id, e["sha256"], e["chunks"], e["chunking"]]).encode())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint


def read_json(path: Path, index_dir: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _corrupt(path, index_dir, str(exc)) from None
    except OSError as exc:
        raise IndexPathError(f"cannot read {path}: {exc.strerror or exc}") from None


def _validated(adapter: TypeAdapter, raw: object, where: str | Path, index_dir: Path):
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _corrupt(where, index_dir, f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _corrupt(where: str | Path, index_dir: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(f"cannot read {where} ({why}); delete {index_dir} or run `assistant ingest --rebuild`")
