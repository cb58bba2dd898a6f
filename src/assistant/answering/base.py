"""The answerer seam: given a question and retrieved passages, produce a draft answer
and the evidence spans it rests on. The extractive answerer is the default; an LLM
answerer implements the same `answer` method and plugs into the same chain."""

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

from langchain_core.runnables import Runnable, RunnableLambda

from ..answers import GroundingReport, Passage


@dataclass(frozen=True)
class Evidence:
    """A supporting span: which passage it came from and its offsets in the original file."""

    passage: int
    start: int
    end: int
    text: str


@dataclass
class Draft:
    answer: str
    evidence: list[Evidence] = field(default_factory=list)
    refused: bool = False
    score: float = 0.0
    answerer: str | None = None  # who wrote it, when not the answerer that was asked (a fallback)
    grounding: GroundingReport | None = None


class Answerer(ABC):
    name: str = "answerer"

    @abstractmethod
    def answer(self, question: str, passages: list[Passage]) -> Draft:
        """Answer from the passages only; refuse (Draft.refused) when they do not say."""

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Draft]:
        """Text pieces as they are written, then the finished Draft. Answerers that
        finish at once send their answer word by word."""
        draft = self.answer(question, passages)
        yield from re.findall(r"\S+\s*", draft.answer)
        yield draft

    def as_runnable(self) -> Runnable:
        """{'question', 'passages'} -> Draft, for use inside a LangChain chain."""
        return RunnableLambda(lambda x: self.answer(x["question"], x["passages"]), name=self.name)
