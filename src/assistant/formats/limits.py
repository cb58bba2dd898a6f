"""Limits on one report file, all here. A file over one is refused with a sentence naming it."""

from pathlib import Path

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
