"""The one composition root: builds the assistant from settings. The CLI, the chat, the
evals and other tools all go through `Assistant`."""

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .answering import Answerer, ExtractiveAnswerer
from .answers import Answer
from .background import LowPriorityWorker
from .catalog import catalog_for
from .corpus import check_paths, read_report
from .embeddings import embedding_id, make_embeddings
from .errors import CorpusPathError, IndexEmptyError, IndexMissingError
from .followup import FollowUpRewriter, RuleRewriter
from .index import SearchIndex
from .ingest import IngestReport, ingest
from .library import ReportInfo, ReportNotFoundError, find_report, list_reports
from .manifest import DocumentEntry
from .pipeline import Limits, QuestionPipeline, Reading
from .preview import Preview, open_citation
from .questions import check_previous, check_question
from .retrieval import HybridRetriever
from .settings import Settings
from .token_states import TokenStateStore, store_for
from .uploads import place

T = TypeVar("T")

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
        self._reading: Reading | None = None
        self._chat_model = None
        self._token_states: TokenStateStore | None = None
        self._lock = threading.RLock()  # lazily built state is built once, whichever thread asks first
        self._ingests = LowPriorityWorker()
        limits = Limits(self.settings.max_question_chars, self.settings.max_previous_questions)
        self.pipeline = QuestionPipeline(limits, self._make_rewriter(), self._open_reading)

    @property
    def index(self) -> SearchIndex:
        """The opened index; raises IndexMissingError / IndexMismatchError / IndexCorruptError."""
        with self._lock:
            if self._index is None:
                index = SearchIndex.open(self.settings.index_dir, self._embedding_id, self.settings.chroma_url)
                self._use(index)
                return index
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
        self._reading = Reading(retriever, self.answerer)

    def _open_reading(self) -> Reading:
        """The pipeline's index steps: the index opened (and refreshed), refusing an empty one."""
        if not self.index.chunk_count:
            raise IndexEmptyError(
                f"the index at {self.settings.index_dir} holds no reports; run `assistant ingest <folder of reports>`"
            )
        assert self._reading is not None  # set whenever an index is opened
        return self._reading

    def _make_rewriter(self) -> FollowUpRewriter:
        rules = RuleRewriter(self.settings.max_question_chars)
        if self.settings.answerer != "llm":
            return rules
        from .llm import LLMRewriter

        return LLMRewriter(lambda: self.chat_model, self.settings.max_question_chars, rules)

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

    def ingest(
        self, paths: list[Path] | None = None, rebuild: bool = False, progress: bool = False,
        added_by: str | None = None, reread: frozenset[str] = frozenset(),
    ) -> IngestReport:  # fmt: skip
        """Bring the index up to date with the reports under `paths` (default: corpus_dir);
        the reports it indexes anew record `added_by` (the library shows who); those named
        in `reread` are read and indexed again even when their file is unchanged.
        The work runs on the assistant's ingest thread, at a lower CPU priority than the
        questions this process answers meanwhile (`background.py`); this call waits for it."""
        paths = [Path(p) for p in paths] if paths else [self.settings.corpus_dir]
        check_paths(paths, self.settings.corpus_dir)  # before the index is touched
        settings = self.settings

        def work(index: SearchIndex) -> IngestReport:
            return ingest(index, self.embeddings, paths, settings.corpus_dir, settings.chunk_size,
                          settings.chunk_overlap, progress, self.token_states, added_by, reread)  # fmt: skip

        return self._ingests.run(lambda: self._change_index(work, rebuild))

    def _change_index(self, work: Callable[[SearchIndex], T], rebuild: bool = False) -> T:
        """Run `work` on the index holding the catalog's ingest lock; what it finished is
        published (servers reload once), also when it failed."""
        dimension = len(self.embeddings.embed_query("dimension probe"))
        settings = self.settings
        catalog = catalog_for(settings.index_dir, settings.chroma_url)
        with catalog.lock():
            index = SearchIndex.create_or_open(
                settings.index_dir, self._embedding_id, dimension, settings.chroma_url, rebuild, catalog
            )
            try:
                result = work(index)
            finally:
                index.publish()
        self._use(index)
        return result

    def reports(self, search: str = "") -> list[ReportInfo]:
        """The report library: every report in the index (`library.py`); none before the first ingest."""
        return list_reports(self._documents(), search)

    def report(self, doc_id: str) -> ReportInfo:
        """One report of the library; ReportNotFoundError if the index has none by that id."""
        return find_report(self._documents(), doc_id)

    def _documents(self) -> dict:
        try:
            return self.index.documents
        except IndexMissingError:
            return {}

    def _entry(self, doc_id: str) -> DocumentEntry:
        """The index's record of a report; ReportNotFoundError if it has none by that id."""
        self.report(doc_id)
        return self.index.documents[doc_id]

    def reindex_report(self, doc_id: str, added_by: str | None = None) -> IngestReport:
        """Read a report's file again and index it anew (after a reader improved, or to
        repair it), even when the file has not changed."""
        file = Path(self._entry(doc_id)["path"])
        if not file.is_file():
            raise ReportNotFoundError(f"the file of {doc_id!r} is no longer there; remove the report or add it again")
        return self.ingest([file], added_by=added_by, reread=frozenset({doc_id}))

    def replace_report(self, doc_id: str, new_version: Path, added_by: str | None = None) -> IngestReport:
        """Put a new version of a report in place of its file (same format; checked like any
        upload first, and nothing is changed when it fails) and index it."""
        file = Path(self._entry(doc_id)["path"])
        if not file.is_relative_to(self.settings.corpus_dir.resolve()):
            raise CorpusPathError(f"{doc_id!r} lies outside the corpus folder; replace its file there")
        if new_version.suffix.lower() != file.suffix.lower():
            raise CorpusPathError(f"a new version of {file.name} must be a {file.suffix} file too "
                                  f"(got {new_version.suffix or 'no suffix'})")  # fmt: skip
        try:
            read_report(new_version, doc_id)  # too large, unreadable, encrypted, scanned or empty: refused
        except ValueError as exc:
            raise CorpusPathError(f"the new version of {file.name} cannot be used: {exc}") from None
        place(new_version, file)
        return self.ingest([file], added_by=added_by)

    def open_source(self, doc_id: str, start: int, end: int, quote: str | None = None) -> Preview:
        """What a citation opens (`preview.py`): its PDF page with the quoted lines marked, or
        its paragraph in context; ReportNotFoundError once the report is removed."""
        entry = self._entry(doc_id)
        return open_citation(Path(entry["path"]), entry["sha256"], start, end, quote)

    def remove_report(self, doc_id: str) -> ReportInfo:
        """Delete a report: its file from the corpus folder (so no later ingest brings it
        back; a file outside the folder is left where it is) and its chunks from the
        index. Every server on this index sees it at its next question."""
        self.report(doc_id)  # an unknown id (or no index at all) changes nothing, creates nothing
        return self._ingests.run(lambda: self._change_index(lambda index: self._remove(index, doc_id)))

    def _remove(self, index: SearchIndex, doc_id: str) -> ReportInfo:
        removed = find_report(index.documents, doc_id)
        file = Path(index.documents[doc_id]["path"])
        if file.is_relative_to(self.settings.corpus_dir.resolve()):
            file.unlink(missing_ok=True)  # first: a failure after this is healed by the next ingest
        index.remove_document(doc_id)
        index.save()
        index.refresh_lexical()
        return removed

    def ask(self, question: str, previous: list[str] | None = None) -> Answer:
        """Answer from the reports only, a follow-up read against the conversation's
        `previous` standalone questions; `Answer.refused` is True when they do not say (and
        for small talk, which gets a short reply saying what the assistant does)."""
        return self.pipeline.invoke(question, previous)

    def stream(self, question: str, previous: list[str] | None = None) -> Iterator[str | Answer]:
        """`ask`, yielding the answer text in pieces as it is written, then the full
        `Answer` last (an LLM answer may still fall back after streaming)."""
        return self.pipeline.stream(question, previous)

    def rewrite(self, question: object, previous: object = None) -> str:
        """A follow-up as the standalone question the pipeline would search (checked as `ask` checks it)."""
        settings = self.settings
        earlier = check_previous(previous, settings.max_question_chars, settings.max_previous_questions)
        return self.pipeline.rewrite(self.check_question(question), earlier)

    def check_question(self, question: object) -> str:
        """The question, trimmed; InvalidQuestionError says what is wrong with it."""
        return check_question(question, self.settings.max_question_chars)
