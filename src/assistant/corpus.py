"""Loading reports from disk: UTF-8 text and Markdown, saved web pages, Word and PDF
files (`formats/`). Anything else, or a file its reader cannot use, is reported by
file name with the reason and skipped, never silently indexed.

Files are named to people relative to the corpus folder (`shown`), never by the
server's folders. Symbolic links are followed only while they stay in the corpus folder
(or, for a folder outside it that was named to ingest, in that folder); one that leads
out of it is skipped, so a link cannot make `/etc/passwd` a report."""

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusPathError
from .formats import Location, check_chars, max_bytes, reader_for

TITLE_MAX_CHARS = 300  # a first sentence longer than this is a paragraph, not a title

_SOURCE_LINE = re.compile(r"^\s*ماخذ\s*:?\s*(?P<url>\S+)?\s*$")
_COMMENTS_LINE = re.compile(r"^\s*تبصرہ\s*\(\d+\)\s*$")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Report:
    doc_id: str
    path: Path
    title: str
    source_url: str | None
    text: str
    sha256: str
    locations: tuple[Location, ...] = ()  # where pages / sections start in `text` (PDF, Word, HTML)


@dataclass(frozen=True)
class SkippedFile:
    path: Path  # as shown to people (see `shown`)
    reason: str
    target: Path | None = None  # where a link that leads out of the corpus folder points


def is_metadata_line(line: str) -> bool:
    """The `ماخذ:` source line and the `تبصرہ (0)` footer are metadata, not report text."""
    return bool(_SOURCE_LINE.match(line) or _COMMENTS_LINE.match(line))


def source_url(text: str) -> str | None:
    for line in reversed(text.splitlines()):
        match = _SOURCE_LINE.match(line)
        if match and match.group("url") and _URL.match(match.group("url")):
            return match.group("url")
    return None


def title_of(text: str, fallback: str) -> str:
    """A Markdown `# heading`, else the first sentence of the first line, whole: a title
    is never a cut sentence. A first sentence too long to name the report (a line
    with no sentence end) leaves the `fallback`, the file's name."""
    for line in text.splitlines():
        line = line.strip()
        if not line or is_metadata_line(line):
            continue
        if line.startswith("#"):
            return line.lstrip("#").strip() or fallback
        first = re.split(r"(?<=[۔؟!?])\s", line, maxsplit=1)[0].rstrip("۔").strip()
        return first if len(first) <= TITLE_MAX_CHARS else fallback
    return fallback


def file_sha256(path: Path) -> str:
    """The report file's identity for incremental ingest: its bytes, before any reading."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_report(path: Path, doc_id: str) -> Report:
    """Read one report; raises ValueError with a specific reason when it cannot be used."""
    reader = reader_for(path)
    size, limit = path.stat().st_size, max_bytes(path)
    if size > limit:
        raise ValueError(f"too large ({size:,} bytes; limit {limit:,})")
    sha256 = file_sha256(path)
    try:
        extracted = reader(path).folded()
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser's failure on one file must not stop the run
        raise ValueError(f"could not be read ({type(exc).__name__}: {str(exc)[:160]})") from None
    check_chars(len(extracted.text))
    if not extracted.text.strip():
        raise ValueError("empty")
    return Report(
        doc_id=doc_id,
        path=path,
        title=extracted.title or title_of(extracted.text, fallback=path.stem),
        source_url=extracted.source_url or source_url(extracted.text),
        text=extracted.text,
        sha256=sha256,
        locations=extracted.locations,
    )


def shown(path: Path, base: Path) -> str:
    """How a file or folder is named to people: relative to the corpus folder `base`
    when it lies in it (the corpus folder itself by its name), else its name alone,
    without the server's folders."""
    written = (Path(os.path.abspath(path)), Path(os.path.abspath(base)))
    for candidate, root in (written, (path.resolve(), base.resolve())):
        if candidate.is_relative_to(root):
            return candidate.relative_to(root).as_posix() if candidate != root else root.name
    return path.name or str(path)


def check_paths(paths: list[Path], base: Path | None = None) -> None:
    """Raise CorpusPathError for the first path that does not exist (before anything is touched)."""
    for root in paths:
        if not root.exists():
            raise CorpusPathError(f"corpus path does not exist: {shown(root, base) if base else root}")


def document_id(file: Path, base: Path) -> str:
    """A report's identity: its path relative to the corpus folder when it lies under
    it, else its absolute path. Never the bare file name, which two folders can share."""
    resolved = file.resolve()
    try:
        return resolved.relative_to(base.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _in_corpus(path: Path, base: Path) -> bool:
    """The path, as written (links not followed), lies in the corpus folder."""
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(base)) or path.resolve().is_relative_to(
        base.resolve()
    )


def discover(paths: list[Path], base: Path) -> tuple[list[tuple[Path, str]], list[SkippedFile]]:
    """(file, doc_id) for every file under the given paths, each file by its real
    path (links resolved) and once however many links lead to it; hidden files and
    folders skipped. Doc ids are relative to `base`, the corpus folder (see
    `document_id`). A link (or a named path) in the corpus folder that leads out of it
    is skipped with the reason, as is one in a folder outside it that leads out of that
    folder; a file named outside the corpus folder is taken as named."""
    check_paths(paths, base)
    corpus = base.resolve()
    found: list[tuple[Path, str]] = []
    skipped: list[SkippedFile] = []
    seen: set[Path] = set()

    def take(real: Path) -> None:
        if real not in seen:
            seen.add(real)
            found.append((real, document_id(real, base)))

    def leaves(path: Path, real: Path, fence: Path) -> bool:
        if real.is_relative_to(fence):
            return False
        where = "the corpus folder" if fence == corpus else f"the folder {fence.name}"
        skipped.append(SkippedFile(Path(shown(path, base)), f"links outside {where}; not followed", real))
        return True

    for root in paths:
        real_root = root.resolve()
        fence = corpus if _in_corpus(root, base) else real_root
        if root.is_file():
            if fence != corpus or not leaves(root, real_root, corpus):
                take(real_root)
            continue
        if leaves(root, real_root, fence):
            continue
        visited = {real_root}
        for folder, dirs, files in os.walk(real_root, followlinks=True):
            here = Path(folder)
            for name in sorted(dirs):
                dirs.remove(name)
                sub = here / name
                if name.startswith("."):
                    continue
                real = sub.resolve()
                if real not in visited and not leaves(sub, real, fence) and real.is_dir():
                    visited.add(real)
                    dirs.append(name)
            for name in sorted(files):
                file = here / name
                if name.startswith(".") or not file.is_file() or leaves(file, real := file.resolve(), fence):
                    continue
                take(real)
    return found, skipped


def load_reports(paths: list[Path], base: Path) -> tuple[list[Report], list[SkippedFile]]:
    reports: list[Report] = []
    files, skipped = discover(paths, base)
    for file, doc_id in files:
        try:
            reports.append(read_report(file, doc_id))
        except (ValueError, OSError) as exc:
            skipped.append(SkippedFile(Path(shown(file, base)), str(exc)))
    return reports, skipped
