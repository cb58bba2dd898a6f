"""The HTTP API beside the chat, on the same server (Gradio runs on FastAPI):

- `GET /api/health`: whether the server can answer, open to a load balancer's probe
  (no login, nothing about the reports);
- `POST /api/ask` `{"question": ..., "previous_questions": [...]}`: the `Answer` as JSON;
- `POST /api/ingest` `{"paths": [...], "rebuild": false}` (admin): ingest reports that
  lie under the corpus folder, returning the ingest report;
- `GET /api/reports[?search=...]`, `GET /api/reports/{id}`: the report library
  (`library.py`); `DELETE /api/reports/{id}` (admin) removes a report, file and chunks;
- `GET /v1/models`, `POST /v1/chat/completions`: OpenAI-compatible, streamed or not, so
  chat front-ends and tools can use the assistant; the answer text ends with its
  numbered sources and the response carries the citations as data too.

Access follows the chat's rules (the health check aside): open on loopback without a login; otherwise a request
needs the chat's user and password (HTTP Basic, throttled like the login page) or the
API token (`Authorization: Bearer`, setting `api_token`). Ingest and removing a report
always need the token.
Failed token checks are limited per source and across all sources (`TokenThrottle`).

Limits: a body over `api_max_body_bytes` is answered 413 without being read (`BodyLimit`
refuses a declared length before anything else; a body without one is read only up to
the limit); a question or earlier question over `max_question_chars`, more than
`max_previous_questions` earlier ones, JSON nested too deeply and a NUL character in a
question or an ingest path are answered 400 saying which. Error messages carry no
traceback and no absolute server path (paths are shown relative to the corpus folder)."""

import asyncio
import base64
import binascii
import hmac
import json
import logging
import math
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.requests import ClientDisconnect

from .answers import Answer, location_label
from .assistant import Assistant
from .errors import AssistantError, CorpusPathError, IndexMissingError, InvalidQuestionError
from .library import ReportNotFoundError
from .ui.login import CLIENT

log = logging.getLogger(__name__)
MODEL = "report-assistant"
WRONG_TOKEN_PAUSE = 0.5  # seconds before a wrong token is refused
API_PREFIXES = ("/api/", "/v1/")
MAX_PATH_CHARS = 4096
_STATUS = {InvalidQuestionError: 400, CorpusPathError: 400, IndexMissingError: 503, ReportNotFoundError: 404}
_ERROR_NAMES = {401: "Unauthorized", 403: "Forbidden", 413: "RequestTooLarge", 429: "TooManyFailures",
                503: "Unavailable"}  # fmt: skip


class Denied(Exception):
    """A request refused before its work starts: status and a message for the caller."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def too_large(limit: int) -> Denied:
    return Denied(413, f"the request body is larger than {limit:,} bytes (api_max_body_bytes); send less")


class BodyLimit:
    """ASGI middleware: a request to /api or /v1 declaring a body over `limit` bytes is
    answered 413 at once, before its body is read or anything else is done with it."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIXES):
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.limit:
                response = _json_error(too_large(self.limit))
                response.headers["Connection"] = "close"  # the rest of the body is never read
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class TokenThrottle:
    """Failed API-token checks, limited two ways so a token cannot be guessed in parallel:

    - per source (client address): after `free_failures` wrong tokens the source is
      locked for `lock_seconds`, doubling with each further failure up to
      `max_lock_seconds`; while locked its tokens are refused unchecked (429);
    - across all sources: a token bucket of `burst` failures refilled at
      `failures_per_second`; while it is empty, every source with a recent failure is
      refused unchecked (429), so many sources together gain no speed either.

    A source with no recent failure always has its token checked, so the right token keeps
    working during an attack from elsewhere. Each lock and each time the bucket runs dry
    is one log line (the source address, never a token). Failures are forgotten after
    `forget_seconds` without one; the table of sources is bounded (`max_sources`)."""

    def __init__(self, free_failures: int = 5, lock_seconds: float = 30.0, max_lock_seconds: float = 900.0,
                 failures_per_second: float = 2.0, burst: int = 20, pause: float = WRONG_TOKEN_PAUSE,
                 forget_seconds: float = 3600.0, max_sources: int = 10_000) -> None:  # fmt: skip
        self.free_failures, self.lock_seconds, self.max_lock_seconds = free_failures, lock_seconds, max_lock_seconds
        self.rate, self.burst, self.pause = failures_per_second, burst, pause
        self.forget_seconds, self.max_sources = forget_seconds, max_sources
        self._sources: dict[str, _Failures] = {}
        self._bucket, self._filled_at, self._dry = float(burst), time.monotonic(), False

    def _refill(self, now: float) -> None:
        self._bucket = min(self.burst, self._bucket + (now - self._filled_at) * self.rate)
        self._filled_at = now
        if self._bucket >= 1:
            self._dry = False

    def _record(self, source: str, now: float) -> _Failures | None:
        failures = self._sources.get(source)
        if failures and now - failures.last > self.forget_seconds and failures.locked_until <= now:
            failures = self._sources[source] = _Failures()
        if failures is None:
            if len(self._sources) >= self.max_sources:
                for name in [n for n, f in self._sources.items() if f.locked_until <= now]:
                    del self._sources[name]  # make room by forgetting unlocked sources, never a lock
            if len(self._sources) >= self.max_sources:
                return None
            failures = self._sources[source] = _Failures()
        return failures

    def refusal(self, source: str) -> Denied | None:
        """Why a token from `source` is refused without being checked, or None to check it."""
        now = time.monotonic()
        failures = self._sources.get(source)
        if failures and failures.locked_until > now:
            wait = failures.locked_until - now
            return Denied(429, f"too many wrong API tokens from this address; try again in {math.ceil(wait)} s", wait)
        self._refill(now)
        recent = failures is not None and failures.count and now - failures.last <= self.forget_seconds
        if recent and self._bucket < 1:
            wait = (1 - self._bucket) / self.rate
            return Denied(429, "too many wrong API tokens on this server; try again shortly", wait)
        return None

    def succeeded(self, source: str) -> None:
        self._sources.pop(source, None)

    def failed(self, source: str) -> None:
        now = time.monotonic()
        self._refill(now)
        self._bucket = max(0.0, self._bucket - 1)
        if self._bucket < 1 and not self._dry:
            self._dry = True
            log.warning("API token: failed checks reached the server-wide limit (%d, then %.1f/s); addresses with "
                        "recent failures are refused unchecked until it refills", self.burst, self.rate)  # fmt: skip
        failures = self._record(source, now)
        if failures is None:
            return  # every tracked source is locked: this failure still paid the pause and the bucket
        failures.count += 1
        failures.last = now
        over = failures.count - self.free_failures
        if over >= 0:
            seconds = min(self.lock_seconds * 2**over, self.max_lock_seconds)
            failures.locked_until = now + seconds
            log.warning("API token: %s locked for %.0f s after %d wrong tokens", source, seconds, failures.count)


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


def mount(app: FastAPI, assistant: Assistant, check_login=None, tokens: TokenThrottle | None = None) -> None:
    """Add the API routes to the chat's FastAPI app. `check_login(user, password)` is the
    chat's (throttled) login check; None when the chat has no login (loopback only).
    `tokens` limits failed token checks (default: `TokenThrottle()`)."""
    settings = assistant.settings
    tokens = tokens or TokenThrottle()

    async def allowed(request: Request, admin: bool = False) -> None:
        if check_login is None and not admin:
            return  # no chat login (loopback only): open, whatever the request carries
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = settings.api_token
        source = request.client.host if request.client else "unknown"
        if scheme.lower() == "bearer" and token:
            refused = tokens.refusal(source)
            if refused:
                await asyncio.sleep(tokens.pause)
                raise refused
            if hmac.compare_digest(value.encode(), token.encode()):
                tokens.succeeded(source)
                return
            tokens.failed(source)
        if scheme.lower() == "bearer":
            await asyncio.sleep(tokens.pause)  # a token cannot be guessed at full speed
        if admin:
            if not token:
                raise Denied(503, "changing reports through the API is off: set api_token (ASSISTANT_API_TOKEN)")
            raise Denied(403, "changing reports needs the API token (Authorization: Bearer …)")
        if scheme.lower() == "basic" and check_login is not None:
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise Denied(401, "malformed Basic credentials") from None
            remembered = CLIENT.set(source)  # the login throttle counts failures per address and user
            try:
                if await check_login(user, password):
                    return
            finally:
                CLIENT.reset(remembered)
        raise Denied(401, "log in: HTTP Basic with the chat's user and password, or Authorization: Bearer <api token>")

    def error(exc: Exception) -> JSONResponse:
        return _json_error(exc, settings.corpus_dir)

    async def body(request: Request) -> dict:
        """The JSON object sent, read only up to `api_max_body_bytes`."""
        limit = settings.api_max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        raw = bytearray()
        try:
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > limit:
                    raise too_large(limit)
        except ClientDisconnect:
            raise InvalidQuestionError("the request body did not arrive in full") from None
        try:
            data = json.loads(raw)
        except RecursionError:
            raise InvalidQuestionError("the request body is JSON nested too deeply; send a flat JSON object") from None
        except ValueError:
            raise InvalidQuestionError("the request body must be JSON") from None
        if not isinstance(data, dict):
            raise InvalidQuestionError("the request body must be a JSON object")
        return data

    def answer(question: object, previous: object) -> tuple[str, Answer]:
        check_inputs(question, previous, settings.max_question_chars, settings.max_previous_questions)
        standalone = assistant.rewrite(question, previous)
        return standalone, assistant.ask(standalone)

    @app.get("/api/health")
    async def health():
        """For a load balancer's probe: no login, and nothing about the reports. 200 when
        questions can be answered or no report is indexed yet (the chat then takes the
        first ones); 503 when the index cannot be opened."""
        try:
            await _in_thread(lambda: assistant.index)
        except IndexMissingError:
            return {"status": "ok"}
        except AssistantError:
            log.warning("health check: the index cannot be opened", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return {"status": "ok"}

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
        root = settings.corpus_dir
        skipped = [{"path": s.path.as_posix(), "reason": _relative(s.reason, root)} for s in report.skipped]
        return {"summary": report.summary(), "added": report.added, "updated": report.updated,
                "removed": report.removed, "repaired": report.repaired, "unchanged": len(report.unchanged),
                "skipped": skipped, "chunks": report.chunks}  # fmt: skip

    @app.get("/api/reports")
    async def reports(request: Request, search: str = ""):
        try:
            await allowed(request)
            listed = await _in_thread(assistant.reports, search)
        except Exception as exc:  # noqa: BLE001 - every failure answers as JSON (see error)
            return error(exc)
        return {"reports": [r.model_dump(mode="json") for r in listed]}

    @app.get("/api/reports/{doc_id:path}")
    async def report(request: Request, doc_id: str):
        try:
            await allowed(request)
            return (await _in_thread(assistant.report, doc_id)).model_dump(mode="json")
        except Exception as exc:  # noqa: BLE001 - every failure answers as JSON (see error)
            return error(exc)

    @app.delete("/api/reports/{doc_id:path}")
    async def remove_report(request: Request, doc_id: str):
        try:
            await allowed(request, admin=True)
            removed = await _in_thread(assistant.remove_report, doc_id)
        except Exception as exc:  # noqa: BLE001 - every failure answers as JSON (see error)
            return error(exc)
        return {"removed": removed.model_dump(mode="json")}

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
            earlier = users[:-1][-settings.max_previous_questions :] if settings.max_previous_questions else []
            standalone, result = await _in_thread(answer, _text(users[-1]), [_text(u) for u in earlier])
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


def check_text(value: object, what: str, limit: int) -> None:
    """Refuse text over `limit` characters or holding a NUL, saying which; other kinds of
    value are left to the assistant's own checks."""
    if not isinstance(value, str):
        return
    if len(value) > limit:
        raise InvalidQuestionError(f"{what} is {len(value):,} characters long; the limit is {limit:,} "
                                   "(max_question_chars). Ask something shorter.")  # fmt: skip
    at = value.find("\x00")
    if at >= 0:
        raise InvalidQuestionError(f"{what} holds a NUL character (\\u0000) at position {at}; remove it")


def check_inputs(question: object, previous: object, limit: int, max_previous: int) -> None:
    """A question and its earlier questions within the limits, checked before any other
    work: each at most `limit` characters without a NUL, at most `max_previous` of them."""
    check_text(question, "the question", limit)
    if isinstance(previous, list):
        if len(previous) > max_previous:
            raise InvalidQuestionError(f"previous_questions holds {len(previous):,} questions; the limit is "
                                       f"{max_previous} (max_previous_questions): send the latest only")  # fmt: skip
        for number, earlier in enumerate(previous, start=1):
            check_text(earlier, f"previous question {number}", limit)


_ABSOLUTE = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/]+/)*([^\s'\"/]+)")


def _relative(text: str, root: Path) -> str:
    """`text` (an error message) without absolute server paths: paths under the corpus
    folder shown relative to it, any other absolute path cut to its last part."""
    prefixes = {str(root.resolve()), str(root.absolute())}
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/.-]){re.escape(prefix)}{re.escape(os.sep)}(?=\S)", "", text)
        text = re.sub(rf"(?<![\w/.-]){re.escape(prefix)}(?![\w.-])", "the corpus folder", text)
    return _ABSOLUTE.sub(lambda m: f"…/{m.group(1)}", text)


def _json_error(exc: Exception, root: Path | None = None) -> JSONResponse:
    """Every failure as JSON {"error", "message"}: never a traceback, never an absolute path."""
    if not isinstance(exc, (Denied, AssistantError)):  # logged in full; the caller gets a short message
        log.error("API request failed", exc_info=exc)
        return JSONResponse({"error": "InternalError", "message": "the server failed; see its log"}, 500)
    if isinstance(exc, Denied):
        headers = {"WWW-Authenticate": "Basic"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return JSONResponse({"error": _ERROR_NAMES.get(exc.status, "Refused"), "message": str(exc)},
                            status_code=exc.status, headers=headers or None)  # fmt: skip
    status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 409)
    message = _relative(str(exc), root) if root is not None else str(exc)
    return JSONResponse({"error": type(exc).__name__, "message": message}, status_code=status)


def _under(root: Path, path: object) -> Path:
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
