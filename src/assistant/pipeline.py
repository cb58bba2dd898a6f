"""The one question pipeline. `Assistant.ask` and `.stream`, the chat, the HTTP API and
the evals all run it:

    check -> small talk? -> rewrite the follow-up -> retrieve -> read -> cite

Each step that varies is a named, swappable part: `rewriter` (the rules, or the LLM with
the rules behind it), `retriever` (a LangChain retriever over the index) and `answerer`
(extractive or LLM). `stream` yields the answer text as it is written, then the
`Answer`; `invoke` is the same run keeping only the `Answer`, so the two cannot drift.

Small talk is answered before anything is rewritten or searched, so "thanks" after a
question is a thank-you, never a follow-up, and needs no index."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from .answering import Answerer, Draft
from .answers import Answer, Citation, Passage
from .followup import FollowUpRewriter
from .formats import location_at
from .normalize import language
from .questions import check_previous, check_question
from .smalltalk import small_talk_reply


@dataclass(frozen=True)
class Reading:
    """The steps that need the index: retrieving passages and reading an answer in them."""

    retriever: BaseRetriever
    answerer: Answerer


@dataclass(frozen=True)
class Limits:
    """What a question and its conversation may be (settings `max_question_chars`,
    `max_previous_questions`)."""

    question_chars: int
    previous_questions: int


class QuestionPipeline:
    """Question (and the conversation's earlier standalone questions) -> `Answer`.

    `reading` opens the index's steps on first use (raising IndexMissingError or
    IndexEmptyError), so a question refused at the check, or small talk, costs no index."""

    def __init__(self, limits: Limits, rewriter: FollowUpRewriter, reading: Callable[[], Reading]) -> None:
        self.limits = limits
        self.rewriter = rewriter
        self.reading = reading

    def invoke(self, question: object, previous: object = None) -> Answer:
        *_, answer = self.stream(question, previous)
        assert isinstance(answer, Answer)
        return answer

    def stream(self, question: object, previous: object = None) -> Iterator[str | Answer]:
        """The answer text in pieces as it is written, then the full `Answer` (whose
        `question` is the standalone question that was searched). Every input is checked
        before any work starts."""
        asked = check_question(question, self.limits.question_chars)
        checked = check_previous(previous, self.limits.question_chars, self.limits.previous_questions)
        earlier = [q for q in checked if small_talk(q) is None]  # "thanks" is nothing to read a follow-up against
        if (reply := small_talk(asked)) is not None:
            yield reply.answer
            yield reply
            return
        standalone = self.rewrite(asked, earlier)
        reading = self.reading()
        started = time.perf_counter()
        passages = to_passages(reading.retriever.invoke(standalone))
        retrieved = time.perf_counter()
        for item in reading.answerer.stream(standalone, passages):
            if isinstance(item, Draft):
                timing = Timing((retrieved - started) * 1000, (time.perf_counter() - retrieved) * 1000)
                yield cite(standalone, passages, item, reading.answerer.name, timing)
            else:
                yield item

    def rewrite(self, question: str, previous: list[str]) -> str:
        """A checked follow-up as a standalone question (itself when it is not one)."""
        return self.rewriter.rewrite(question, previous) if previous else question

    def as_runnable(self) -> Runnable:
        """The pipeline as a LangChain runnable, to compose with other chains:
        {"question": str, "previous_questions": [str]?} -> Answer."""
        return RunnableLambda(lambda x: self.invoke(x["question"], x.get("previous_questions")), name="ask")


def small_talk(question: str) -> Answer | None:
    """A greeting, thanks or question about the assistant: its short reply, no citation."""
    lang = language(question)
    reply = small_talk_reply(question, lang)
    if reply is None:
        return None
    return Answer(question=question, language=lang, answer=reply, refused=True, answerer="small talk")


def to_passages(docs: list[Document]) -> list[Passage]:
    return [
        Passage(text=d.page_content, **{k: d.metadata[k] for k in Passage.model_fields if k != "text"}) for d in docs
    ]


@dataclass(frozen=True)
class Timing:
    retrieve_ms: float
    answer_ms: float


def cite(question: str, passages: list[Passage], draft: Draft, answerer: str, timing: Timing) -> Answer:
    """The draft as an `Answer`: its evidence spans numbered as citations (one per
    distinct span, in order of use)."""
    citations: list[Citation] = []
    for ev in draft.evidence:
        p = passages[ev.passage]
        if any(c.start == ev.start and c.doc_id == p.doc_id for c in citations):
            continue
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
        question=question,
        language=language(question),
        answer=draft.answer,
        supporting=[ev.text for ev in draft.evidence],
        citations=citations,
        passages=passages,
        refused=draft.refused,
        evidence=round(draft.score, 4),
        answerer=draft.answerer or answerer,
        grounding=draft.grounding,
        retrieve_ms=round(timing.retrieve_ms, 2),
        answer_ms=round(timing.answer_ms, 2),
    )
