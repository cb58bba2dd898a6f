"""Follow-up questions ("اور کمیون کی سطح پر کتنے؟") rewritten into standalone ones
before retrieval, using the previous standalone question of the conversation.

The rule-based rewriter needs no model. A question reads as a follow-up when it opens
with `اور` / `and` / `what about`, points back (`ان میں`, `وہاں`, `those`), or is a few
words long. When the previous question counted something ("کتنے کیڈرز") the follow-up
counts the same thing in its own scope; otherwise it borrows the previous question's
content words that it lacks."""

import re
from typing import Protocol

from .answering.question import COUNT_WORD, PUNCT, counted_words
from .errors import InvalidQuestionError
from .normalize import content_tokens, tokens
from .questions import check_question

_FOLLOWUP_START = re.compile(r"^\s*(?:and what about|what about|how about|اور|پھر|تو|and)\b\s*", re.I)
_POINTS_BACK = re.compile(r"ان میں|ان کی|ان کے|اس میں|اسی|وہاں|یہاں|\bthose\b|\bthem\b|\bthere\b|\btheir\b", re.I)
SHORT_WORDS = 4


class FollowUpRewriter(Protocol):
    """The pipeline's rewriting step: a follow-up as a standalone question."""

    def rewrite(self, question: str, previous: list[str]) -> str:
        """`question` standalone, given the conversation's earlier standalone questions
        (oldest first); the question itself when it is not a follow-up."""
        ...


class RuleRewriter:
    """The rules below: no model, the default. A rewrite longer than `limit` (a long
    follow-up with the previous question's words added) is not used: the question stays
    as asked, so a standalone question is never over the length a question may have."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def rewrite(self, question: str, previous: list[str]) -> str:
        written = rewrite_followup(question, previous)
        return written if len(written) <= self.limit else question


def is_followup(question: str) -> bool:
    return bool(
        _FOLLOWUP_START.match(question) or _POINTS_BACK.search(question) or len(question.split()) <= SHORT_WORDS
    )


def rewrite_followup(question: str, previous: list[str]) -> str:
    """Standalone form of `question`, given the earlier standalone questions (oldest first)."""
    question = question.strip()
    if not previous or not is_followup(question):
        return question
    last = previous[-1]
    english = question.isascii()
    body = _FOLLOWUP_START.sub("", question).strip(PUNCT + " ")
    counted = " ".join(counted_words(last))
    if counted:
        if COUNT_WORD.search(body):  # the counted thing leads, so the follow-up's own scope stays by its count
            return f"{counted}: {body}{'?' if english else '؟'}"
        return f"How many {counted} {body}?" if english else f"{body} کتنے {counted}؟"
    have = set(tokens(question))
    words = [w.strip(PUNCT) for w in last.split()]
    borrowed = [w for w in words if content_tokens(w) and not set(tokens(w)) & have]
    return f"{body} {' '.join(borrowed)}{'?' if english else '؟'}" if borrowed else question


def is_rewrite_of(written: str, conversation: list[str], limit: int) -> bool:
    """Whether an LLM's rewrite can stand for the follow-up: a valid question, no longer
    than `limit`, that shares a content word with the follow-up or the questions before
    it (a chat-template token or an unrelated sentence does not)."""
    try:
        check_question(written, limit)
    except InvalidQuestionError:
        return False
    said = {t for q in conversation for t in content_tokens(q)}
    return bool(said & set(content_tokens(written)))
