"""Follow-ups rewritten by the LLM, with the rules behind it: the pipeline's rewriting
step when the answerer is the LLM."""

import logging
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from ..followup import FollowUpRewriter, is_followup, is_rewrite_of
from .prompt import REWRITE_PROMPT

log = logging.getLogger(__name__)


def rewrite_with_llm(model: BaseChatModel, question: str, previous: list[str]) -> str:
    """Standalone question written by the LLM; raises on server errors (callers fall back)."""
    chain = REWRITE_PROMPT | model | StrOutputParser()
    text = chain.invoke({"question": question, "previous": "\n".join(f"- {q}" for q in previous[-3:])})
    return text.strip().splitlines()[0].strip() if text.strip() else ""


class LLMRewriter:
    """The model's rewrite when it is a question about this conversation (no longer than
    `limit`, sharing a content word with it); otherwise, or when the model fails, the
    `fallback`'s, with the reason logged. `model` is built on first use."""

    def __init__(self, model: Callable[[], BaseChatModel], limit: int, fallback: FollowUpRewriter) -> None:
        self.model, self.limit, self.fallback = model, limit, fallback

    def rewrite(self, question: str, previous: list[str]) -> str:
        if previous and is_followup(question):
            try:
                written = rewrite_with_llm(self.model(), question, previous)
                if is_rewrite_of(written, [question, *previous], self.limit):
                    return written
                log.warning("LLM rewrite %r dropped: not a question about the conversation", written[:80])
            except Exception:  # noqa: BLE001 - the rules still give a usable question
                log.warning("LLM rewrite failed; using the rule-based rewrite", exc_info=True)
        return self.fallback.rewrite(question, previous)
