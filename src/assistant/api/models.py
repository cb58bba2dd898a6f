"""The HTTP API's requests and replies as pydantic models: FastAPI checks every request
against them (422 with the fields that are wrong) and publishes them at `/docs`."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from ..answers import Answer, Citation
from ..library import ReportInfo


def no_nul(value: str | None, what: str) -> str | None:
    """Text for the server holds no NUL character: it is refused at the door, saying where."""
    if value is not None and (at := value.find("\x00")) >= 0:
        raise ValueError(f"{what} holds a NUL character (\\u0000) at position {at}; remove it")
    return value


class Problem(BaseModel):
    """Every failure: what kind, and a message saying what to do (never a traceback or a server path)."""

    error: str = Field(description="The kind of failure, e.g. InvalidQuestionError, Unauthorized, RequestTooLarge.")
    message: str
    fields: list[dict] | None = Field(None, description="For a request of the wrong shape (422): each field's error.")


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Urdu or English (at most max_question_chars).")
    previous_questions: list[str] | None = Field(
        None, description="The conversation's earlier questions, oldest first: a follow-up is read against them."
    )

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return no_nul(value, "the question") or ""

    @field_validator("previous_questions")
    @classmethod
    def _previous(cls, value: list[str] | None) -> list[str] | None:
        for number, text in enumerate(value or [], start=1):
            no_nul(text, f"previous question {number}")
        return value


class AskReply(Answer):
    standalone_question: str = Field(description="The question searched: a follow-up rewritten to stand alone.")


class IngestRequest(BaseModel):
    paths: list[str] = Field(default_factory=list, description="Files or folders under the corpus folder; [] for all.")
    rebuild: StrictBool = Field(False, description="Build a new index beside the live one, then switch to it.")


class SkippedReply(BaseModel):
    path: str
    reason: str


class IngestReply(BaseModel):
    summary: str
    added: list[str]
    updated: list[str]
    removed: list[str]
    repaired: list[str]
    unchanged: int = Field(description="How many reports were already up to date.")
    skipped: list[SkippedReply]
    chunks: int = Field(description="Chunks in the index after the ingest.")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


class Reports(BaseModel):
    reports: list[ReportInfo]


class Removed(BaseModel):
    removed: ReportInfo


# OpenAI-compatible: the parts of the chat completions API that chat front-ends use


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text: a string, or the text parts of OpenAI's list-of-parts form."""
        if isinstance(self.content, list):
            return " ".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens…: accepted, and without effect
    messages: list[ChatMessage]
    model: str | None = None
    stream: bool = False

    @field_validator("messages")
    @classmethod
    def _messages(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        for number, message in enumerate(messages, start=1):
            if message.role == "user":
                no_nul(message.text(), f"message {number}")
        return messages


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "report-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class CitedReply(BaseModel):
    """What the assistant adds to OpenAI's shape: the citations as data."""

    citations: list[Citation]
    refused: bool
    standalone_question: str


class ChatCompletion(CitedReply):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage = Usage()
