"""Chat login with throttling: a password cannot be guessed at full speed.

Every failed attempt is answered after a short pause. After `free_failures` failures
in a row for an account, the account is locked for `lock_seconds`, doubling with each
further failure up to `max_lock_seconds`; while locked, every attempt is refused
without the password being checked, so guessing in parallel gains nothing. A correct
password outside a lock clears the count. Pauses are awaited, never slept, so other
users of the chat are not held up."""

import asyncio
import hmac
import time
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


def parse_logins(chat_auth: str) -> dict[str, str]:
    """`user:password[,user:password…]` as {user: password}, passwords exactly as written
    (a password cannot hold a comma); ValueError says what is wrong."""
    accounts: dict[str, str] = {}
    for number, entry in enumerate(chat_auth.split(","), start=1):
        user, sep, password = entry.partition(":")
        if not (sep and user and password):
            raise ValueError(f"chat_auth login {number} must look like 'user:password' (several separated by commas, "
                             "no comma inside a password)")  # fmt: skip
        if user != user.strip() or not user.isprintable():
            raise ValueError(f"chat_auth login {number}: a user name cannot start or end with a space")
        if user in accounts:
            raise ValueError(f"chat_auth names the user {user!r} twice")
        accounts[user] = password
    return accounts


class LoginThrottle:
    def __init__(
        self,
        accounts: dict[str, str],
        free_failures: int = 5,
        lock_seconds: float = 30.0,
        max_lock_seconds: float = 900.0,
        failure_pause: float = 0.5,
        max_accounts: int = 10_000,
    ) -> None:
        self._accounts = dict(accounts)
        self.free_failures, self.lock_seconds, self.max_lock_seconds = free_failures, lock_seconds, max_lock_seconds
        self.failure_pause, self.max_accounts = failure_pause, max_accounts
        self._failures: dict[str, _Failures] = {}

    def locked(self, user: str) -> bool:
        return self._failures.get(user, _Failures()).locked_until > time.monotonic()

    async def check(self, user: str, password: str) -> bool:
        """Gradio's `auth` callable: True lets the user in."""
        if self.locked(user):
            await asyncio.sleep(self.failure_pause)
            return False
        expected = self._accounts.get(user)
        same = hmac.compare_digest(password.encode(), (expected or "\x00" + password).encode())  # unknown: same cost
        right = same and expected is not None
        if right:
            self._failures.pop(user, None)
            return True
        self._record_failure(user)
        await asyncio.sleep(self.failure_pause)
        return False

    def _record_failure(self, user: str) -> None:
        """Count a failure. The real accounts are always counted; other names share a
        bounded table, so a flood of made-up names can neither grow memory nor stop a
        real account from locking."""
        if user not in self._accounts and user not in self._failures and len(self._failures) >= self.max_accounts:
            now = time.monotonic()  # make room by forgetting unlocked names, never a lock
            for name in [n for n, f in self._failures.items() if f.locked_until <= now]:
                del self._failures[name]
            if len(self._failures) >= self.max_accounts:
                return  # every tracked name is locked: this failure still pays the pause
        failures = self._failures.setdefault(user, _Failures())
        failures.count += 1
        over = failures.count - self.free_failures
        if over >= 0:
            failures.locked_until = time.monotonic() + min(self.lock_seconds * 2**over, self.max_lock_seconds)
