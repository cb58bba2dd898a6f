"""Chat logins: who may log in, and which of them are admins (may change reports).

Two sources make one list. The users file (`data_dir/users.json`, written by
`assistant users add|remove`) holds a bcrypt hash per user and an admin flag; it is
created readable by its owner only and written whole, atomically. `chat_auth`
('user:password,…' from the environment: a quick start, or a container's secret) holds
plain passwords; `chat_admins` names further admins. A name in both sources is refused
at start. The file is read again when it changes, so a user added or removed while the
chat runs counts from their next login."""

import hmac
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bcrypt

log = logging.getLogger(__name__)

USERS_FILE = "users.json"
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further: a longer password is refused, not cut
ROUNDS = 12  # bcrypt's cost: about a quarter of a second per check here
_HASH = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
# one bcrypt check at a time: guesses under made-up names cannot take both cores from the questions
_CHECKING = threading.BoundedSemaphore(1)


@cache
def _unknown() -> bytes:
    """A hash no password matches, checked for an unknown name so that it costs what a known one does."""
    return bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(ROUNDS))


def users_file(data_dir: Path) -> Path:
    return data_dir / USERS_FILE


@dataclass(frozen=True)
class Account:
    admin: bool = False
    hashed: bytes | None = None  # bcrypt, from the users file
    plain: str | None = None  # from chat_auth


def check_name(name: str) -> str:
    if not name or name != name.strip() or not name.isprintable() or any(c in name for c in ":,"):
        raise ValueError(f"a user name must be printable, without spaces around it, ':' or ',' (got {name!r})")
    if len(name) > 64:
        raise ValueError("a user name is at most 64 characters")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"a password is at most {MAX_PASSWORD_BYTES} bytes (bcrypt reads no further)")
    return password


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


def read_users(path: Path) -> dict[str, Account]:
    """The users file as {name: Account}; {} when there is none. ValueError when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValueError(f"the users file {path} cannot be read ({exc.strerror}); check its owner and mode") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the users file {path} is not valid JSON ({exc}); fix or remove it") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise ValueError(f'the users file {path} must hold {{"users": {{name: {{"hash": …, "admin": …}}}}}}')
    accounts = {}
    for name, entry in users.items():
        hashed = entry.get("hash") if isinstance(entry, dict) else None
        if not isinstance(hashed, str) or not _HASH.fullmatch(hashed):
            raise ValueError(f"the users file {path}: {name!r} has no bcrypt hash")
        accounts[name] = Account(admin=entry.get("admin") is True, hashed=hashed.encode())
    return accounts


def _write_users(path: Path, accounts: dict[str, Account]) -> None:
    users = {name: {"hash": a.hashed.decode(), "admin": a.admin} for name, a in sorted(accounts.items()) if a.hashed}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".users.", suffix=".part")  # created 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"users": users}, out, ensure_ascii=False, indent=1)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


def add_user(path: Path, name: str, password: str, admin: bool | None = None) -> bool:
    """Add a user, or set a new password for one already there; True when new. `admin`
    sets the role; None keeps a user's role (a new user is staff)."""
    accounts = read_users(path)
    hashed = bcrypt.hashpw(check_password(password).encode(), bcrypt.gensalt(ROUNDS))
    new = check_name(name) not in accounts
    role = accounts[name].admin if admin is None and not new else bool(admin)
    accounts[name] = Account(admin=role, hashed=hashed)
    _write_users(path, accounts)
    return new


def remove_user(path: Path, name: str) -> None:
    accounts = read_users(path)
    if name not in accounts:
        raise ValueError(f"no user {name!r} in {path}")
    del accounts[name]
    _write_users(path, accounts)


class Logins:
    """Every chat login: the users file (read again when it changes) and `chat_auth`."""

    def __init__(self, plain: dict[str, str] | None = None, path: Path | None = None,
                 admins: Iterable[str] = ()) -> None:  # fmt: skip
        self._plain, self._path, self._named_admins = dict(plain or {}), path, frozenset(admins)
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._file: dict[str, Account] = {}
        self._refresh(strict=True)
        both = set(self._plain) & set(self._file)
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: in the users file and in chat_auth; keep one")
        unknown = self._named_admins - set(self._plain) - set(self._file)
        if unknown:
            raise ValueError(f"chat_admins names users without a login: {', '.join(sorted(unknown))}")

    def _refresh(self, strict: bool = False) -> None:
        if self._path is None:
            return
        try:
            stat = self._path.stat()
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # written whole by os.replace: a new inode
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen == self._seen:
                return
            try:
                accounts = read_users(self._path)
            except ValueError as exc:
                if strict:
                    raise
                log.error("%s; the logins read before stay in force", exc)
                return
            both = set(self._plain) & set(accounts)
            if both and not strict:  # at start this is refused; later, chat_auth's login stands
                log.error("%s: added to the users file but also in chat_auth; the chat_auth login stands",
                          ", ".join(sorted(both)))  # fmt: skip
            self._file, self._seen = accounts, seen

    def _account(self, user: str) -> Account | None:
        self._refresh()
        if user in self._plain:
            return Account(admin=user in self._named_admins, plain=self._plain[user])
        return self._file.get(user)

    def __bool__(self) -> bool:
        """Whether anyone must log in."""
        self._refresh()
        return bool(self._plain or self._file)

    def __contains__(self, user: object) -> bool:
        return isinstance(user, str) and self._account(user) is not None

    def is_admin(self, user: str | None) -> bool:
        account = self._account(user) if user else None
        return account is not None and (account.admin or user in self._named_admins)

    def verify(self, user: str, password: str) -> bool:
        """Whether the password is the user's; an unknown user costs the same."""
        account = self._account(user)
        hashed_users = bool(set(self._file) - set(self._plain))
        if account is not None and account.plain is not None or account is None and not hashed_users:
            if hashed_users:  # a plain login costs a bcrypt check too, so timing tells no source apart
                self._bcrypt(password, _unknown())
            expected = account.plain if account is not None and account.plain is not None else "\x00" + password
            return hmac.compare_digest(password.encode(), expected.encode()) and account is not None
        matched = self._bcrypt(password, account.hashed if account and account.hashed else _unknown())
        return matched and account is not None and len(password.encode()) <= MAX_PASSWORD_BYTES

    @staticmethod
    def _bcrypt(password: str, hashed: bytes) -> bool:
        with _CHECKING:
            return bcrypt.checkpw(password.encode()[:MAX_PASSWORD_BYTES], hashed)


class Admins:
    """The users who may change reports, as `user in admins`, always as the logins are now."""

    def __init__(self, logins: Logins) -> None:
        self._logins = logins

    def __contains__(self, user: object) -> bool:
        return isinstance(user, str) and self._logins.is_admin(user)
