"""Loading reports from disk: UTF-8 text and Markdown, saved web pages, Word and PDF
files (`formats/`). Anything else, or a file its reader cannot use, is reported by
file name with the reason and skipped, never silently indexed."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusPathError
from .formats import Location, check_chars, max_bytes, reader_for

TITLE_CHARS = 90

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
    path: Path
    reason: str


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
    """A Markdown `# heading`, else the first sentence of the first line, shortened."""
    for line in text.splitlines():
        line = line.strip()
        if not line or is_metadata_line(line):
            continue
        if line.startswith("#"):
            return line.lstrip("#").strip() or fallback
        first = re.split(r"(?<=[۔؟!?])\s", line, maxsplit=1)[0].rstrip("۔")
        if len(first) <= TITLE_CHARS:
            return first
        return first[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"
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


def check_paths(paths: list[Path]) -> None:
    """Raise CorpusPathError for the first path that does not exist (before anything is touched)."""
    for root in paths:
        if not root.exists():
            raise CorpusPathError(f"corpus path does not exist: {root}")


def document_id(file: Path, base: Path) -> str:
    """A report's identity: its path relative to the corpus folder when it lies under
    it, else its absolute path. Never the bare file name, which two folders can share."""
    resolved = file.resolve()
    try:
        return resolved.relative_to(base.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def discover(paths: list[Path], base: Path) -> list[tuple[Path, str]]:
    """(file, doc_id) for every file under the given paths (hidden files and folders
    skipped); doc ids are relative to `base`, the corpus folder (see `document_id`)."""
    check_paths(paths)
    found: list[tuple[Path, str]] = []
    for root in paths:
        if root.is_file():
            found.append((root, document_id(root, base)))
            continue
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in file.relative_to(root).parts):
                continue
            found.append((file, document_id(file, base)))
    return found


def load_reports(paths: list[Path], base: Path) -> tuple[list[Report], list[SkippedFile]]:
    reports: list[Report] = []
    skipped: list[SkippedFile] = []
    for file, doc_id in discover(paths, base):
        try:
            reports.append(read_report(file, doc_id))
        except (ValueError, OSError) as exc:
            skipped.append(SkippedFile(file, str(exc)))
    return reports, skipped
