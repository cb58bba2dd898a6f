"""Checking a question before anything is searched: text, not empty, not too long, and
about something. Content-free input (emoji, punctuation, invisible or control
characters) gets a message asking for a question, never a confident answer."""

import unicodedata

from .errors import InvalidQuestionError

ASK = "type a question about the reports"


def check_question(question: object, limit: int) -> str:
    """The question, trimmed of whitespace and invisible characters at its ends."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    for at, char in enumerate(question):
        if "\ud800" <= char <= "\udfff":
            raise InvalidQuestionError(
                f"the question holds an invalid character at position {at} (a lone UTF-16 surrogate); {ASK}"
            )
    if len(question) > limit:
        raise InvalidQuestionError(
            f"the question is {len(question):,} characters long; the limit is {limit:,}. Ask something shorter."
        )
    question = "".join(c for c in question if unicodedata.category(c) != "Cc" or c in "\n\t")
    question = _strip_invisible(question)
    if not question:
        raise InvalidQuestionError(f"the question is empty; {ASK}")
    if not any(unicodedata.category(c)[0] in "LN" for c in question):
        raise InvalidQuestionError(f"the question has no words or figures in it; {ASK}")
    return question


def _strip_invisible(text: str) -> str:
    """Trim whitespace and format characters (zero-width, bidi marks) at both ends;
    inside the text they stay (the zero-width non-joiner is part of Urdu spelling)."""

    def invisible(c: str) -> bool:
        return c.isspace() or unicodedata.category(c) == "Cf"

    start, end = 0, len(text)
    while start < end and invisible(text[start]):
        start += 1
    while end > start and invisible(text[end - 1]):
        end -= 1
    return text[start:end]
