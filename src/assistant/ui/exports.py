"""Where the chat writes a conversation exported as Markdown for the browser to fetch:
one folder per export, under one parent pruned of exports older than an hour."""

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..uploads import place

EXPORT_KEEP_SECONDS = 3600  # exported Markdown files (and Gradio's cached copies) are removed after this


def export_folder() -> Path:
    """A new folder for one export, under one parent whose exports older than an hour are removed."""
    parent = Path(tempfile.gettempdir()) / "report-assistant-exports"
    parent.mkdir(exist_ok=True)
    for old in parent.iterdir():
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > EXPORT_KEEP_SECONDS:
                shutil.rmtree(old)
    return Path(tempfile.mkdtemp(dir=parent))


def download_copy(file: Path, sha256: str) -> Path:
    """A copy of a report file for the browser to download: one per file version, made
    once and kept while it is used (an hour after its last use, like the exports)."""
    folder = Path(tempfile.gettempdir()) / "report-assistant-exports" / f"file-{sha256[:32]}"
    copy = folder / file.name
    if not copy.exists():
        place(file, copy)
    os.utime(folder)  # in use: not pruned for another hour
    return copy


def safe_title(title: str) -> str:
    """A conversation title as a file name."""
    return re.sub(r"[^\w\- ]+", "_", title).strip(" _")[:60] or "conversation"
