"""The HTTP API's routes, plain `def` endpoints (FastAPI runs them in its thread pool,
so a search or an ingest does not hold up other requests). Each asks through the same
`Assistant` as the chat, the CLI and the evals:

- `GET /api/health`: whether the server can answer, open to a load balancer's probe
  (no login, nothing about the reports);
- `POST /api/ask` `{"question": ..., "previous_questions": [...]}`: the `Answer`;
- `POST /api/ingest` `{"paths": [...], "rebuild": false}` (admin): ingest reports that
  lie under the corpus folder, returning the ingest report;
- `GET /api/reports[?search=...]`, `GET /api/reports/{id}`: the report library;
  `DELETE /api/reports/{id}` (admin) removes a report, file and chunks;
- `GET /v1/models`, `POST /v1/chat/completions`: OpenAI-compatible, streamed or not, so
  chat front-ends and tools can use the assistant; the answer text ends with its
  numbered sources and the reply carries the citations as data too.

A question or earlier question over `max_question_chars`, more than
`max_previous_questions` earlier ones, or a NUL character in a question or an ingest path
is refused (400 or 422) saying which, before any search."""

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute

from ..answers import Answer, location_label
from ..assistant import Assistant
from ..errors import AssistantError, CorpusPathError, IndexMissingError, InvalidQuestionError
from ..library import ReportInfo
from .access import admin, member
from .errors import relative
from .models import (
    AskReply,
    AskRequest,
    ChatCompletion,
    ChatRequest,
    Choice,
    Health,
    IngestReply,
    IngestRequest,
    Model,
    ModelList,
    Problem,
    Removed,
    ReplyMessage,
    Reports,
    SkippedReply,
)

log = logging.getLogger(__name__)
MODEL = "report-assistant"
MAX_PATH_CHARS = 4096
STREAM_PIECE_CHARS = 40
FAILURES: dict[int | str, dict[str, Any]] = {c: {"model": Problem} for c in (400, 401, 403, 404, 413, 422, 429, 503)}


def served(request: Request) -> Assistant:
    return request.app.state.assistant


Served = Annotated[Assistant, Depends(served)]
api = APIRouter(prefix="/api", responses=FAILURES)
openai = APIRouter(prefix="/v1", responses=FAILURES, dependencies=[Depends(member)])


@api.get("/health", responses={503: {"model": Health}})
def health(assistant: Served, response: Response) -> Health:
    """For a load balancer's probe: no login, and nothing about the reports. 200 when
    questions can be answered or no report is indexed yet (the chat then takes the first
    ones); 503 when the index cannot be opened."""
    try:
        assistant.index  # noqa: B018 - opening it is the check
    except IndexMissingError:
        pass
    except AssistantError:
        log.warning("health check: the index cannot be opened", exc_info=True)
        response.status_code = 503
        return Health(status="unavailable")
    return Health(status="ok")


@api.post("/ask", dependencies=[Depends(member)])
def ask(request: AskRequest, assistant: Served) -> AskReply:
    """Answer one question from the reports, with citations; a follow-up is rewritten
    against `previous_questions` first (`standalone_question`)."""
    answer = assistant.ask(request.question, request.previous_questions)
    return AskReply(standalone_question=answer.question, **answer.model_dump())


@api.post("/ingest", dependencies=[Depends(admin)])
def ingest(request: IngestRequest, assistant: Served) -> IngestReply:
    """Bring the index up to date with files or folders under the corpus folder (all of it for `[]`)."""
    root = assistant.settings.corpus_dir
    chosen = [under(root, p) for p in request.paths] or None
    report = assistant.ingest(chosen, request.rebuild)
    return IngestReply(
        summary=report.summary(), added=report.added, updated=report.updated, removed=report.removed,
        repaired=report.repaired, unchanged=len(report.unchanged), chunks=report.chunks,
        skipped=[SkippedReply(path=s.path.as_posix(), reason=relative(s.reason, root)) for s in report.skipped],
    )  # fmt: skip


@api.get("/reports", dependencies=[Depends(member)])
def reports(assistant: Served, search: str = "") -> Reports:
    """The report library, filtered by `search` (title or file) when given."""
    return Reports(reports=assistant.reports(search))


@api.get("/reports/{doc_id:path}", dependencies=[Depends(member)])
def report(doc_id: str, assistant: Served) -> ReportInfo:
    """One report of the library."""
    return assistant.report(doc_id)


@api.delete("/reports/{doc_id:path}", dependencies=[Depends(admin)])
def remove_report(doc_id: str, assistant: Served) -> Removed:
    """Remove a report: its file from the corpus folder and its chunks from the index."""
    return Removed(removed=assistant.remove_report(doc_id))


@openai.get("/models")
def models() -> ModelList:
    return ModelList(data=[Model(id=MODEL)])


@openai.post("/chat/completions", response_model=ChatCompletion)
def chat_completions(request: ChatRequest, assistant: Served):
    """The last user message answered, read against the user messages before it; streamed
    as server-sent events when `stream` is true (the citations come with the last event)."""
    users = [m.text() for m in request.messages if m.role == "user"]
    if not users:
        raise InvalidQuestionError("messages must hold at least one user message")
    keep = assistant.settings.max_previous_questions
    answer = assistant.ask(users[-1], users[:-1][-keep:] if keep else [])
    made = ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex[:12]}", created=int(time.time()), model=MODEL,
        choices=[Choice(message=ReplyMessage(content=sources_text(answer)))],
        citations=answer.citations, refused=answer.refused, standalone_question=answer.question,
    )  # fmt: skip
    if request.stream:
        return StreamingResponse(_events(made), media_type="text/event-stream")
    return made


def _events(made: ChatCompletion) -> Iterator[str]:
    """The finished reply as chat.completion.chunk events, its text in short pieces. The
    answer is complete before the first is sent: an LLM answer that fails its grounding
    check is replaced, and text already sent could not be taken back."""
    text = made.choices[0].message.content
    head = {"id": made.id, "created": made.created, "model": made.model, "object": "chat.completion.chunk"}
    pieces = [text[i : i + STREAM_PIECE_CHARS] for i in range(0, len(text), STREAM_PIECE_CHARS)] or [""]
    for n, piece in enumerate(pieces):
        delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
        yield f"data: {json.dumps({**head, 'choices': [{'index': 0, 'delta': delta}]}, ensure_ascii=False)}\n\n"
    cited = made.model_dump(mode="json", include={"citations", "refused", "standalone_question"})
    last = {**head, **cited, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    yield f"data: {json.dumps(last, ensure_ascii=False)}\n\ndata: [DONE]\n\n"


def sources_text(answer: Answer) -> str:
    """The answer followed by its numbered sources, as plain text for chat front-ends."""
    if answer.refused or not answer.citations:
        return answer.answer
    lines = [answer.answer, "", "Sources:" if answer.language == "en" else "حوالہ جات:"]
    for c in answer.citations:
        where = location_label(c.location, answer.language)
        lines.append(f"[{c.number}] {c.title} — {c.file}{', ' + where if where else ''} {c.source_url or ''}".rstrip())
        lines.append(f"    «{c.quote}»")
    return "\n".join(lines)


def under(root: Path, path: object) -> Path:
    """A path inside the corpus folder; anything else is refused (no reading the server's files)."""
    if not isinstance(path, str) or not path:
        raise CorpusPathError("paths must be a list of file or folder names under the corpus folder")
    if "\x00" in path:
        raise CorpusPathError(f"the path {path[:80]!r} holds a NUL character (\\u0000); remove it")
    if len(path) > MAX_PATH_CHARS:
        raise CorpusPathError(f"a path is {len(path):,} characters long; the limit is {MAX_PATH_CHARS:,}")
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise CorpusPathError(f"{path!r} is outside the corpus folder; the API ingests only what lies under it")
    return resolved


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def refuse_unknown(router: APIRouter) -> None:
    """Any other path under the router's prefix is answered in the API's own shape, not by
    the chat mounted at `/`: 405 naming the methods a path takes, else 404. Added after
    every route of the router, so only what none of them matches comes here."""

    def no_route(request: Request) -> None:
        path = request.url.path
        allowed = sorted(
            method
            for route in router.routes
            if isinstance(route, APIRoute) and route.endpoint is not no_route and route.path_regex.match(path)
            for method in route.methods or ()
        )
        if allowed:
            raise HTTPException(405, f"{request.method} is not allowed here; use {', '.join(allowed)}",
                                headers={"Allow": ", ".join(allowed)})  # fmt: skip
        raise HTTPException(404, f"no such API route: {path} (the routes are listed at /docs)")

    router.api_route("/{rest:path}", methods=METHODS, include_in_schema=False)(no_route)


refuse_unknown(api)
refuse_unknown(openai)
