"""Errors the assistant raises, each with a message a user can act on."""


class AssistantError(Exception):
    """Base class: every error the assistant raises on bad input or state."""


class InvalidQuestionError(AssistantError, ValueError):
    """The question is empty, too long, or not text."""


class CorpusPathError(AssistantError, FileNotFoundError):
    """A corpus path given to ingest does not exist."""


class IndexMissingError(AssistantError):
    """No index exists yet at the configured path."""


class IndexCorruptError(AssistantError):
    """The index files cannot be read or disagree with each other."""


class IndexMismatchError(AssistantError):
    """The index was built with a different embedding than the one configured."""


class BackendUnavailableError(AssistantError):
    """An optional backend (package or server) is not available."""


class IndexPathError(AssistantError):
    """The index folder cannot be created, read or written (a file, read-only, missing permission)."""


class IndexBusyError(AssistantError):
    """Another ingest is writing this index."""


class IndexEmptyError(AssistantError):
    """The index holds no reports."""
