"""A running server while another process changes the reports, and a server started
after an ingest was killed mid-write: real `assistant chat` processes answering over
real HTTP and to a chat page in Chromium, real `assistant ingest` processes, a real
embedded Chroma."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import require
from servers import free_port, wait_until_up

from assistant import Assistant
from assistant.catalog import FolderCatalog

COMMUNE = "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟"  # 2،334, in 000_…
MODELS = "صوبے میں ہنرمند ماس موبلائزیشن کے ماڈلز کی کل تعداد کتنی ہو گئی ہے؟"  # 1,635, in 003_…
DOCUMENTS = "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟"  # 55,279, in 002_…
REMOVED = "003_eac06c45b3d3fc17.txt"
NEW_REPORT = (
    "کوانگ نگائی میں تعلیم کی کانفرنس\n\n"
    "کانفرنس میں بتایا گیا کہ کوانگ نگائی صوبے میں اس وقت 4,321 سرکاری اسکول کام کر رہے ہیں۔ "
    "صوبائی محکمہ تعلیم نے اساتذہ کی تربیت کا نیا منصوبہ بھی پیش کیا۔\n"
)
NEW_QUESTION = "کوانگ نگائی صوبے میں کتنے سرکاری اسکول کام کر رہے ہیں؟"


def _env(index: Path, corpus: Path, **more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, "ASSISTANT_INDEX_DIR": str(index), "ASSISTANT_CORPUS_DIR": str(corpus), **more}


def _ingest(env: dict) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--no-progress"], env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def _serve(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat"],
                                  env={**env, "ASSISTANT_CHAT_PORT": str(port)}, stdout=out, stderr=out)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/health", server, 180, f"assistant chat (log: {log})")
    except BaseException:
        server.kill()
        raise
    return server, url


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


class Asker(threading.Thread):
    """Asks the server questions in a loop, recording every reply until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.replies = url, threading.Event(), []  # (question, status, body)

    def run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=120) as http:
            while not self.stop.is_set():
                for question in (COMMUNE, MODELS, NEW_QUESTION, DOCUMENTS):
                    response = http.post("/api/ask", json={"question": question})
                    body = response.json() if "json" in response.headers.get("content-type", "") else {}
                    self.replies.append((question, response.status_code, body))

    def failures(self) -> list:
        return [(q[:20], s, b.get("message")) for q, s, b in self.replies if s != 200]

    def finish(self, replies_after: int, removed: str, at_least: int) -> None:
        """Stop asking; every reply was an answer, and none after `replies_after` cited `removed`."""
        self.stop.set()
        self.join(timeout=120)
        assert len(self.replies) > at_least and self.failures() == []
        later = [b for q, _, b in self.replies[replies_after:] if q == MODELS]
        assert later and not any(c["doc_id"] == removed for b in later for c in b["citations"])


def _until(ask, check, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        got = ask()
        if check(got):
            return got
        assert time.monotonic() < deadline, f"{what}: still {got}"
        time.sleep(0.5)


def _chat_reply(page, question: str) -> tuple[str, str]:
    """Ask in the open chat page: (the reply's text, the sources panel's text)."""
    from test_chat import _ask

    _ask(page, question)
    assert page.locator("#chat .answer-failed").count() == 0, page.locator("#chat .bot").last.inner_text()
    return page.locator("#chat .bot").last.inner_text(), page.locator("#sources").inner_text()


def test_a_running_server_answers_while_another_process_removes_adds_and_changes_reports(copied, tmp_path, browser):
    """The HTTP API asked in a loop and a person in the chat page, while `assistant
    ingest` processes remove, add and change reports: no failed question anywhere."""
    require("gradio")
    import httpx

    corpus, index = copied
    env = _env(index, corpus)
    server, url = _serve(env, tmp_path / "server.log")
    asker = Asker(url)
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        with httpx.Client(base_url=url, timeout=120) as http:

            def ask(question):
                body = http.post("/api/ask", json={"question": question}).json()
                return body.get("answer"), [c["doc_id"] for c in body.get("citations", [])]

            page.goto(url, wait_until="domcontentloaded")
            reply, sources = _chat_reply(page, MODELS)
            assert "1,635" in reply and REMOVED in sources
            asker.start()
            (corpus / REMOVED).unlink()
            assert "1 removed" in _ingest(env).stdout
            _until(lambda: len(http.get("/api/reports").json()["reports"]), lambda n: n == 4, "the removal")
            answer, cited = ask(MODELS)
            assert REMOVED not in cited and "1,635" not in answer
            mark = len(asker.replies) + 1  # (one may have been asked before the reload)
            reply, sources = _chat_reply(page, MODELS)  # the same chat, the same question, on the new index
            assert "1,635" not in reply and REMOVED not in sources

            (corpus / "new.txt").write_text(NEW_REPORT, encoding="utf-8")
            assert "1 added" in _ingest(env).stdout
            _until(lambda: ask(NEW_QUESTION), lambda got: got[0] == "4,321" and got[1][0] == "new.txt", "the addition")
            reply, sources = _chat_reply(page, NEW_QUESTION)
            assert "4,321" in reply and "new.txt" in sources

            changed = corpus / "002_3524ae84067e7f36.txt"
            changed.write_text(changed.read_text(encoding="utf-8").replace("55,279", "61,004"), encoding="utf-8")
            assert "1 updated" in _ingest(env).stdout
            _until(lambda: ask(DOCUMENTS)[0], lambda got: got == "61,004", "the change")
            time.sleep(2)  # the asker keeps asking the changed index
        asker.finish(mark, REMOVED, at_least=8)
    finally:
        page.close()
        asker.stop.set()
        _stop(server)


KILL_MID_WRITE = """
import os, signal, sys
from chromadb.api.models.Collection import Collection
from assistant.cli import main

real_add = Collection.add

def add(self, *args, **kwargs):  # the uploaded report's chunks are written; killed before its sentences
    metas = kwargs.get("metadatas") or []
    if metas and "chunk_id" in metas[0] and metas[0]["doc_id"].startswith("uploads/"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_add(self, *args, **kwargs)

Collection.add = add
sys.exit(main(["ingest", "--no-progress"]))
"""


def test_a_server_starts_after_an_ingest_was_killed_writing_an_uploaded_report(copied, tmp_path):
    """kill -9 of a real ingest while it writes an uploaded report: the chat starts, answers
    from the intact reports, never from the half-written one, which it drops; the next
    ingest adds it again."""
    require("gradio")
    import httpx

    corpus, index = copied
    env = _env(index, corpus)
    (corpus / "uploads").mkdir()
    (corpus / "uploads" / "new.txt").write_text(NEW_REPORT, encoding="utf-8")
    killed = subprocess.run([sys.executable, "-c", KILL_MID_WRITE], env=env, capture_output=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL
    catalog = FolderCatalog(index)
    entries = catalog.entries(catalog.read()["generation"]).load().entries
    assert entries["uploads/new.txt"]["state"] == "writing"  # it died mid-write

    server, url = _serve(env, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            assert len(http.get("/api/reports").json()["reports"]) == 5
            assert http.post("/api/ask", json={"question": COMMUNE}).json()["answer"] == "2،334"
            new = http.post("/api/ask", json={"question": NEW_QUESTION})
            assert new.status_code == 200 and "uploads/new.txt" not in [c["doc_id"] for c in new.json()["citations"]]
            repaired = Assistant(corpus_dir=corpus, index_dir=index).index  # the server dropped it on start
            assert "uploads/new.txt" not in repaired.documents and not repaired.unfinished()
            assert repaired.collection.count() == repaired.chunk_count

            assert "1 added" in _ingest(env).stdout  # the next ingest adds it again
            _until(lambda: http.post("/api/ask", json={"question": NEW_QUESTION}).json(),
                   lambda got: got["answer"] == "4,321" and got["citations"][0]["doc_id"] == "uploads/new.txt",
                   "the re-ingested upload")  # fmt: skip
    finally:
        _stop(server)
