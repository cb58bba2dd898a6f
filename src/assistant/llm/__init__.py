"""LLM answers (optional extra: pip install -e '.[llm]')."""

from .answerer import LLMAnswerer
from .chat_models import check_server, make_chat_model
from .grounding import Grounding, check_grounding
from .rewriter import LLMRewriter, rewrite_with_llm

__all__ = [
    "Grounding",
    "LLMAnswerer",
    "LLMRewriter",
    "check_grounding",
    "check_server",
    "make_chat_model",
    "rewrite_with_llm",
]
