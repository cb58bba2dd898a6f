"""The other real backends: a sentence-transformers model (shipped in a PyPI package)
and Chroma in client/server mode (`chroma run`)."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require
from servers import free_port, wait_until_up

from assistant import Assistant
from assistant.evaluation import contains_answer

QUESTION = "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟"
NEW_REPORT = (
    "کوانگ نگائی میں تعلیم کی کانفرنس\n\n"
    "کانفرنس میں بتایا گیا کہ کوانگ نگائی صوبے میں اس وقت 4,321 سرکاری اسکول کام کر رہے ہیں۔ "
    "صوبائی محکمہ تعلیم نے اساتذہ کی تربیت کا نیا منصوبہ بھی پیش کیا۔\n"
)
NEW_QUESTION = "کوانگ نگائی صوبے میں کتنے سرکاری اسکول کام کر رہے ہیں؟"


def test_sentence_transformers_backend(fresh, st_model_path):
    a, corpus = fresh
    st = Assistant(a.settings, embedding=f"sentence-transformers:{st_model_path}", st_query_prefix="")
    report = st.ingest()
    assert len(report.added) == 5
    assert st.index.manifest["embedding"].startswith(f"sentence-transformers:{st_model_path}")
    assert st.index.manifest["dimension"] == 384
    answer = st.ask(QUESTION)
    assert contains_answer("55,279", answer.answer)


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/api/v2/heartbeat", proc, 60, "chroma run")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_chroma_server_mode(fresh, chroma_server):
    a, _ = fresh
    remote = Assistant(a.settings, chroma_url=chroma_server)
    report = remote.ingest()
    assert len(report.added) == 5
    assert not (a.settings.index_dir / "chroma").exists()  # vectors live on the server
    import chromadb

    port = int(chroma_server.rsplit(":", 1)[1])
    server_count = chromadb.HttpClient(host="127.0.0.1", port=port).get_collection("reports").count()
    assert server_count == report.chunks
    reopened = Assistant(a.settings, chroma_url=chroma_server)
    assert contains_answer("55,279", reopened.ask(QUESTION).answer)
    assert reopened.ingest().unchanged  # incremental against the server too


def test_unreachable_chroma_server(fresh):
    a, _ = fresh
    from assistant import AssistantError

    with pytest.raises(AssistantError, match="Chroma"):
        Assistant(a.settings, chroma_url=f"http://127.0.0.1:{free_port()}").ingest()


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env)  # fmt: skip


def test_two_servers_share_one_chroma(tmp_path, corpus_copy, chroma_server):
    """Stateless servers: an ingest through one process (index folder A) is answered by a
    chat server in another process with its own, empty index folder B, which picks up a
    later change to a report without a restart."""
    import os

    import httpx

    require("gradio")
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_copy, corpus)
    env = {**os.environ, "ASSISTANT_CHROMA_URL": chroma_server, "ASSISTANT_CORPUS_DIR": str(corpus)}
    writer = {**env, "ASSISTANT_INDEX_DIR": str(tmp_path / "A")}
    assert _cli("ingest", env=writer).returncode == 0
    assert not (tmp_path / "A" / "manifest.json").exists()  # the catalog lives on the Chroma server

    port = free_port()
    reader = {**env, "ASSISTANT_INDEX_DIR": str(tmp_path / "B"), "ASSISTANT_CHAT_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat"], env=reader,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/api/health", server, 120, "assistant chat")
        with httpx.Client(base_url=url, timeout=60) as http:
            assert len(http.get("/api/reports").json()["reports"]) == 5
            assert http.post("/api/ask", json={"question": QUESTION}).json()["answer"] == "55,279"

            report = corpus / "002_3524ae84067e7f36.txt"
            report.write_text(report.read_text(encoding="utf-8").replace("55,279", "61,004"), encoding="utf-8")
            (corpus / "new.txt").write_text(NEW_REPORT, encoding="utf-8")
            changed = _cli("ingest", env=writer)
            assert changed.returncode == 0 and "1 added, 1 updated" in changed.stdout
            deadline = time.monotonic() + 30
            while len(http.get("/api/reports").json()["reports"]) != 6:  # the reader reloads the catalog
                assert time.monotonic() < deadline
                time.sleep(0.5)
            assert http.post("/api/ask", json={"question": QUESTION}).json()["answer"] == "61,004"
            new = http.post("/api/ask", json={"question": NEW_QUESTION}).json()
            assert new["answer"] == "4,321" and new["citations"][0]["doc_id"] == "new.txt"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / "B" / "lexical").is_dir()  # the reader's only local state: its BM25 cache


def test_a_second_ingest_into_a_shared_chroma_is_refused(fresh, chroma_server):
    from assistant import IndexBusyError
    from assistant.catalog import ChromaCatalog

    a, _ = fresh
    other = ChromaCatalog(a.settings.index_dir, chroma_server)
    with other.lock():  # another machine's ingest holds the lease
        with pytest.raises(IndexBusyError, match="another ingest"):
            Assistant(a.settings, chroma_url=chroma_server).ingest()
    assert len(Assistant(a.settings, chroma_url=chroma_server).ingest().added) == 5
