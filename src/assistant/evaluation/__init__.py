from .dataset import EvalItem, load_set
from .matching import contains_answer, matches_all, matches_any
from .runner import EvalRun, evaluate, write_reports
from .scoring import ItemResult, by_form, score_item, summarize

__all__ = ["EvalItem", "EvalRun", "ItemResult", "by_form", "contains_answer", "evaluate", "load_set",
           "matches_all", "matches_any", "score_item", "summarize", "write_reports"]  # fmt: skip
