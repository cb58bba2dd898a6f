"""Checking a question before anything is searched: text, not empty, not too long, and
about something. Content-free input (emoji, punctuation, invisible or control
characters, a lone letter or digit, a run of tatweel) gets a message asking for a
question, never a confident answer. The question is read in the same folded text as
the reports (`normalize.fold`): full-width letters and zero-width characters do not
change what is searched."""

import re
import unicodedata

from .errors import InvalidQuestionError
from .normalize import fold

ASK_UR, ASK = "رپورٹس کے بارے میں سوال لکھیں", "type a question about the reports"


def check_question(question: object, limit: int) -> str:
    """The question, trimmed of whitespace and invisible characters at its ends. Each
    refusal reads Urdu first, English beside: it reaches staff in the chat as it is."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"سوال متن ہونا چاہیے · the question must be text, not {type(question).__name__}")
    for at, char in enumerate(question):
        if "\ud800" <= char <= "\udfff":
            raise InvalidQuestionError(
                f"سوال میں مقام {at} پر ایک غلط حرف ہے؛ {ASK_UR} · the question holds an invalid character at "
                f"position {at} (a lone UTF-16 surrogate); {ASK}"
            )
    if len(question) > limit:
        raise InvalidQuestionError(
            f"سوال {len(question):,} حروف کا ہے، حد {limit:,} ہے: مختصر سوال پوچھیں · the question is "
            f"{len(question):,} characters long; the limit is {limit:,}. Ask something shorter."
        )
    question = fold("".join(c for c in question if unicodedata.category(c) != "Cc" or c in "\n\t")).strip()
    if not question:
        raise InvalidQuestionError(f"سوال خالی ہے؛ {ASK_UR} · the question is empty; {ASK}")
    if not has_content(question):
        raise InvalidQuestionError(
            f"سوال میں کوئی لفظ یا عدد نہیں؛ {ASK_UR} · the question has no words or figures in it; {ASK}"
        )
    return question


def check_previous(previous: object, limit: int, max_previous: int) -> list[str]:
    """A conversation's earlier questions as a caller gave them: a list of text (None for
    none), at most `max_previous` of them, each at most `limit` characters; blank ones
    dropped."""
    if previous is None:
        return []
    if not isinstance(previous, list) or not all(isinstance(p, str) for p in previous):
        raise InvalidQuestionError("previous_questions must be a list of the earlier questions, as text")
    if len(previous) > max_previous:
        raise InvalidQuestionError(f"previous_questions holds {len(previous):,} questions; the limit is "
                                   f"{max_previous} (max_previous_questions): send the latest only")  # fmt: skip
    for number, earlier in enumerate(previous, start=1):
        if len(earlier) > limit:
            raise InvalidQuestionError(f"previous question {number} is {len(earlier):,} characters long; the limit "
                                       f"is {limit:,} (max_question_chars)")  # fmt: skip
    return [p for p in previous if p.strip()]


_WORD = re.compile(r"[^\W_]+")


def has_content(text: str) -> bool:
    """A word of two letters or a figure of two digits: `x`, `ℹ️`, `١` or a tatweel run
    (a letter to Unicode, but only a stretch of the line) say nothing to search for."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).replace("\u0640", ""))
    return any(len(w) >= 2 for w in words)
