"""Where an index keeps its manifest and its report entries (`manifest.py`).

- `FolderCatalog` (embedded Chroma): files in the index folder, `manifest.json` and one
  JSON file per report in `reports[_gen]/`. One ingest at a time per folder (a file lock).
- `ChromaCatalog` (with `chroma_url`): records in the `assistant_catalog` collection of
  the Chroma server, beside the vectors. Every assistant server pointed at that Chroma
  reads the same catalog, so servers are stateless: their index folders hold only
  caches (the saved lexical index), and any of them can be replaced or added. One
  ingest at a time per Chroma server: a lease record that a second ingest respects
  (Chroma has no compare-and-set, so two ingests started within the same fraction of a
  second could both pass; the README says to run ingest from one place).

Readers notice an ingest through `version()`, which an ingest changes once, when it
ends (`publish`, also after a failed ingest, whose finished reports are live): a
server reloads once per ingest, never halfway through one."""

import fcntl
import hashlib
import json
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from . import chroma
from .errors import IndexBusyError, IndexCorruptError
from .manifest import (
    MANIFEST,
    STAGED,
    DocumentEntry,
    Manifest,
    ReportEntries,
    ensure_folder,
    parse_entry,
    parse_manifest,
    read_json,
    read_manifest,
    suffix,
    write_json,
)

if TYPE_CHECKING:
    from chromadb.api.types import GetResult, PyEmbedding

CATALOG = "assistant_catalog"
_PUBLISHED, _LOCK_FILE = ".published", ".ingest.lock"  # in an index folder
LEASE_SECONDS = 300.0  # an ingest lease not renewed for this long is a crashed ingest's


class Catalog(Protocol):
    def read(self, staged: bool = False) -> Manifest | None: ...
    def write(self, manifest: Manifest, staged: bool = False) -> None: ...
    def promote(self) -> None: ...
    def discard_staged(self) -> None: ...
    def entries(self, generation: str) -> ReportEntries: ...
    def drop_entries(self, generation: str) -> None: ...
    def version(self) -> str: ...
    def publish(self) -> None: ...
    def ingesting(self) -> bool: ...
    def lock(self) -> AbstractContextManager[None]: ...


def catalog_for(index_dir: Path, chroma_url: str | None) -> "Catalog":
    return ChromaCatalog(index_dir, chroma_url) if chroma_url else FolderCatalog(index_dir)


def _entry_name(doc_id: str) -> str:
    return hashlib.sha1(doc_id.encode()).hexdigest()[:24]


# --- files in the index folder ----------------------------------------------------------
class FolderCatalog:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def read(self, staged: bool = False) -> Manifest | None:
        return read_manifest(self.index_dir, STAGED if staged else MANIFEST)

    def write(self, manifest: Manifest, staged: bool = False) -> None:
        write_json(self.index_dir / (STAGED if staged else MANIFEST), manifest)

    def promote(self) -> None:
        (self.index_dir / STAGED).replace(self.index_dir / MANIFEST)

    def discard_staged(self) -> None:
        (self.index_dir / STAGED).unlink(missing_ok=True)

    def entries(self, generation: str) -> ReportEntries:
        return ReportEntries(_FolderEntries(self.index_dir / f"reports{suffix(generation)}", self.index_dir))

    def drop_entries(self, generation: str) -> None:
        shutil.rmtree(self.index_dir / f"reports{suffix(generation)}", ignore_errors=True)

    def version(self) -> str:
        try:
            return (self.index_dir / _PUBLISHED).read_text(encoding="utf-8")
        except OSError:
            return ""

    def publish(self) -> None:
        try:
            (self.index_dir / _PUBLISHED).write_text(uuid.uuid4().hex, encoding="utf-8")
        except OSError:  # a read-only folder: nothing was ingested into it either
            pass

    def ingesting(self) -> bool:
        try:
            with open(self.index_dir / _LOCK_FILE, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One ingest at a time per index folder (an advisory lock on a file in it); a
        second one is refused rather than left to interleave its writes with the first."""
        ensure_folder(self.index_dir)
        with open(self.index_dir / _LOCK_FILE, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    f"another ingest is writing the index at {self.index_dir}; wait for it to finish and run this "
                    "one again"
                ) from None
            yield


class _FolderEntries:
    def __init__(self, folder: Path, index_dir: Path) -> None:
        self.folder = folder
        self.index_dir = index_dir

    def load_all(self) -> list[DocumentEntry]:
        if not self.folder.is_dir():
            return []
        paths = sorted(self.folder.glob("*.json"))
        return [parse_entry(read_json(p, self.index_dir), str(p), self.index_dir) for p in paths]

    def put(self, entry: DocumentEntry) -> None:
        self.folder.mkdir(exist_ok=True)
        write_json(self.folder / f"{_entry_name(entry['doc_id'])}.json", entry)

    def remove(self, doc_id: str) -> None:
        (self.folder / f"{_entry_name(doc_id)}.json").unlink(missing_ok=True)


# --- records on a shared Chroma server ---------------------------------------------------
_MANIFEST_ID, _STAGED_ID, _LOCK_ID, _VERSION_ID = "manifest", "manifest.rebuild", "ingest.lock", "published"
_PLACE: "PyEmbedding" = [1.0]  # Chroma stores a vector with every record; catalog records need none


def _record_json(meta: Mapping[str, Any], where: str) -> object:
    """The JSON a catalog record holds."""
    try:
        return json.loads(meta["json"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"cannot read {where} ({exc}); run `assistant ingest --rebuild`") from None


def _fresh(lease: Mapping[str, Any] | None) -> TypeGuard[Mapping[str, Any]]:
    """A lease record that has not lapsed."""
    return lease is not None and float(lease.get("expires", 0)) > time.time()


class ChromaCatalog:
    def __init__(self, index_dir: Path, chroma_url: str) -> None:
        self.index_dir = index_dir
        self.where = chroma_url
        self._records = chroma.catalog_collection(index_dir, chroma_url, CATALOG)
        self._lease: str | None = None  # this process's lease, while it ingests
        self._renewed = 0.0

    def _get(self, record: str) -> Mapping[str, Any] | None:
        got = self._records.get(ids=[record], include=["metadatas"])
        return chroma.metadatas(got)[0] if got["ids"] else None

    def put_record(self, record: str, meta: Mapping[str, Any]) -> None:
        self._records.upsert(ids=[record], embeddings=[_PLACE], metadatas=[meta])

    def read(self, staged: bool = False) -> Manifest | None:
        record = _STAGED_ID if staged else _MANIFEST_ID
        meta = self._get(record)
        if meta is None:
            return None
        where = f"the catalog record {record!r} on {self.where}"
        return parse_manifest(_record_json(meta, where), where, self.index_dir)

    def write(self, manifest: Manifest, staged: bool = False) -> None:
        self.renew()
        self.put_record(_STAGED_ID if staged else _MANIFEST_ID, {"json": json.dumps(manifest, ensure_ascii=False)})

    def promote(self) -> None:
        """The staged manifest becomes the live one (one record write). Its staged copy
        is removed after; a crash in between leaves a staged record naming the live
        generation, which `SearchIndex` recognises and never drops."""
        staged = self._get(_STAGED_ID)
        if staged is None:
            raise IndexCorruptError(f"no staged rebuild to commit on {self.where}")
        self.put_record(_MANIFEST_ID, staged)
        self.discard_staged()

    def delete_records(self, *records: str) -> None:
        self._records.delete(ids=list(records))

    def report_pages(self, generation: str) -> Iterator["GetResult"]:
        """The report records of `generation`, a page of metadatas at a time."""
        yield from chroma.pages(
            self._records, ["metadatas"], {"$and": [{"kind": "report"}, {"generation": generation}]}
        )

    def discard_staged(self) -> None:
        self.delete_records(_STAGED_ID)

    def entries(self, generation: str) -> ReportEntries:
        return ReportEntries(_ChromaEntries(self, generation))

    def drop_entries(self, generation: str) -> None:
        self._records.delete(where={"$and": [{"kind": "report"}, {"generation": generation}]})

    def version(self) -> str:
        meta = self._get(_VERSION_ID)
        return str(meta.get("version", "")) if meta else ""

    def publish(self) -> None:
        self.put_record(_VERSION_ID, {"version": uuid.uuid4().hex})

    def ingesting(self) -> bool:
        return _fresh(self._get(_LOCK_ID))

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One ingest at a time on the Chroma server: a lease record, renewed as the
        ingest writes, that another ingest refuses to take while it is fresh."""
        held = self._get(_LOCK_ID)
        if _fresh(held):
            raise IndexBusyError(
                f"another ingest (on {held.get('host', '?')}) is writing the shared index on {self.where}; wait "
                "for it to finish and run this one again"
            )
        mine = uuid.uuid4().hex
        self.put_record(_LOCK_ID, {"owner": mine, "host": socket.gethostname(), "expires": time.time() + LEASE_SECONDS})
        time.sleep(0.2)  # a second ingest that wrote its lease at the same moment: the last write wins
        if (self._get(_LOCK_ID) or {}).get("owner") != mine:
            raise IndexBusyError(f"another ingest took the shared index on {self.where} at the same moment")
        self._lease, self._renewed = mine, time.monotonic()
        try:
            yield
        finally:
            if (self._get(_LOCK_ID) or {}).get("owner") == mine:
                self.delete_records(_LOCK_ID)
            self._lease = None

    def renew(self) -> None:
        """Keep this ingest's lease fresh (called as it writes); stop if it was lost (it
        lapsed and another ingest took it) rather than write beside that ingest. Lease
        times are wall-clock: the hosts' clocks must agree to within minutes."""
        if self._lease and time.monotonic() - self._renewed > LEASE_SECONDS / 10:
            if (self._get(_LOCK_ID) or {}).get("owner") != self._lease:
                raise IndexBusyError(f"this ingest's lease on {self.where} lapsed and another ingest took it; stopped")
            expires = time.time() + LEASE_SECONDS
            self.put_record(_LOCK_ID, {"owner": self._lease, "host": socket.gethostname(), "expires": expires})
            self._renewed = time.monotonic()


class _ChromaEntries:
    def __init__(self, catalog: ChromaCatalog, generation: str) -> None:
        self.catalog = catalog
        self.generation = generation

    def _id(self, doc_id: str) -> str:
        return f"report/{self.generation}/{_entry_name(doc_id)}"

    def load_all(self) -> list[DocumentEntry]:
        out = []
        for page in self.catalog.report_pages(self.generation):
            for record, meta in zip(page["ids"], chroma.metadatas(page)):
                place = f"the catalog record {record!r} on {self.catalog.where}"
                out.append(parse_entry(_record_json(meta, place), place, self.catalog.index_dir))
        return out

    def put(self, entry: DocumentEntry) -> None:
        self.catalog.renew()
        meta = {"kind": "report", "generation": self.generation, "doc_id": entry["doc_id"],
                "json": json.dumps(entry, ensure_ascii=False)}  # fmt: skip
        self.catalog.put_record(self._id(entry["doc_id"]), meta)

    def remove(self, doc_id: str) -> None:
        self.catalog.delete_records(self._id(doc_id))
