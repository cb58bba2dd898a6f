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

# Limits on one report file, all here. A file over one is refused with a sentence naming it.
MAX_BYTES = {".pdf": 50_000_000, ".docx": 50_000_000}
MAX_TEXT_BYTES = 5_000_000  # text and web pages
# the chat takes no bigger file (Gradio refuses it); each format's own limit is checked after
UPLOAD_MAX_BYTES = max(*MAX_BYTES.values(), MAX_TEXT_BYTES)
# The text read from a report, every format (checked after reading; Word stops as soon as it
# is passed). The five reports are 5,600-12,500 characters; a million is some 300 pages of
# dense text (about 2,000 chunks of 500 characters); it turns away a 4.95 MB one-line web
# page that became 5,422 chunks.
MAX_CHARS = 1_000_000
# Word files are zip archives of XML: checked from the zip's directory, before anything is
# unpacked or parsed. Pictures barely pack, so a real Word file unpacks to about its size
# on disk plus its XML (the reports: 8-11 KB files, 34-50 KB unpacked); twice the 50 MB
# file limit leaves room for that and turns away a 3.9 MB file that unpacks to 1 GB.
MAX_DOCX_UNPACKED = 100_000_000  # all parts together
MAX_DOCX_PART = 20_000_000  # any one part: word/document.xml is parsed whole (reports: 24-40 KB)
MAX_DOCX_RATIO = 100  # unpacked / packed size of a part over RATIO_FROM (Word's XML packs 5-7 times)
RATIO_FROM = 1_000_000  # a part smaller than this unpacked costs little whatever its ratio
MAX_DOCX_PARAGRAPHS = 20_000  # paragraphs, table cells' included (reports: 17-32); counted before reading


def max_bytes(path: Path) -> int:
    """The largest file of this kind the assistant reads."""
    return MAX_BYTES.get(path.suffix.lower(), MAX_TEXT_BYTES)


def check_chars(count: int, *, stopped: bool = False) -> None:
    """Refuse a report whose text is longer than MAX_CHARS (`stopped`: reading stopped
    once it passed the limit, so the whole length is not known)."""
    if count > MAX_CHARS:
        length = f"is longer than {MAX_CHARS:,} characters" if stopped else f"is {count:,} characters"
        raise ValueError(f"its text {length} (limit {MAX_CHARS:,}): too long for one report; split it into parts")


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
