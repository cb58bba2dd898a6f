"""The generations of an index. A rebuild writes a new generation (collections, report
entries, lexical index) beside the live one, and its commit swaps the manifest in with
one atomic step (`Catalog.promote`) before anything old is dropped: the live index
answers until the new one is complete. What a replaced generation (`retired` in the
manifest) or an abandoned rebuild left is dropped, again after a crash in between. One
ingest at a time (`Catalog.lock`)."""

import logging
import shutil
import uuid
from pathlib import Path

from . import chroma
from .catalog import Catalog, FolderCatalog
from .errors import IndexCorruptError, IndexMissingError
from .manifest import FORMAT, Manifest, suffix

log = logging.getLogger(__name__)
SWITCH_GRACE_SECONDS = 3.0  # after a shared rebuild is committed, before the old generation is dropped


class Generations:
    """The generations of the index in one folder or on one Chroma server: which is live,
    which an ingest writes, and dropping what a replaced or abandoned one left."""

    def __init__(self, index_dir: Path, catalog: Catalog, chroma_url: str | None) -> None:
        self.index_dir = index_dir
        self.catalog = catalog
        self.chroma_url = chroma_url

    def live(self) -> Manifest:
        """The manifest of the live generation; IndexMissingError when there is none."""
        manifest = self.catalog.read()
        if manifest is None and self.chroma_url and FolderCatalog(self.index_dir).read() is not None:
            raise IndexMissingError(
                f"the index folder {self.index_dir} was built for the Chroma server at {self.chroma_url} by an "
                "older version; run `assistant ingest` once to move its catalog onto the server"
            )
        if manifest is None:
            where = f"on the Chroma server at {self.chroma_url}" if self.chroma_url else f"at {self.index_dir}"
            raise IndexMissingError(f"no index {where}; run `assistant ingest` first")
        return manifest

    def to_ingest(self, embedding: str, dimension: int, rebuild: bool) -> Manifest:
        """The manifest of the generation an ingest writes: the live one, or with
        `rebuild` (or none yet) a new one."""
        if self.chroma_url and not rebuild and self.catalog.read() is None:
            self._move_folder_catalog()
        manifest = None if rebuild else self.catalog.read()
        if manifest is None:
            manifest = {"format": FORMAT, "embedding": embedding, "dimension": dimension, "chunking": None,
                        "generation": uuid.uuid4().hex[:8] if rebuild else ""}  # fmt: skip
        return manifest

    def retire_live(self, staged: Manifest) -> None:
        """Before a rebuild is committed: name the live generation it replaces in its
        manifest (`retired`), dropping one an earlier crash left retired."""
        try:
            replaced = self.catalog.read()
        except IndexCorruptError:  # what a rebuild is for: an unreadable or older index
            replaced = None
        if replaced and replaced.get("retired") not in (None, staged["generation"]):  # left by an earlier crash
            self.drop(replaced["retired"])
        staged["retired"] = replaced["generation"] if replaced else ""

    def drop_retired(self, live: Manifest) -> None:
        """Drop what the generation a rebuild replaced left (again after a crash), then
        say so in the live manifest."""
        if "retired" not in live or live["retired"] == live["generation"]:
            live.pop("retired", None)
            return
        self.drop(live["retired"])
        del live["retired"]
        self.catalog.write(live)

    def drop_abandoned_rebuild(self) -> None:
        """Remove what an interrupted or refused rebuild left: its staged manifest, collections and entries."""
        try:
            left = self.catalog.read(staged=True)
            live = self.catalog.read()
        except IndexCorruptError:
            left, live = None, None
        in_use = {live["generation"], live.get("retired")} if live else set()
        if left is not None and left.get("generation") and left["generation"] not in in_use:
            self.drop(left["generation"])  # (a crash right after a commit leaves the live one staged)
        self.catalog.discard_staged()

    def drop(self, generation: str) -> None:
        """A generation's collections, report entries and saved lexical index."""
        chroma.drop_collections(self.index_dir, self.chroma_url, generation)
        self.catalog.drop_entries(generation)
        shutil.rmtree(self.index_dir / f"lexical{suffix(generation)}", ignore_errors=True)

    def _move_folder_catalog(self) -> None:
        """An index folder built for a Chroma server by an older version kept the catalog
        in files: copy its manifest and report entries onto the server, so its vectors are
        used rather than embedded again."""
        folder = FolderCatalog(self.index_dir)
        manifest = folder.read()
        if manifest is None:
            return
        target = self.catalog.entries(manifest["generation"])
        for entry in folder.entries(manifest["generation"]).load().entries.values():
            target.write(entry)
        self.catalog.write(manifest)
        log.info("moved the catalog of %s onto the Chroma server", self.index_dir)
