"""The HTTP API beside the chat, on the same server (Gradio runs on FastAPI):

- `GET /api/health`: whether the index opens, with its size;
- `POST /api/ask` `{"question": ..., "previous_questions": [...]}`: the `Answer` as JSON;
- `POST /api/ingest` `{"paths": [...], "rebuild": false}` (admin): ingest reports that
  lie under the corpus folder, returning the ingest report;
- `GET /v1/models`, `POST /v1/chat/completions`: OpenAI-compatible, streamed or not, so
  chat front-ends and tools can use the assistant; the answer text ends with its
  numbered sources and the response carries the citations as data too.

Access follows the chat's rules: open on loopback without a login; otherwise a request
needs the chat's user and password (HTTP Basic, throttled like the login page) or the
API token (`Authorization: Bearer`, setting `api_token`). Ingest always needs the token."""

import asyncio
import base64
import binascii
import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .answers import Answer
from .assistant import Assistant
from .errors import AssistantError, CorpusPathError, IndexMissingError, InvalidQuestionError

log = logging.getLogger(__name__)
MODEL = "report-assistant"
WRONG_TOKEN_PAUSE = 0.5  # seconds before a wrong token is refused
_STATUS = {InvalidQuestionError: 400, CorpusPathError: 400, IndexMissingError: 503}


class Denied(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sources_text(answer: Answer) -> str:
    """The answer followed by its numbered sources, as plain text for chat front-ends."""
    if answer.refused or not answer.citations:
        return answer.answer
    lines = [answer.answer, "", "Sources:" if answer.language == "en" else "حوالہ جات:"]
    for c in answer.citations:
        lines.append(f"[{c.number}] {c.title} — {c.file} ({c.start}–{c.end}) {c.source_url or ''}".rstrip())
        lines.append(f"    «{c.quote}»")
    return "\n".join(lines)


def mount(app: FastAPI, assistant: Assistant, check_login=None) -> None:
    """Add the API routes to the chat's FastAPI app. `check_login(user, password)` is the
    chat's (throttled) login check; None when the chat has no login (loopback only)."""
    settings = assistant.settings

    async def allowed(request: Request, admin: bool = False) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = settings.api_token
        if scheme.lower() == "bearer" and token and hmac.compare_digest(value.encode(), token.encode()):
            return
        if scheme.lower() == "bearer":
            await asyncio.sleep(WRONG_TOKEN_PAUSE)  # a token cannot be guessed at full speed
        if admin:
            if not token:
                raise Denied(503, "ingest through the API is off: set api_token (ASSISTANT_API_TOKEN)")
            raise Denied(403, "ingest needs the API token (Authorization: Bearer …)")
        if check_login is None:
            return
        if scheme.lower() == "basic" and check_login is not None:
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise Denied(401, "malformed Basic credentials") from None
            if await check_login(user, password):
                return
        raise Denied(401, "log in: HTTP Basic with the chat's user and password, or Authorization: Bearer <api token>")

    def error(exc: Exception) -> JSONResponse:
        if not isinstance(exc, (Denied, AssistantError)):  # logged in full; the caller gets a short message
            log.error("API request failed", exc_info=exc)
            return JSONResponse({"error": "InternalError", "message": "the server failed; see its log"}, 500)
        if isinstance(exc, Denied):
            return JSONResponse({"error": "Unauthorized", "message": str(exc)}, status_code=exc.status,
                                headers={"WWW-Authenticate": "Basic"} if exc.status == 401 else None)  # fmt: skip
        status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 409)
        return JSONResponse({"error": type(exc).__name__, "message": str(exc)}, status_code=status)

    async def body(request: Request) -> dict:
        try:
            data = await request.json()
        except ValueError:
            raise InvalidQuestionError("the request body must be JSON") from None
        if not isinstance(data, dict):
            raise InvalidQuestionError("the request body must be a JSON object")
        return data

    def answer(question: object, previous: object) -> tuple[str, Answer]:
        standalone = assistant.rewrite(question, previous)
        return standalone, assistant.ask(standalone)

    @app.get("/api/health")
    async def health(request: Request):
        try:
            await allowed(request)
            index = await _in_thread(lambda: assistant.index)
            return {"status": "ok", "reports": len(index.documents), "chunks": index.chunk_count,
                    "embedding": index.manifest["embedding"]}  # fmt: skip
        except (Denied, AssistantError) as exc:
            response = error(exc)
            response.status_code = response.status_code if isinstance(exc, Denied) else 503
            return response

    @app.post("/api/ask")
    async def ask(request: Request):
        try:
            await allowed(request)
            data = await body(request)
            standalone, result = await _in_thread(answer, data.get("question"), data.get("previous_questions"))
        except Exception as exc:  # noqa: BLE001 - every failure answers as JSON (see error)
            return error(exc)
        return {"standalone_question": standalone, **result.model_dump(mode="json")}

    @app.post("/api/ingest")
    async def ingest(request: Request):
        try:
            await allowed(request, admin=True)
            data = await body(request)
            paths, rebuild = data.get("paths") or [], data.get("rebuild", False)
            if not isinstance(paths, list) or not isinstance(rebuild, bool):
                raise CorpusPathError('ingest takes {"paths": [names under the corpus folder], "rebuild": true|false}')
            chosen = [_under(settings.corpus_dir, p) for p in paths] or None
            report = await _in_thread(assistant.ingest, chosen, rebuild)
        except Exception as exc:  # noqa: BLE001 - every failure answers as JSON (see error)
            return error(exc)
        return {"summary": report.summary(), "added": report.added, "updated": report.updated,
                "removed": report.removed, "repaired": report.repaired, "unchanged": len(report.unchanged),
                "skipped": [{"path": str(s.path), "reason": s.reason} for s in report.skipped],
                "chunks": report.chunks}  # fmt: skip

    @app.get("/v1/models")
    async def models(request: Request):
        try:
            await allowed(request)
        except Denied as exc:
            return error(exc)
        return {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "report-assistant"}],
        }

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        try:
            await allowed(request)
            data = await body(request)
            messages = data.get("messages") if isinstance(data.get("messages"), list) else []
            users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            if not users:
                raise InvalidQuestionError("messages must hold at least one user message")
            standalone, result = await _in_thread(answer, _text(users[-1]), [_text(u) for u in users[:-1]])
        except Exception as exc:  # noqa: BLE001 - every failure answers as JSON (see error)
            return error(exc)
        text = sources_text(result)
        extra = {"citations": [c.model_dump(mode="json") for c in result.citations], "refused": result.refused,
                 "standalone_question": standalone}  # fmt: skip
        made = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time()), "model": MODEL}
        if data.get("stream"):
            return StreamingResponse(_stream(made, text, extra), media_type="text/event-stream")
        return {**made, "object": "chat.completion", **extra,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}  # fmt: skip


def _text(content: object) -> object:
    """A message's text: a string, or the text parts of OpenAI's list-of-parts form."""
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content


def _under(root: Path, path: object) -> Path:
    """A path inside the corpus folder; anything else is refused (no reading the server's files)."""
    if not isinstance(path, str) or not path:
        raise CorpusPathError("paths must be a list of file or folder names under the corpus folder")
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise CorpusPathError(f"{path!r} is outside the corpus folder; the API ingests only what lies under it")
    return resolved


def _stream(made: dict, text: str, extra: dict) -> Iterator[str]:
    pieces = [text[i : i + 40] for i in range(0, len(text), 40)] or [""]
    for n, piece in enumerate(pieces):
        delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
        chunk = {**made, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    last = {**made, "object": "chat.completion.chunk", **extra,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}  # fmt: skip
    yield f"data: {json.dumps(last, ensure_ascii=False)}\n\ndata: [DONE]\n\n"


async def _in_thread(fn, *args):
    """Blocking work (search, ingest) off the event loop, so other requests go on."""
    import anyio

    return await anyio.to_thread.run_sync(lambda: fn(*args))
