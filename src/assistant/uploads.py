"""Reports added from the chat: each file checked (type, size, readable, a safe name)
before it is copied into the corpus folder's `uploads/`, where an ingest picks it up
like any other report. A file that fails a check is refused by name with the reason,
the same reasons `assistant ingest` gives, and nothing of it is kept."""

import os
import shutil
import tempfile
import unicodedata
from pathlib import Path, PurePath

from .corpus import SkippedFile, read_report

UPLOAD_FOLDER = "uploads"
MAX_NAME_CHARS = 120


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders (`../`, `C:\\`), no
    leading dot, only letters, digits, space, `-`, `_` and `.`; ValueError if none is left."""
    base = PurePath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    kept = (c if c.isalnum() or unicodedata.category(c).startswith("M") or c in "-_. " else "_" for c in base)
    cleaned = "".join(kept).strip(" .")  # Urdu vowel marks (زبر، شد) are letters' parts, kept
    stem, dot, suffix = cleaned.rpartition(".")
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1].strip(" .")
    if not dot or not stem.strip("_"):
        raise ValueError(f"{name!r} is not a usable file name")
    return f"{stem}.{suffix.lower()}"


def place(file: Path, target: Path) -> None:
    """Copy `file` to `target` whole or not at all: a reader (or an ingest) never sees half
    a file. The copy is written beside it under a hidden name (ingest skips those) first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    os.close(handle)
    try:
        shutil.copyfile(file, partial)
        Path(partial).replace(target)
    finally:
        Path(partial).unlink(missing_ok=True)


def stage(files: list[Path], corpus_dir: Path) -> tuple[list[Path], list[SkippedFile]]:
    """Copy the files that pass every check into `corpus_dir/uploads/`; (copied, refused).
    A name already there is replaced (a new version of that report; the ingest reports it
    as updated); two files of one upload with the same name are refused after the first."""
    folder = corpus_dir / UPLOAD_FOLDER
    copied: list[Path] = []
    refused: list[SkippedFile] = []
    for file in files:
        try:
            name = safe_name(file.name)
            if folder / name in copied:
                raise ValueError("another file in this upload has the same name")
            # too large for its format, another format, unreadable, encrypted, scanned or empty: refused, not copied
            read_report(file, name)
            place(file, folder / name)
            copied.append(folder / name)
        except (ValueError, OSError) as exc:
            refused.append(SkippedFile(Path(file.name), str(exc)))
    return copied, refused
