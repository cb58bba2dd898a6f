"""The report library: which reports the assistant knows, read from the index's own
records (one entry per report, `manifest.py`), so the chat, the CLI (`assistant
reports`) and the HTTP API (`/api/reports`) show the same list.

A report is listed with its title, file, format, size (pages for a PDF, paragraphs,
chunks, sentences), when and by whom its current version was indexed and its source
link. A report held in two formats (`budget.txt` and `budget.docx`, or two files with
the same title) is flagged on both: its figures would be cited twice.

Removing a report (`Assistant.remove_report`) deletes its file from the corpus folder
and its chunks from the index, as one library action that every running server sees at
its next question (the index's published version changes, `catalog.py`)."""

from datetime import UTC, datetime
from pathlib import PurePosixPath

from pydantic import BaseModel, Field

from .errors import AssistantError
from .manifest import DocumentEntry
from .normalize import fold


class ReportNotFoundError(AssistantError, LookupError):
    """No report with that id is in the index."""


class ReportInfo(BaseModel):
    """One report as the library shows it."""

    doc_id: str = Field(description="The report's id: its file name relative to the corpus folder.")
    title: str
    file: str
    format: str = Field(description="The file's kind: txt, md, pdf, docx, html.")
    pages: int | None = Field(None, description="Pages of a PDF; None for other formats.")
    paragraphs: int | None = Field(None, description="Non-empty lines of its text (None: indexed before it was kept).")
    chunks: int
    sentences: int
    indexed_at: str | None = Field(None, description="When its current version was indexed (UTC, ISO 8601).")
    added_by: str | None = Field(None, description="Who indexed it: a chat login, or `command line (user)`.")
    source_url: str | None = None
    same_report_as: list[str] = Field(
        default_factory=list, description="Other reports that look like this one in another file (same name or title)."
    )


def report_format(file: str) -> str:
    suffix = PurePosixPath(file).suffix.lower().lstrip(".")
    return {"htm": "html", "markdown": "md"}.get(suffix, suffix)


def _info(entry: DocumentEntry) -> ReportInfo:
    stamp = entry.get("indexed_at")
    return ReportInfo(
        doc_id=entry["doc_id"],
        title=entry["title"],
        file=entry["file"],
        format=report_format(entry["file"]),
        pages=entry.get("pages"),
        paragraphs=entry.get("paragraphs"),
        chunks=entry["chunks"],
        sentences=entry["sentences"],
        indexed_at=datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds") if stamp else None,
        added_by=entry.get("added_by"),
        source_url=entry["source_url"],
    )


def _plain(text: str) -> str:
    """Text as the library compares it: the one normalised text, any case, single spaces."""
    return " ".join(fold(text).casefold().split())


def _same_report_keys(info: ReportInfo) -> set[str]:
    """What two copies of one report share: the file name without its extension, or the title."""
    stem = PurePosixPath(info.file).with_suffix("").as_posix().casefold()
    return {f"name:{stem}", f"title:{_plain(info.title)}"}


def list_reports(documents: dict[str, DocumentEntry], search: str = "") -> list[ReportInfo]:
    """Every report, by title; `search` keeps those whose title or file holds it (any
    case, either script's forms folded). Copies in two formats name each other."""
    reports = sorted((_info(e) for e in documents.values() if e.get("state", "done") == "done"),
                     key=lambda r: (_plain(r.title), r.doc_id))  # fmt: skip
    holders: dict[str, list[str]] = {}
    for r in reports:
        for key in _same_report_keys(r):
            holders.setdefault(key, []).append(r.doc_id)
    for r in reports:
        twins = {d for key in _same_report_keys(r) for d in holders[key] if d != r.doc_id}
        r.same_report_as = sorted(twins)
    wanted = _plain(search)
    if wanted:
        reports = [r for r in reports if wanted in _plain(r.title) or wanted in _plain(r.file)]
    return reports


def find_report(documents: dict[str, DocumentEntry], doc_id: str) -> ReportInfo:
    """One report by id, flagged like the list; ReportNotFoundError naming the id otherwise."""
    for report in list_reports(documents):
        if report.doc_id == doc_id:
            return report
    raise ReportNotFoundError(f"no report {doc_id!r} in the index; `assistant reports list` shows the ids")
