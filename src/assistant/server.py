"""The server: one FastAPI application holding the HTTP API (`api/`) with the staff chat
(`ui/app.py`) mounted on it at `/`, served by uvicorn (`assistant serve`, alias
`assistant chat`). The API's OpenAPI page is at `/docs`.

A login is required off loopback: the chat's login page and the API share the same
logins (`users.json` and `chat_auth`) and the same throttle."""

import ipaddress
import logging
import socket
import threading
import time

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware import Middleware

from .api import Access, TokenThrottle
from .api.docs import add_docs
from .api.errors import DeclaredTooLarge, add_handlers
from .api.routes import api, openai
from .assistant import Assistant
from .conversations import conversation_store
from .errors import AssistantError
from .formats import UPLOAD_MAX_BYTES
from .settings import Settings
from .ui.app import build_app
from .ui.guard import Guard
from .ui.login import LoginThrottle
from .ui.page import CSS, LOGIN_MESSAGE, ON_LOAD
from .users import Admins, Logins, parse_logins, users_file

log = logging.getLogger(__name__)
STARTUP_SECONDS = 60


def chat_logins(settings: Settings) -> Logins:
    """The logins: the users file under data_dir and chat_auth; AssistantError says what is wrong."""
    try:
        plain = parse_logins(settings.chat_auth) if settings.chat_auth else {}
        named = [a.strip() for a in (settings.chat_admins or "").split(",") if a.strip()]
        return Logins(plain, users_file(settings.data_dir), named)
    except ValueError as exc:
        raise AssistantError(str(exc)) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_theme() -> gr.themes.Base:
    """Gradio's theme with local fonts only: nothing is fetched from a font service."""
    local = gr.themes.Font
    return gr.themes.Default(
        font=[local("Noto Naskh Arabic"), local("Noto Sans Arabic"), local("system-ui"), local("sans-serif")],
        font_mono=[local("monospace")],
    )


def create_app(
    assistant: Assistant, login: LoginThrottle | None = None, tokens: TokenThrottle | None = None
) -> FastAPI:
    """The application: API routes first, the chat at `/` behind them (`login` and
    `tokens` replace the default throttles of logins and API tokens)."""
    settings = assistant.settings
    logins = chat_logins(settings)
    check_login = (login or LoginThrottle(logins)).check if logins else None
    if check_login is None and not is_loopback(settings.chat_host):
        raise AssistantError(
            f"refusing to serve on {settings.chat_host} without a login; add one with `assistant users add NAME` "
            "(or set ASSISTANT_CHAT_AUTH), or bind to 127.0.0.1"
        )
    app = FastAPI(title="Report assistant", summary="Answers about the reports, with citations.",
                  docs_url=None, redoc_url=None, openapi_url=None)  # fmt: skip  # served offline: api/docs.py
    app.state.assistant = assistant
    app.state.access = Access(settings.api_token, check_login, tokens or TokenThrottle())
    add_handlers(app, settings.corpus_dir, settings.api_max_body_bytes)
    app.add_middleware(DeclaredTooLarge, limit=settings.api_max_body_bytes, prefixes=(api.prefix, openai.prefix))
    app.include_router(api, max_body_size=settings.api_max_body_bytes)
    app.include_router(openai, max_body_size=settings.api_max_body_bytes)
    add_docs(app)
    admins = Admins(logins)
    chat = build_app(assistant, conversation_store(settings), admins)
    chat.queue(default_concurrency_limit=settings.chat_workers, max_size=settings.chat_queue_size)
    guard = Middleware(Guard, admins=admins, logins=logins if logins else None)
    return gr.mount_gradio_app(
        app, chat, path="/", server_name=settings.chat_host, server_port=settings.chat_port,
        auth=check_login, auth_message=LOGIN_MESSAGE, show_error=False, footer_links=["api"],
        max_file_size=UPLOAD_MAX_BYTES, theme=local_theme(), css=CSS, js=ON_LOAD,
        app_kwargs={"middleware": [guard]},
    )  # fmt: skip


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host` and `port` (0: any free port); AssistantError when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AssistantError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another port (--port, "
                             "ASSISTANT_CHAT_PORT) or stop what uses it") from None  # fmt: skip
    return sock


class Server:
    """The application served by uvicorn on a bound socket (on its own thread after
    `start`); `url` is where, `close` stops it."""

    def __init__(self, app: FastAPI, host: str, port: int, quiet: bool) -> None:
        config = uvicorn.Config(app, log_level="warning" if quiet else "info", timeout_graceful_shutdown=5)
        self.uvicorn = uvicorn.Server(config)
        self.socket = listen(host, port)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.socket.getsockname()[1]}/"
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        try:
            self.uvicorn.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self.run, name="server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise AssistantError(f"the server did not start on {self.url}; see its log")
            time.sleep(0.05)
        return self

    def close(self) -> None:
        self.uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.socket.close()  # also when it never ran


def serve(assistant: Assistant, block: bool = True, login: LoginThrottle | None = None,
          tokens: TokenThrottle | None = None) -> Server:  # fmt: skip
    """Serve the API and the chat on the configured host and port: until stopped when
    `block`, else on a thread, returning the running `Server`."""
    settings = assistant.settings
    server = Server(create_app(assistant, login, tokens), settings.chat_host, settings.chat_port, not block)
    if block:
        print(f"serving the chat on {server.url} (the API's documentation: {server.url}docs)", flush=True)
        server.run()
        return server
    return server.start()
