"""The one composition root: builds the assistant from settings. The CLI, the chat, the
evals and other tools all go through `Assistant`."""

import re
from collections.abc import Iterator
from pathlib import Path

from .answering import ExtractiveAnswerer
from .answers import Answer
from .chain import build_chain
from .embeddings import embedding_id, make_embeddings
from .errors import InvalidQuestionError
from .index import SearchIndex
from .ingest import IngestReport, ingest
from .retrieval import HybridRetriever
from .settings import Settings


class Assistant:
    """Answers questions about the reports in an index, with citations.

    >>> assistant = Assistant(Settings(index_dir=Path("index")))
    >>> assistant.ingest()            # corpus_dir by default
    >>> assistant.ask("پورے صوبے میں کتنے کیڈرز ہیں؟").answer
    """

    def __init__(self, settings: Settings | None = None, **overrides) -> None:
        self.settings = settings.model_copy(update=overrides) if settings else Settings(**overrides)
        self.embeddings = make_embeddings(self.settings)
        self._embedding_id = embedding_id(self.settings)
        self._index: SearchIndex | None = None
        self._chain = None

    @property
    def index(self) -> SearchIndex:
        """The opened index; raises IndexMissingError / IndexMismatchError / IndexCorruptError."""
        if self._index is None:
            self._use(SearchIndex.open(self.settings.index_dir, self._embedding_id, self.settings.chroma_url))
        return self._index

    def _use(self, index: SearchIndex) -> None:
        self._index = index
        retriever = HybridRetriever(
            index=index,
            embeddings=self.embeddings,
            top_k=self.settings.top_k,
            candidates=self.settings.candidates,
            fusion=self.settings.fusion,
        )
        answerer = ExtractiveAnswerer(lambda: index.bm25, self.embeddings, self.settings.min_evidence)
        self.retriever = retriever
        self._chain = build_chain(retriever, answerer)

    def ingest(self, paths: list[Path] | None = None, rebuild: bool = False, progress: bool = False) -> IngestReport:
        """Bring the index up to date with the reports under `paths` (default: corpus_dir)."""
        paths = [Path(p) for p in paths] if paths else [self.settings.corpus_dir]
        dimension = len(self.embeddings.embed_query("dimension probe"))
        index = SearchIndex.create_or_open(
            self.settings.index_dir, self._embedding_id, dimension, self.settings.chroma_url, rebuild=rebuild
        )
        report = ingest(index, self.embeddings, paths, self.settings.chunk_size, self.settings.chunk_overlap, progress)
        self._use(index)
        return report

    def ask(self, question: str) -> Answer:
        """Answer from the reports only; `Answer.refused` is True when they do not say."""
        return self.chain.invoke({"question": self.check_question(question)})

    def stream(self, question: str) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced, then the full `Answer` last.
        The extractive answerer finishes at once and is sent word by word; an LLM
        answerer streams its tokens through the same iterator."""
        answer = self.ask(question)
        yield from re.findall(r"\S+\s*", answer.answer)
        yield answer

    @property
    def chain(self):
        """The LangChain runnable behind `ask`: {"question": str} -> Answer."""
        self.index  # noqa: B018 - opens the index and builds the chain
        return self._chain

    def check_question(self, question: object) -> str:
        if not isinstance(question, str):
            raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
        question = question.strip()
        if not question:
            raise InvalidQuestionError("the question is empty; type a question about the reports")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InvalidQuestionError(
                f"the question is {len(question):,} characters long; the limit is {limit:,}. Ask something shorter."
            )
        return question
