"""The ASGI guard in front of the chat: the client address for the login throttle, the
sessions of removed logins ended, Gradio's upload routes kept to admins."""

import logging
from collections.abc import Container

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .login import CLIENT
from .page import ADMINS_ONLY

log = logging.getLogger(__name__)

UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")  # Gradio's routes that take files


def logged_in_user(scope: Scope) -> str | None:
    """The chat login of a request, from Gradio's session cookie (None without one), the
    way Gradio's own routes know it."""
    app = scope.get("app")
    cookie_id = getattr(app, "cookie_id", None)
    if cookie_id is None:
        return None
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return getattr(app, "tokens", {}).get(token) if token else None


def end_sessions(scope: Scope, user: str) -> None:
    """Forget every Gradio session of `user` (a login removed while they were logged in)."""
    tokens = getattr(scope.get("app"), "tokens", {})
    for token in [t for t, name in tokens.items() if name == user]:
        tokens.pop(token, None)
    log.warning("sessions of %r ended: the login was removed", user)


class Guard:
    """ASGI middleware in front of the chat: remembers each request's client address for
    the login throttle (`CLIENT`); ends the session of a user removed from the logins
    since they logged in; and lets only admins put files in Gradio's upload cache,
    since only they may add reports (anyone else is answered 403, in one log line)."""

    def __init__(self, app: ASGIApp, admins: Container[str], logins: Container[str] | None = None) -> None:
        self.app, self.admins, self.logins = app, admins, logins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        remembered = CLIENT.set(client[0] if client else "unknown")
        try:
            user = logged_in_user(scope)
            if user and self.logins is not None and user not in self.logins:
                end_sessions(scope, user)  # Gradio now sees no login: its login page, or 401
                user = None
            if scope["type"] == "http" and scope["path"].rstrip("/").endswith(UPLOAD_ROUTES):
                if user not in self.admins:
                    log.warning("upload refused: %s is not an admin (from %s)",
                                repr(user) if user else "no login", CLIENT.get())  # fmt: skip
                    refused = JSONResponse({"error": "Forbidden", "message": ADMINS_ONLY}, status_code=403,
                                           headers={"Connection": "close"})  # fmt: skip
                    await refused(scope, receive, send)
                    return
            await self.app(scope, receive, send)
        finally:
            CLIENT.reset(remembered)
