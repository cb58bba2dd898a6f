"""Report formats: one reader per kind of file, chosen by suffix. Each returns the
report's text and what the file says about itself (`base.Extracted`); anything a
reader cannot use raises ValueError with the reason, and the file is skipped. Only
text a reader of the file would see is read (hidden web page elements, hidden and
deleted Word text are left out), and the work one file may cost is bounded by the
limits below, checked before the heavy work where the format allows."""

from collections.abc import Callable
from pathlib import Path

from .base import Extracted, Location, location_at
from .docx import read_docx
from .html import read_html
from .limits import (
    MAX_BYTES,
    MAX_CHARS,
    MAX_DOCX_PARAGRAPHS,
    MAX_DOCX_PART,
    MAX_DOCX_RATIO,
    MAX_DOCX_UNPACKED,
    MAX_TEXT_BYTES,
    RATIO_FROM,
    UPLOAD_MAX_BYTES,
    check_chars,
    max_bytes,
)
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
# docx/html 2: hidden and deleted text left out; pdf 2: mirrored brackets, running headers and footers;
# all 3 (text 1): a title is never a cut sentence, a Word file's first heading names it
VERSIONS = {".txt": 1, ".md": 1, ".markdown": 1, ".pdf": 3, ".docx": 3, ".html": 3, ".htm": 3}

# the limits on one report file: `limits.py`


def reader_version(path: Path) -> int:
    """The version of the reader for this file (0 for a kind it does not read)."""
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
    "MAX_CHARS",
    "MAX_DOCX_PARAGRAPHS",
    "MAX_DOCX_PART",
    "MAX_DOCX_RATIO",
    "MAX_DOCX_UNPACKED",
    "MAX_TEXT_BYTES",
    "UPLOAD_MAX_BYTES",
    "RATIO_FROM",
    "check_chars",
    "max_bytes",
    "READERS",
    "SUFFIXES",
    "reader_for",
    "reader_version",
    "location_at",
]
