"""Every failure of the HTTP API as JSON `{"error", "message"}` (`models.Problem`), one
handler per kind: never a traceback, never an absolute server path (paths under the
corpus folder are shown relative to it)."""

import math
import os
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import AssistantError, CorpusPathError, IndexMissingError, InvalidQuestionError
from ..library import ReportNotFoundError
from .access import Denied

STATUS = {InvalidQuestionError: 400, CorpusPathError: 400, IndexMissingError: 503, ReportNotFoundError: 404}
NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
         413: "RequestTooLarge", 429: "TooManyFailures", 503: "Unavailable"}  # fmt: skip


def problem(status: int, error: str, message: str, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status, headers=headers)


_ABSOLUTE = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/]+/)*([^\s'\"/]+)")


def relative(text: str, root: Path) -> str:
    """`text` (an error message) without absolute server paths: paths under the corpus
    folder shown relative to it, any other absolute path cut to its last part."""
    prefixes = {str(root.resolve()), str(root.absolute())}
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/.-]){re.escape(prefix)}{re.escape(os.sep)}(?=\S)", "", text)
        text = re.sub(rf"(?<![\w/.-]){re.escape(prefix)}(?![\w.-])", "the corpus folder", text)
    return _ABSOLUTE.sub(lambda m: f"…/{m.group(1)}", text)


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes (api_max_body_bytes); send less"


class DeclaredTooLarge:
    """ASGI middleware: a request to the API declaring a body over `limit` bytes is answered
    413 at once, before any of it is read. (The routers' `max_body_size` stops a body that
    declares no length once it passes the limit; Starlette answers a declared one in plain
    text, not as a `Problem`.)"""

    def __init__(self, app: ASGIApp, limit: int, prefixes: tuple[str, ...]) -> None:
        self.app, self.limit, self.prefixes = app, limit, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.limit:
                refused = problem(413, "RequestTooLarge", too_large(self.limit), {"Connection": "close"})
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def add_handlers(app: FastAPI, corpus_dir: Path, body_limit: int) -> None:
    """Answer every failure of the API's routes as a `Problem`."""

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> JSONResponse:
        headers = {"WWW-Authenticate": "Basic"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return problem(exc.status, NAMES.get(exc.status, "Refused"), str(exc), headers or None)

    @app.exception_handler(AssistantError)
    async def refused(request: Request, exc: AssistantError) -> JSONResponse:
        status = next((s for t, s in STATUS.items() if isinstance(exc, t)), 409)
        return problem(status, type(exc).__name__, relative(str(exc), corpus_dir))

    @app.exception_handler(RequestValidationError)
    async def wrong_shape(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        said = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        message = f"the request does not have the expected form: {said}"
        if "json" not in request.headers.get("content-type", "") and request.method in ("POST", "PUT"):
            message = "the request body must be a JSON object sent with Content-Type: application/json; " + message
        return problem(422, "InvalidRequest", message, fields=fields)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 413:
            message = too_large(body_limit)
        elif exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            message = "the request body is JSON nested too deeply; send a flat JSON object"
        headers = {**(exc.headers or {}), **({"Connection": "close"} if exc.status_code == 413 else {})}
        return problem(exc.status_code, NAMES.get(exc.status_code, "Refused"), message, headers or None)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        """The caller gets one line; Starlette raises the error on, and the server logs it in full."""
        return problem(500, "InternalError", "the server failed; see its log")
