"""The other real backends: a sentence-transformers model (shipped in a PyPI package)
and Chroma in client/server mode (`chroma run`)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port, wait_until_up

from assistant import Assistant
from assistant.evaluation import contains_answer

QUESTION = "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟"


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
