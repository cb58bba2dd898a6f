"""The answerer seam: given a question and retrieved passages, produce a draft answer
and the evidence spans it rests on. The extractive answerer is the default; an LLM
answerer implements the same `answer` method and plugs into the same chain."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from langchain_core.runnables import Runnable, RunnableLambda

from ..answers import Passage


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


class Answerer(ABC):
    name: str = "answerer"

    @abstractmethod
    def answer(self, question: str, passages: list[Passage]) -> Draft:
        """Answer from the passages only; refuse (Draft.refused) when they do not say."""

    def as_runnable(self) -> Runnable:
        """{'question', 'passages'} -> Draft, for use inside a LangChain chain."""
        return RunnableLambda(lambda x: self.answer(x["question"], x["passages"]), name=self.name)
