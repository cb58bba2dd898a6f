"""Plain text and Markdown: UTF-8, as written."""

from pathlib import Path

from .base import Extracted


def read_text(path: Path) -> Extracted:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from None
    if "\x00" in text:
        raise ValueError("contains NUL bytes; looks binary")
    return Extracted(text=text)
