"""Offline assistant answering questions about Urdu reports, with citations."""

from .answers import Answer, Citation, Passage
from .assistant import Assistant
from .errors import (
    AssistantError,
    BackendUnavailableError,
    CorpusPathError,
    IndexBusyError,
    IndexCorruptError,
    IndexEmptyError,
    IndexMismatchError,
    IndexMissingError,
    IndexPathError,
    InvalidQuestionError,
)
from .ingest import IngestReport
from .settings import Settings

__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "BackendUnavailableError",
    "Citation",
    "CorpusPathError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexEmptyError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexPathError",
    "IngestReport",
    "InvalidQuestionError",
    "Passage",
    "Settings",
]
