"""Picking up another process's ingest without a restart. Every ingest ends by changing
the catalog's version (`publish`); a server asks for it at most once a second
(`REFRESH_SECONDS`), and when it changed reloads the report entries and reopens its
collections (an embedded Chroma loaded anew from disk: a process's copy of the vector
index never sees another process's writes); its lexical index follows on its next use,
from the tokens stored in Chroma (`lexical_upkeep.py`). The catalog is not asked while
an ingest is writing: a server reloads once per ingest, never halfway through one."""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .chunk_store import ChunkStore
from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from .manifest import Manifest, ReportEntries, check_embedding

log = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0  # how often a server asks the catalog whether another process ingested


@dataclass(frozen=True)
class Reloaded:
    """The index as another process's ingest left it: taken together, used together."""

    manifest: Manifest
    reports: ReportEntries
    store: ChunkStore
    version: str


class Refresher:
    """Which published state of the index this process holds (`version`), and the
    question whether another process has published a newer one since."""

    def __init__(self, catalog: Catalog, index_dir: Path, chroma_url: str | None) -> None:
        self.catalog = catalog
        self.index_dir = index_dir
        self.chroma_url = chroma_url
        self.version = catalog.version()  # asked before the manifest and the report entries are read
        self._checked = time.monotonic()
        self._asking = threading.Lock()  # one thread asks the catalog; the others go on answering

    def publish(self) -> None:
        """Tell every server reading this index that an ingest has ended."""
        self.catalog.publish()
        self.version = self.catalog.version()

    def reload(self, embedding: str, generation: str, store: ChunkStore) -> Reloaded | None:
        """The index as another process's finished ingest left it; None when none finished
        since `version`, when it was asked less than REFRESH_SECONDS ago or by another
        thread now, or when the catalog cannot be read just now (the index stays as it
        was). The collections of `store` are reopened, or those of the new generation."""
        if time.monotonic() - self._checked < REFRESH_SECONDS:
            return None
        if not self._asking.acquire(blocking=False):
            return None
        try:
            self._checked = time.monotonic()
            version = self.catalog.version()
            if version == self.version or self.catalog.ingesting():  # reload between ingests, not during one
                return None
            manifest = self.catalog.read()
            if manifest is None:  # deleted under the server: keep answering from what is open
                return None
            check_embedding(manifest, embedding, self.index_dir)
            reports = self.catalog.entries(manifest["generation"]).load()
            if not self.chroma_url or manifest["generation"] != generation:
                store = ChunkStore.open(self.index_dir, self.chroma_url, embedding, manifest["generation"], False)
        except (IndexMismatchError, IndexCorruptError, IndexMissingError) as exc:
            log.warning("the index changed but cannot be reloaded yet: %s", exc)
            return None
        except Exception as exc:  # noqa: BLE001 - a Chroma server that is briefly away
            log.warning("cannot ask the catalog whether the index changed: %s", exc)
            return None
        finally:
            self._asking.release()
        return Reloaded(manifest, reports, store, version)
