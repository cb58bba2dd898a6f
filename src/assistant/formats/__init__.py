"""Report formats: one reader per kind of file, chosen by suffix. Each returns the
report's text and what the file says about itself (`base.Extracted`); anything a
reader cannot use raises ValueError with the reason, and the file is skipped."""

from collections.abc import Callable
from pathlib import Path

from .base import Extracted, Location, location_at
from .docx import read_docx
from .html import read_html
from .pdf import read_pdf
from .text import read_text

READERS: dict[str, Callable[[Path], Extracted]] = {
    ".txt": read_text,
    ".md": read_text,
    ".markdown": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
SUFFIXES = tuple(READERS)
# bumped when a reader's output changes, so an ingest reads files of that kind again
VERSIONS = {".pdf": 1, ".docx": 1, ".html": 1, ".htm": 1}
MAX_BYTES = {".pdf": 50_000_000, ".docx": 50_000_000}
MAX_TEXT_BYTES = 5_000_000  # text and web pages


def max_bytes(path: Path) -> int:
    """The largest file of this kind the assistant reads."""
    return MAX_BYTES.get(path.suffix.lower(), MAX_TEXT_BYTES)


def reader_version(path: Path) -> int:
    """The version of the reader for this file (0 for text, which is read as it is)."""
    return VERSIONS.get(path.suffix.lower(), 0)


def reader_for(path: Path) -> Callable[[Path], Extracted]:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        kinds = ", ".join(SUFFIXES)
        raise ValueError(f"not a report format this assistant reads (suffix {path.suffix or 'none'!r}; reads {kinds})")
    return reader


__all__ = [
    "Extracted",
    "Location",
    "MAX_BYTES",
    "MAX_TEXT_BYTES",
    "max_bytes",
    "READERS",
    "SUFFIXES",
    "reader_for",
    "reader_version",
    "location_at",
]
