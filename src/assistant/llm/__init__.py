"""LLM answers (optional extra: pip install -e '.[llm]')."""

from .answerer import LLMAnswerer, rewrite_with_llm
from .chat_models import check_server, make_chat_model
from .grounding import Grounding, check_grounding

__all__ = ["Grounding", "LLMAnswerer", "check_grounding", "check_server", "make_chat_model", "rewrite_with_llm"]
