"""Score one answer against its eval item, and aggregate scores by question form."""

import statistics
from dataclasses import asdict, dataclass

from ..answers import Answer
from ..normalize import normalize
from .dataset import EvalItem
from .matching import matches_all, matches_any


@dataclass
class ItemResult:
    id: str
    form: str
    question: str
    expected: list[str]
    got: str
    refused: bool
    answerable: bool
    answer_ok: bool | None  # None for unanswerable items
    citation_ok: bool | None
    refusal_ok: bool
    hit_rank: int | None  # 1-based rank of the gold passage among retrieved passages
    cited_docs: list[str]
    seconds: float
    answerer: str = "extractive"
    grounded: bool | None = None  # LLM answers: did the model's text pass the grounding check

    def as_dict(self) -> dict:
        return asdict(self)


def gold_rank(item: EvalItem, answer: Answer) -> int | None:
    if not item.answerable:
        return None
    gold = normalize(item.gold_passage or "")
    for rank, passage in enumerate(answer.passages, start=1):
        if passage.doc_id == item.gold_doc and gold in normalize(passage.text):
            return rank
    return None


def score_item(item: EvalItem, answer: Answer, seconds: float) -> ItemResult:
    expected = item.require_all or item.accept
    answer_ok: bool | None
    citation_ok: bool | None
    if item.answerable and not answer.refused:
        answer_ok = (
            matches_all(item.require_all, answer.answer)
            if item.require_all
            else matches_any(item.accept, answer.answer)
        )
        citation_ok = any(
            c.doc_id == item.gold_doc
            and (matches_all(item.require_all, c.quote) if item.require_all else matches_any(item.accept, c.quote))
            for c in answer.citations
        )
    else:
        answer_ok = False if item.answerable else None
        citation_ok = False if item.answerable else None
    return ItemResult(
        id=item.id,
        form=item.form,
        question=item.question,
        expected=expected,
        got=answer.answer,
        refused=answer.refused,
        answerable=item.answerable,
        answer_ok=answer_ok,
        citation_ok=citation_ok,
        refusal_ok=answer.refused != item.answerable,
        hit_rank=gold_rank(item, answer),
        cited_docs=[c.doc_id for c in answer.citations],
        seconds=seconds,
        answerer=answer.answerer,
        grounded=answer.grounding.passed if answer.grounding and not answer.refused else None,
    )


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(results: list[ItemResult]) -> dict:
    """Metrics over a group of results. Answer, citation and retrieval metrics count
    answerable questions; refusal is scored on all (refuse exactly the unanswerable)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.hit_rank for r in answerable]
    times = sorted(r.seconds for r in results)
    return {
        "questions": len(results),
        "answer_accuracy": _share([bool(r.answer_ok) for r in answerable]),
        "citation_accuracy": _share([bool(r.citation_ok) for r in answerable]),
        "hit@1": _share([k is not None and k <= 1 for k in ranks]),
        "hit@5": _share([k is not None and k <= 5 for k in ranks]),
        "mrr": round(sum(1 / k for k in ranks if k) / len(ranks), 4) if ranks else None,
        "refusal_accuracy": _share([r.refusal_ok for r in results]),
        "refused_unanswerable": _share([r.refused for r in unanswerable]),
        "refused_answerable": _share([r.refused for r in answerable]),
        "llm_grounded": _share([r.grounded for r in results if r.grounded is not None]),
        "latency_p50_s": round(statistics.median(times), 4) if times else None,
        "latency_p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 4) if times else None,
    }


def by_form(results: list[ItemResult]) -> dict[str, dict]:
    forms = sorted({r.form for r in results})
    table = {form: summarize([r for r in results if r.form == form]) for form in forms}
    table["all"] = summarize(results)
    return table
