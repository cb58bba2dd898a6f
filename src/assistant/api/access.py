"""Who may use the HTTP API, as FastAPI dependencies shared by every route
(`member`, `admin`), and the limit on guessing API tokens (`TokenThrottle`).

Access follows the chat's rules (the health check aside): open on loopback without a
login; otherwise a request needs the chat's user and password (HTTP Basic, throttled
like the login page) or the API token (`Authorization: Bearer`, setting `api_token`).
Ingest and removing a report always need the token. A wrong token is answered after a
pause, so a token cannot be guessed at full speed."""

import asyncio
import binascii
import hmac
import logging
import math
import time
from base64 import b64decode
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from ..ui.login import CLIENT

log = logging.getLogger(__name__)
WRONG_TOKEN_PAUSE = 0.5  # seconds before a wrong token is refused
LoginCheck = Callable[[str, str], Awaitable[bool]]


class Denied(Exception):
    """A request refused before its work starts: status and a message for the caller."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


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


class Malformed(HTTPBasicCredentials):
    """Basic credentials that could not be read: refused, unless the server needs no login."""


class Utf8Basic(HTTPBasic):
    """HTTP Basic credentials read as UTF-8 (RFC 7617's charset="UTF-8"), so a login
    written in Urdu works; FastAPI's own reads ASCII only."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, colon, password = b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return Malformed(username="", password="")
        return HTTPBasicCredentials(username=user, password=password) if colon else Malformed(username="", password="")


@dataclass
class Access:
    """The rules of one server: its API token, the chat's (throttled) login check, None
    when the chat has no login (served on loopback only), and the token throttle."""

    api_token: str | None
    check_login: LoginCheck | None
    tokens: TokenThrottle

    async def allow(self, source: str, token: str | None, login: HTTPBasicCredentials | None, admin: bool) -> None:
        if self.check_login is None and not admin:
            return  # no chat login (loopback only): open, whatever the request carries
        if token is not None and self.api_token:
            if refused := self.tokens.refusal(source):
                await asyncio.sleep(self.tokens.pause)
                raise refused
            if hmac.compare_digest(token.encode(), self.api_token.encode()):
                self.tokens.succeeded(source)
                return
            self.tokens.failed(source)
        if token is not None:
            await asyncio.sleep(self.tokens.pause)
        if admin:
            if not self.api_token:
                raise Denied(503, "changing reports through the API is off: set api_token (ASSISTANT_API_TOKEN)")
            raise Denied(403, "changing reports needs the API token (Authorization: Bearer …)")
        if isinstance(login, Malformed):
            raise Denied(401, "malformed Basic credentials: base64 of user:password expected")
        if login is not None and self.check_login is not None:
            remembered = CLIENT.set(source)  # the login throttle counts failures per address and user
            try:
                if await self.check_login(login.username, login.password):
                    return
            finally:
                CLIENT.reset(remembered)
        raise Denied(401, "log in: HTTP Basic with the chat's user and password, or Authorization: Bearer <api token>")


_bearer = HTTPBearer(auto_error=False)
_basic = Utf8Basic(auto_error=False)
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Login = Annotated[HTTPBasicCredentials | None, Depends(_basic)]


def _source(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def member(request: Request, token: Token, login: Login) -> None:
    """Any logged-in user, or the API token."""
    bearer = token.credentials if token and token.scheme.lower() == "bearer" else None
    await request.app.state.access.allow(_source(request), bearer, login, admin=False)


async def admin(request: Request, token: Token) -> None:
    """The API token only: changing the reports."""
    bearer = token.credentials if token and token.scheme.lower() == "bearer" else None
    await request.app.state.access.allow(_source(request), bearer, None, admin=True)
