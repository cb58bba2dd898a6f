"""The typed results the assistant returns to every caller (Python, CLI, chat, evals)."""

from pydantic import BaseModel, Field

REFUSALS = {
    "ur": "رپورٹس میں اس سوال کا جواب نہیں ملا۔",
    "en": "The reports do not say.",
}


class Passage(BaseModel):
    """A retrieved chunk with its scores."""

    chunk_id: str
    doc_id: str
    title: str
    file: str
    source_url: str | None
    start: int = Field(description="Character offset of the chunk in the report's text.")
    end: int
    text: str
    locations: list[tuple[int, str]] = Field(
        default_factory=list, description="(offset, label): where pages or sections start (PDF, Word, HTML)."
    )
    left_out: list[tuple[int, int]] = Field(
        default_factory=list, description="(start, end) of sentences in it judged planted at ingest: never evidence."
    )
    score: float = Field(description="Fused retrieval score.")
    lexical_score: float
    dense_score: float


class Citation(BaseModel):
    """One numbered source: the quoted passage and where it sits in the original file."""

    number: int
    doc_id: str
    title: str
    file: str
    source_url: str | None
    quote: str = Field(description="The supporting passage, verbatim from the report.")
    start: int = Field(description="Character offset of the quote in the report's text (for PDF, Word and HTML "
                       "files, the text as extracted).")  # fmt: skip
    end: int
    location: str | None = Field(None, description="The page (PDF) or section and paragraph (Word, HTML) it is on.")


PAGE = {"ur": "صفحہ", "en": "page"}


def location_label(location: str | None, language: str) -> str:
    """A citation's page or paragraph as people read it, in the answer's language ("page 2"
    is «صفحہ 2» in Urdu; "¶ 5" stays)."""
    if not location:
        return ""
    return PAGE.get(language, "page") + location[4:] if location.startswith("page ") else location


class GroundingReport(BaseModel):
    """What the grounding check found in an LLM answer."""

    passed: bool
    llm_answer: str = Field(description="The LLM's text as written, before any fix or fallback.")
    removed_markers: list[int] = Field(default_factory=list, description="[n] markers that pointed at no passage.")
    unsupported_figures: list[str] = Field(default_factory=list, description="Figures no cited passage contains.")
    uncited: bool = Field(False, description="The answer cited no passage at all.")
    fell_back: bool = Field(False, description="The extractive answer replaced the LLM answer.")


class Answer(BaseModel):
    question: str
    language: str = Field(description="'ur' or 'en', detected from the question's script.")
    answer: str = Field(description="The short answer, or the refusal message.")
    supporting: list[str] = Field(default_factory=list, description="Supporting sentences, verbatim.")
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    refused: bool = False
    evidence: float = Field(
        0.0,
        description="The reader's probability that the reports answer the question (0-1); refused below the threshold.",
    )
    answerer: str = Field(
        "extractive", description="'extractive', 'llm', 'extractive (fallback)' or 'small talk' (a greeting's reply)."
    )
    grounding: GroundingReport | None = Field(None, description="Set for LLM answers.")
    retrieve_ms: float = Field(0.0, description="Milliseconds spent retrieving passages.")
    answer_ms: float = Field(0.0, description="Milliseconds spent writing the answer from them.")
