"""Chat logins kept hashed in a file (`assistant users add`), never on the command line:
the file itself, the CLI that writes it, and a real chat server that reads it again
when it changes."""

import stat
import subprocess
import sys

import httpx
import pytest
from test_live_ingest import _env, _serve, _stop

from assistant.users import Admins, Logins, add_user, read_users, remove_user, users_file


@pytest.mark.slow
def test_users_file_holds_bcrypt_hashes_readable_by_its_owner_only(tmp_path):
    path = users_file(tmp_path / "data")
    assert add_user(path, "amna", "horse-battery", admin=True) is True
    assert add_user(path, "bilal", "staple-ridge") is True
    assert add_user(path, "bilal", "second-ridge") is False  # a new password for the same login
    assert add_user(path, "amna", "horse-battery") is False and read_users(path)["amna"].admin  # the role kept
    text = path.read_text(encoding="utf-8")
    assert "horse-battery" not in text and "ridge" not in text and text.count("$2b$12$") == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {name: a.admin for name, a in read_users(path).items()} == {"amna": True, "bilal": False}
    logins = Logins(path=path)
    assert logins.verify("amna", "horse-battery") and not logins.verify("amna", "horse-batterY")
    assert logins.verify("bilal", "second-ridge") and not logins.verify("bilal", "staple-ridge")
    assert not logins.verify("nobody", "horse-battery")
    admins = Admins(logins)
    assert "amna" in admins and "bilal" not in admins and None not in admins
    remove_user(path, "bilal")
    assert "bilal" not in logins and not logins.verify("bilal", "second-ridge")  # read again once it changed
    with pytest.raises(ValueError, match="no user 'bilal'"):
        remove_user(path, "bilal")


@pytest.mark.parametrize(
    ("name", "password", "says"),
    [
        ("amna", "short", "at least 8 characters"),
        ("amna", "ی" * 40, "at most 72 bytes"),  # bcrypt would read only the first 36 letters
        (" amna", "horse-battery", "without spaces around it"),
        ("a:b", "horse-battery", "':' or ','"),
    ],
)
def test_bad_names_and_passwords_are_refused_saying_why(tmp_path, name, password, says):
    path = users_file(tmp_path)
    with pytest.raises(ValueError, match=says):
        add_user(path, name, password)
    assert not path.exists()


@pytest.mark.slow
def test_the_two_sources_must_not_disagree(tmp_path):
    path = users_file(tmp_path)
    add_user(path, "amna", "horse-battery")
    with pytest.raises(ValueError, match="in the users file and in chat_auth"):
        Logins({"amna": "other-password"}, path)
    with pytest.raises(ValueError, match="chat_admins names users without a login: zed"):
        Logins({"bilal": "pw"}, path, admins=["bilal", "zed"])
    logins = Logins({"bilal": "plain-pw"}, path, admins=["bilal"])
    assert logins.verify("bilal", "plain-pw") and logins.is_admin("bilal") and not logins.is_admin("amna")
    path.write_text("{not json", encoding="utf-8")  # broken while the chat runs: the logins read before stay
    assert logins.verify("amna", "horse-battery")
    with pytest.raises(ValueError, match="not valid JSON"):
        Logins(path=path)
    path.write_text('{"users": {"amna": {"hash": "$2b$12$cut-short"}}}', encoding="utf-8")
    with pytest.raises(ValueError, match="'amna' has no bcrypt hash"):
        Logins(path=path)


def _cli(data, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "assistant.cli", "--data", str(data), "users", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_running_chat_takes_logins_from_the_file_added_without_a_restart(tmp_path, copied):
    """`assistant chat` with no login on its command line or in its environment: the
    users file is the login list; a user added from the CLI while it runs gets in."""
    corpus, index = copied
    data = tmp_path / "data"
    made = _cli(data, "add", "amna", "--admin", stdin="horse-battery\n")
    assert made.returncode == 0 and "added amna (admin)" in made.stdout
    short = _cli(data, "add", "bilal", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    server, url = _serve(_env(index, corpus, ASSISTANT_DATA_DIR=str(data)), tmp_path / "chat.log")  # no chat_auth
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            assert http.get("/api/health").json() == {"status": "ok"}  # open: a load balancer's probe
            assert http.get("/api/reports").status_code == 401  # the file's logins apply, even on loopback
            assert http.get("/api/reports", auth=("amna", "wrong-horse")).status_code == 401
            assert len(http.get("/api/reports", auth=("amna", "horse-battery")).json()["reports"]) == 5
            assert http.get("/api/reports", auth=("bilal", "staple-ridge")).status_code == 401
            assert _cli(data, "add", "bilal", stdin="staple-ridge\n").returncode == 0
            assert len(http.get("/api/reports", auth=("bilal", "staple-ridge")).json()["reports"]) == 5  # no restart
            assert _cli(data, "list").stdout.splitlines() == ["amna\tadmin", "bilal\tstaff"]
            with httpx.Client(base_url=url, timeout=60) as session:  # a browser's session of bilal
                assert session.post("/login", data={"username": "bilal", "password": "staple-ridge"}).status_code == 200
                assert session.get("/config").status_code == 200
                assert _cli(data, "remove", "bilal").returncode == 0
                assert http.get("/api/reports", auth=("bilal", "staple-ridge")).status_code == 401
                assert session.get("/config").status_code == 401  # the session ended with the login
                assert session.post("/login", data={"username": "amna", "password": "horse-battery"}).status_code == 200
                assert session.get("/config").status_code == 200  # the same browser logs in as someone else
    finally:
        _stop(server)
