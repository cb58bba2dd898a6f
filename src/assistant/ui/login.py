"""Chat login with throttling: a password cannot be guessed at full speed.

Failures are counted per source: the client's address together with the user name.
Every failed attempt is answered after a short pause. After `free_failures` failures
in a row from one address for one user, that address is locked out of that user for
`lock_seconds`, doubling with each further failure up to `max_lock_seconds`; while
locked, its attempts are refused without the password being checked, so guessing in
parallel gains nothing. The same user logging in from another address is not locked,
so an attacker who knows a user name cannot keep its owner out. A correct password
outside a lock clears that address's count. Pauses are awaited, never slept, so other
users of the chat are not held up.

The address comes from `CLIENT`, set for each request by the chat's middleware (Gradio
calls the check with the user and password only); "unknown" where none was set."""

import asyncio
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from ..users import Logins

log = logging.getLogger(__name__)
CLIENT: ContextVar[str] = ContextVar("client_address", default="unknown")  # the address of the request being served


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        logins: Logins,
        free_failures: int = 5,
        lock_seconds: float = 30.0,
        max_lock_seconds: float = 900.0,
        failure_pause: float = 0.5,
        max_accounts: int = 10_000,
    ) -> None:
        self._logins = logins
        self.free_failures, self.lock_seconds, self.max_lock_seconds = free_failures, lock_seconds, max_lock_seconds
        self.failure_pause, self.max_accounts = failure_pause, max_accounts  # max_accounts: (address, user) pairs
        self._failures: dict[tuple[str, str], _Failures] = {}

    def locked(self, user: str, source: str | None = None) -> bool:
        """Whether `user` is locked for logins from `source` (from any address when None)."""
        now = time.monotonic()
        if source is not None:
            return self._failures.get((source, user), _Failures()).locked_until > now
        return any(f.locked_until > now for (_, name), f in self._failures.items() if name == user)

    async def check(self, user: str, password: str, source: str | None = None) -> bool:
        """Gradio's `auth` callable: True lets the user in. `source` defaults to `CLIENT`."""
        key = (source or CLIENT.get(), user)
        if self._failures.get(key, _Failures()).locked_until > time.monotonic():
            await asyncio.sleep(self.failure_pause)
            return False
        if await asyncio.to_thread(self._logins.verify, user, password):  # bcrypt: not on the event loop
            self._failures.pop(key, None)
            return True
        self._record_failure(key)
        await asyncio.sleep(self.failure_pause)
        return False

    def _record_failure(self, key: tuple[str, str]) -> None:
        """Count a failure. The table is bounded: when it is full, unlocked entries for
        made-up names go first, and a real account's failure takes the place of a made-up
        name's, even a locked one, so a flood of made-up names can neither grow memory nor
        stop a real account from locking for the address that floods."""
        real = key[1] in self._logins
        if key not in self._failures and len(self._failures) >= self.max_accounts:
            now = time.monotonic()  # make room by forgetting unlocked names, never a real account's count
            for k in [k for k, f in self._failures.items() if f.locked_until <= now and k[1] not in self._logins]:
                del self._failures[k]
            if len(self._failures) >= self.max_accounts and real:
                made_up = next((k for k in self._failures if k[1] not in self._logins), None)
                expired = next((k for k, f in self._failures.items() if f.locked_until <= now), None)
                victim = made_up or expired
                if victim is not None:
                    del self._failures[victim]
            if len(self._failures) >= self.max_accounts:
                return  # the table is full of locks: this failure still pays the pause
        failures = self._failures.setdefault(key, _Failures())
        failures.count += 1
        over = failures.count - self.free_failures
        if over >= 0:
            seconds = min(self.lock_seconds * 2**over, self.max_lock_seconds)
            failures.locked_until = time.monotonic() + seconds
            if real:  # one line per lock of a real account (a made-up name's would only flood the log)
                log.warning("chat login: %r locked for %.0f s from %s after %d failures", key[1], seconds, key[0],
                            failures.count)  # fmt: skip
