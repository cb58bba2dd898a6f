"""The retrieval chain as a LangChain runnable: retrieve -> answer -> cite.
Input: {"question": str}. Output: an `Answer`. The answerer is the swappable step."""

import time
from operator import itemgetter

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from .answering import Answerer, Draft
from .answers import Answer, Citation, Passage
from .formats import location_at
from .normalize import language


def to_passages(docs: list[Document]) -> list[Passage]:
    return [
        Passage(text=d.page_content, **{k: d.metadata[k] for k in Passage.model_fields if k != "text"}) for d in docs
    ]


def cite(state: dict) -> Answer:
    """Number the evidence spans as citations (one per distinct span, in order of use)."""
    draft: Draft = state["draft"]
    passages: list[Passage] = state["passages"]
    citations: list[Citation] = []
    for ev in draft.evidence:
        if any(c.start == ev.start and c.doc_id == passages[ev.passage].doc_id for c in citations):
            continue
        p = passages[ev.passage]
        citations.append(
            Citation(
                number=len(citations) + 1,
                doc_id=p.doc_id,
                title=p.title,
                file=p.file,
                source_url=p.source_url,
                quote=ev.text,
                start=ev.start,
                end=ev.end,
                location=location_at(p.locations, ev.start),
            )
        )
    return Answer(
        question=state["question"],
        language=language(state["question"]),
        answer=draft.answer,
        supporting=[ev.text for ev in draft.evidence],
        citations=citations,
        passages=passages,
        refused=draft.refused,
        evidence=round(draft.score, 4),
        answerer=draft.answerer or state.get("answerer", "extractive"),
        grounding=draft.grounding,
        retrieve_ms=round(state.get("passages_ms", 0.0), 2),
        answer_ms=round(state.get("draft_ms", 0.0), 2),
    )


def _timed(step: Runnable, key: str) -> Runnable:
    """Run `step` on the state and add its result and the milliseconds it took."""

    def run(state: dict) -> dict:
        started = time.perf_counter()
        result = step.invoke(state)
        return {**state, key: result, f"{key}_ms": (time.perf_counter() - started) * 1000}

    return RunnableLambda(run, name=f"timed_{key}")


def build_chain(retriever: BaseRetriever, answerer: Answerer) -> Runnable:
    return (
        _timed(itemgetter("question") | retriever | RunnableLambda(to_passages), "passages")
        | _timed(answerer.as_runnable(), "draft")
        | RunnablePassthrough.assign(answerer=RunnableLambda(lambda _: answerer.name))
        | RunnableLambda(cite, name="cite")
    )
