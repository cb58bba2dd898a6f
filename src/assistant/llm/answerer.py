"""The LLM answerer: same seam as the extractive one, so it plugs into the same chain,
`Assistant.ask` and `Answer`. It streams the model's tokens, then checks the finished
text (`grounding.py`). A failing answer is flagged, and by default replaced by the
extractive answer, so no invented figure reaches a user unmarked."""

import re
from collections.abc import Iterator

from langchain_core.language_models import BaseChatModel

from ..answering import Answerer, Draft, Evidence
from ..answers import REFUSALS, GroundingReport, Passage
from ..chunking import searchable_text
from ..errors import AssistantError
from ..normalize import language
from ..settings import Settings
from .chat_models import backend_error, check_server
from .grounding import check_grounding
from .prompt import ANSWER_PROMPT, LANGUAGE_NAMES, NOT_IN_REPORTS, format_passages

_MARKER = re.compile(r"\[(\d+)\]")


class LLMAnswerer(Answerer):
    name = "llm"

    def __init__(self, settings: Settings, model: BaseChatModel, fallback: Answerer | None) -> None:
        self.settings = settings
        self.model = model
        self.fallback = fallback
        self._server_checked = False

    def _check_server(self) -> None:
        if not self._server_checked:
            check_server(self.settings)
            self._server_checked = True

    def answer(self, question: str, passages: list[Passage]) -> Draft:
        *_, draft = self.stream(question, passages)
        assert isinstance(draft, Draft)  # the stream's last item
        return draft

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Draft]:
        if not passages:
            yield Draft(REFUSALS[language(question)], refused=True)
            return
        self._check_server()
        messages = ANSWER_PROMPT.format_messages(
            language=LANGUAGE_NAMES[language(question)], passages=format_passages(passages), question=question
        )
        pieces: list[str] = []
        try:
            for chunk in self.model.stream(messages):
                if isinstance(chunk.content, str) and chunk.content:
                    pieces.append(chunk.content)
                    yield chunk.content
        except AssistantError:
            raise
        except Exception as exc:  # client libraries raise their own connection/HTTP errors
            raise backend_error(exc, self.settings) from None
        yield self.finalize(question, passages, "".join(pieces))

    def finalize(self, question: str, passages: list[Passage], text: str) -> Draft:
        """Grounding-check the LLM's finished text and turn it into a Draft (or fall back)."""
        lang = language(question)
        if NOT_IN_REPORTS in text or not text.strip():
            return Draft(REFUSALS[lang], refused=True, grounding=GroundingReport(passed=True, llm_answer=text))
        shown = [searchable_text(p.text, p.start, p.left_out) for p in passages]  # what the model was shown
        check = check_grounding(text, shown)
        report = GroundingReport(
            passed=check.ok,
            llm_answer=text,
            removed_markers=check.removed_markers,
            unsupported_figures=check.unsupported_figures,
            uncited=not check.cited,
        )
        if not check.ok and self.fallback is not None:
            draft = self.fallback.answer(question, passages)
            report.fell_back = True
            draft.grounding, draft.answerer = report, f"{self.fallback.name} (fallback)"
            return draft
        number = {n: i for i, n in enumerate(check.cited, start=1)}  # passage number -> citation number
        renumbered = _MARKER.sub(lambda m: f"[{number[int(m.group(1))]}]", check.text)
        evidence = [
            Evidence(n - 1, passages[n - 1].start, passages[n - 1].end, passages[n - 1].text) for n in check.cited
        ]
        return Draft(renumbered, evidence, refused=False, score=1.0 if check.ok else 0.0, grounding=report)
