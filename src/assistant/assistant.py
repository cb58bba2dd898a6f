"""The one composition root: builds the assistant from settings. The CLI, the chat, the
evals and other tools all go through `Assistant`."""

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .answering import Answerer, Draft, ExtractiveAnswerer
from .answers import Answer
from .background import LowPriorityWorker
from .catalog import catalog_for
from .chain import build_chain, cite, to_passages
from .corpus import check_paths
from .embeddings import embedding_id, make_embeddings
from .errors import IndexEmptyError
from .followup import is_followup, is_rewrite_of, rewrite_followup, validated_previous
from .index import SearchIndex
from .ingest import IngestReport, ingest
from .normalize import language
from .questions import check_question
from .retrieval import HybridRetriever
from .settings import Settings
from .smalltalk import small_talk_reply
from .token_states import TokenStateStore, store_for

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions about the reports in an index, with citations.

    >>> assistant = Assistant(Settings(index_dir=Path("index")))
    >>> assistant.ingest()            # corpus_dir by default
    >>> assistant.ask("پورے صوبے میں کتنے کیڈرز ہیں؟").answer
    """

    def __init__(self, settings: Settings | None = None, **overrides) -> None:
        base = settings.model_dump() if settings else {}
        self.settings = Settings(**{**base, **overrides})  # validated, whatever the overrides are
        self.embeddings = make_embeddings(self.settings)
        self._embedding_id = embedding_id(self.settings)
        self._index: SearchIndex | None = None
        self._chain = None
        self._chat_model = None
        self._token_states: TokenStateStore | None = None
        self._lock = threading.RLock()  # lazily built state is built once, whichever thread asks first
        self._ingests = LowPriorityWorker()

    @property
    def index(self) -> SearchIndex:
        """The opened index; raises IndexMissingError / IndexMismatchError / IndexCorruptError."""
        with self._lock:
            if self._index is None:
                self._use(SearchIndex.open(self.settings.index_dir, self._embedding_id, self.settings.chroma_url))
                return self._index
            index = self._index
        index.refresh()  # another process's finished ingest (asked at most once a second)
        return index

    def _use(self, index: SearchIndex) -> None:
        self._index = index
        retriever = HybridRetriever(
            index=index,
            embeddings=self.embeddings,
            top_k=self.settings.top_k,
            candidates=self.settings.candidates,
            fusion=self.settings.fusion,
        )
        self.retriever = retriever
        self.answerer = self._make_answerer(index)
        self._chain = build_chain(retriever, self.answerer)

    def _make_answerer(self, index: SearchIndex) -> Answerer:
        extractive = ExtractiveAnswerer(
            lambda: index,
            self.embeddings,
            self.settings.chunk_size,
            min_probability=self.settings.min_evidence,
            tokens=self.token_states,
        )
        if self.settings.answerer == "extractive":
            return extractive
        from .llm import LLMAnswerer

        return LLMAnswerer(self.settings, self.chat_model, extractive if self.settings.llm_fallback else None)

    @property
    def token_states(self) -> TokenStateStore | None:
        """The sentence token states beside the index (None when token matching is off
        or torch is not installed: the reader then answers without it)."""
        with self._lock:
            if self._token_states is None and self.settings.token_matching:
                self._token_states = store_for(self.settings.index_dir)
            return self._token_states

    @property
    def chat_model(self):
        """The LangChain chat model of the LLM backend (built on first use)."""
        with self._lock:
            if self._chat_model is None:
                from .llm import make_chat_model

                self._chat_model = make_chat_model(self.settings)
            return self._chat_model

    def ingest(self, paths: list[Path] | None = None, rebuild: bool = False, progress: bool = False) -> IngestReport:
        """Bring the index up to date with the reports under `paths` (default: corpus_dir).
        The work runs on the assistant's ingest thread, at a lower CPU priority than the
        questions this process answers meanwhile (`background.py`); this call waits for it."""
        paths = [Path(p) for p in paths] if paths else [self.settings.corpus_dir]
        check_paths(paths, self.settings.corpus_dir)  # before the index is touched
        return self._ingests.run(lambda: self._ingest(paths, rebuild, progress))

    def _ingest(self, paths: list[Path], rebuild: bool, progress: bool) -> IngestReport:
        dimension = len(self.embeddings.embed_query("dimension probe"))
        settings = self.settings
        catalog = catalog_for(settings.index_dir, settings.chroma_url)
        with catalog.lock():
            index = SearchIndex.create_or_open(
                settings.index_dir, self._embedding_id, dimension, settings.chroma_url, rebuild, catalog
            )
            try:
                report = ingest(
                    index,
                    self.embeddings,
                    paths,
                    settings.corpus_dir,
                    settings.chunk_size,
                    settings.chunk_overlap,
                    progress,
                    self.token_states,
                )
            finally:  # what it finished is live, also when it failed: servers reload once
                index.publish()
        self._use(index)
        return report

    def ask(self, question: str) -> Answer:
        """Answer from the reports only; `Answer.refused` is True when they do not say
        (and for small talk, which gets a short reply saying what the assistant does)."""
        question = self.check_question(question)
        if (reply := small_talk(question)) is not None:
            return reply
        return self.chain.invoke({"question": question})

    def stream(self, question: str) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is written, then the full `Answer` last
        (the same object `ask` returns; an LLM answer may still fall back after streaming)."""
        question = self.check_question(question)
        if (reply := small_talk(question)) is not None:
            yield reply.answer
            yield reply
            return
        self.chain  # noqa: B018 - opens the index (and says so when it is empty)
        started = time.perf_counter()
        passages = to_passages(self.retriever.invoke(question))
        retrieved = time.perf_counter()
        for item in self.answerer.stream(question, passages):
            if isinstance(item, Draft):
                yield cite(
                    {
                        "question": question,
                        "passages": passages,
                        "draft": item,
                        "answerer": self.answerer.name,
                        "passages_ms": (retrieved - started) * 1000,
                        "draft_ms": (time.perf_counter() - retrieved) * 1000,
                    }
                )
            else:
                yield item

    def rewrite(self, question: object, previous: object = None) -> str:
        """A follow-up rewritten as a standalone question: by the LLM when one is
        configured (falling back to the rules if it fails or writes something that is not
        a question about this conversation), else by the rules. Both inputs are checked
        first: the question like `ask`'s, `previous` as a list of text (None for none)."""
        question = self.check_question(question)
        previous = validated_previous(previous)
        if self.settings.answerer == "llm" and previous and is_followup(question):
            try:
                from .llm import rewrite_with_llm

                written = rewrite_with_llm(self.chat_model, question, previous)
                if is_rewrite_of(written, [question, *previous], self.settings.max_question_chars):
                    return written
                log.warning("LLM rewrite %r dropped: not a question about the conversation", written[:80])
            except Exception:  # noqa: BLE001 - the rules still give a usable question
                log.warning("LLM rewrite failed; using the rule-based rewrite", exc_info=True)
        return rewrite_followup(question, previous)

    @property
    def chain(self):
        """The LangChain runnable behind `ask`: {"question": str} -> Answer. Raises when
        there is no index, or one that holds no reports."""
        if not self.index.chunk_count:
            raise IndexEmptyError(
                f"the index at {self.settings.index_dir} holds no reports; run `assistant ingest <folder of reports>`"
            )
        return self._chain

    def check_question(self, question: object) -> str:
        """The question, trimmed; InvalidQuestionError says what is wrong with it."""
        return check_question(question, self.settings.max_question_chars)


def small_talk(question: str) -> Answer | None:
    """A greeting, thanks or question about the assistant: its short reply, no citation."""
    lang = language(question)
    reply = small_talk_reply(question, lang)
    return None if reply is None else Answer(question=question, language=lang, answer=reply, refused=True,
                                              answerer="small talk")  # fmt: skip
