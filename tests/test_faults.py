"""Faults from a hostile test of the assistant, each kept fixed: nothing is lost, and
every fault gets a one-line error that says what is wrong (real files, real Chroma)."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import CORPUS
from langchain_core.embeddings import Embeddings
from pydantic import ValidationError

from assistant import (
    Assistant,
    CorpusPathError,
    IndexCorruptError,
    IndexEmptyError,
    IndexPathError,
    InvalidQuestionError,
    Settings,
)
from assistant.catalog import FolderCatalog
from assistant.manifest import MANIFEST, STAGED

COMMUNE_WORKERS = "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟"  # 2،334, in 000_…
PARTY_MEMBERS = "صوبائی پیپلز کمیٹی کے دفتر میں اس وقت پارٹی کے کتنے ارکان ہیں؟"  # 82, in 002_…


def _copy(assistant: Assistant, tmp_path) -> Assistant:
    """An assistant over a private copy of the session's index."""
    index = tmp_path / "index"
    shutil.copytree(assistant.settings.index_dir, index)
    return Assistant(assistant.settings, index_dir=index)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, timeout=300)


class FailingEmbeddings(Embeddings):
    """Fault injector around the real embedder: raises, as a crash or Ctrl-C in the
    middle of an ingest would, when asked to embed text containing `poison`; counts
    the texts it embedded."""

    def __init__(self, real, poison: str | None = None) -> None:
        self.real, self.poison, self.embedded = real, poison, 0

    def embed_documents(self, texts):
        if self.poison and any(self.poison in t for t in texts):
            raise KeyboardInterrupt("injected fault")
        self.embedded += len(texts)
        return self.real.embed_documents(texts)

    def embed_query(self, text):
        return self.real.embed_query(text)


# --- data loss ------------------------------------------------------------------
def test_rebuild_from_a_mistyped_path_keeps_the_index(assistant, tmp_path):
    a = _copy(assistant, tmp_path)
    with pytest.raises(CorpusPathError, match="does not exist"):
        a.ingest([tmp_path / "corpsu"], rebuild=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusPathError, match="no readable reports.*left as it was"):
        a.ingest([tmp_path / "empty"], rebuild=True)
    reopened = Assistant(a.settings)
    assert reopened.ask(COMMUNE_WORKERS).answer == "2،334"
    assert not (a.settings.index_dir / STAGED).exists()


def test_interrupted_rebuild_leaves_the_old_index_answering_and_is_cleaned_up(assistant, tmp_path):
    a = _copy(assistant, tmp_path)
    a.embeddings = FailingEmbeddings(a.embeddings, poison="82 ارکان")  # in the third report
    with pytest.raises(KeyboardInterrupt):
        a.ingest(rebuild=True)
    assert (a.settings.index_dir / STAGED).exists()
    live = Assistant(a.settings)
    assert live.ask(COMMUNE_WORKERS).answer == "2،334"
    report = live.ingest(rebuild=True)
    assert len(report.added) == 5 and not (a.settings.index_dir / STAGED).exists()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(a.settings.index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    names = {c.name for c in client.list_collections()}
    assert len(names) == 2, names  # the old generation and the abandoned one are gone
    assert live.ask(PARTY_MEMBERS).answer == "82"


def test_a_crash_right_after_a_commit_never_costs_the_live_index(assistant, tmp_path):
    """A commit that died after making the rebuild live but before removing its staged
    copy leaves a staged manifest naming the live generation: the next rebuild must not
    drop it as abandoned, even when that rebuild then fails."""
    a = _copy(assistant, tmp_path)
    a.ingest(rebuild=True)  # a live generation with a name, as every rebuild leaves
    live = a.settings.index_dir / MANIFEST
    shutil.copyfile(live, a.settings.index_dir / STAGED)  # the state such a crash leaves
    a.embeddings = FailingEmbeddings(a.embeddings, poison="82 ارکان")
    with pytest.raises(KeyboardInterrupt):
        a.ingest(rebuild=True)
    assert Assistant(a.settings).ask(COMMUNE_WORKERS).answer == "2،334"


@pytest.mark.slow
def test_reports_with_the_same_file_name_in_two_folders_both_stay(tmp_path):
    for folder, seed in (("a", "000_63192892e5e1be8e.txt"), ("b", "002_3524ae84067e7f36.txt")):
        (tmp_path / folder).mkdir()
        shutil.copy(CORPUS / seed, tmp_path / folder / "report.txt")
    a = Assistant(Settings(corpus_dir=tmp_path, index_dir=tmp_path / "index"))
    assert a.ingest([tmp_path / "a"]).added == ["a/report.txt"]
    second = a.ingest([tmp_path / "b"])
    assert second.added == ["b/report.txt"] and second.updated == []
    assert set(a.index.documents) == {"a/report.txt", "b/report.txt"}
    assert a.ask(COMMUNE_WORKERS).answer == "2،334"
    assert a.ask(PARTY_MEMBERS).answer == "82"


def test_deleted_vector_store_is_reported_then_repaired(fresh):
    import chromadb

    a, _ = fresh
    a.ingest()
    shutil.rmtree(a.settings.index_dir / "chroma")
    chromadb.api.client.SharedSystemClient.clear_system_cache()  # as a new process would see it
    with pytest.raises(IndexCorruptError, match="assistant ingest"):
        Assistant(a.settings).ask(COMMUNE_WORKERS)
    again = Assistant(a.settings)
    report = again.ingest()
    assert len(report.repaired) == 5 and not report.unchanged
    assert "5 repaired" in report.summary()
    assert again.index.collection.count() == len(again.index.chunks) > 0
    assert again.ask(COMMUNE_WORKERS).answer == "2،334"


def test_interrupted_first_ingest_keeps_the_reports_it_finished(fresh):
    a, _ = fresh
    real = a.embeddings
    a.embeddings = FailingEmbeddings(real, poison="82 ارکان")  # in the third report
    with pytest.raises(KeyboardInterrupt):
        a.ingest()
    resumed = Assistant(a.settings)
    resumed.embeddings = counting = FailingEmbeddings(real)
    report = resumed.ingest()
    assert len(report.unchanged) == 2 and len(report.added) == 3
    done = {c for c in resumed.index.chunks.values() if c.doc_id in report.unchanged}
    assert counting.embedded < len(resumed.index.chunks) + resumed.index.sentence_count - len(done)
    assert resumed.ask(COMMUNE_WORKERS).answer == "2،334"


@pytest.mark.slow
def test_empty_index_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    a = Assistant(Settings(corpus_dir=tmp_path / "empty", index_dir=tmp_path / "index"))
    assert a.ingest().chunks == 0
    with pytest.raises(IndexEmptyError, match="holds no reports"):
        a.ask(COMMUNE_WORKERS)
    out = _cli("--index", str(tmp_path / "index"), "ask", COMMUNE_WORKERS)
    assert out.returncode == 2 and "holds no reports" in out.stderr


# --- broken or unusable index paths ---------------------------------------------
@pytest.mark.parametrize("content", ["null", "[1, 2, 3]", '"text"', "wrong-generation", "report-entry"])
def test_manifest_of_the_wrong_shape(assistant, tmp_path, content):
    a = _copy(assistant, tmp_path)
    path = a.settings.index_dir / MANIFEST
    if content == "wrong-generation":
        content = json.dumps({**json.loads(path.read_text(encoding="utf-8")), "generation": None})
    if content == "report-entry":  # one report's file of the wrong shape
        path = next((a.settings.index_dir / "reports").glob("*.json"))
        content = json.dumps({**json.loads(path.read_text(encoding="utf-8")), "chunks": "many"})
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="cannot read .*ingest --rebuild"):
        a.ask(COMMUNE_WORKERS)
    with pytest.raises(IndexCorruptError):
        a.ingest()
    assert len(a.ingest(rebuild=True).added) == 5  # the documented way out works


def test_chunks_without_stored_tokens_are_a_corrupt_index(assistant, tmp_path):
    """An index whose chunks lack the BM25 tokens ingest stores (written by an older
    build) and whose saved lexical index is gone cannot rebuild BM25: it says so."""
    a = _copy(assistant, tmp_path)
    collection = a.index.collection
    first = collection.get(limit=1, include=["metadatas"])
    meta = {**first["metadatas"][0], "tokens": None}  # None removes a key in an update
    collection.update(ids=first["ids"], metadatas=[meta])
    for folder in a.settings.index_dir.glob("lexical*"):
        shutil.rmtree(folder)
    a = Assistant(a.settings)
    with pytest.raises(IndexCorruptError, match="no stored tokens.*ingest --rebuild"):
        a.ask(COMMUNE_WORKERS)
    assert len(a.ingest(rebuild=True).added) == 5


@pytest.mark.slow
def test_index_path_that_is_a_file(tmp_path):
    file = tmp_path / "index"
    file.write_text("not a folder", encoding="utf-8")
    a = Assistant(Settings(corpus_dir=CORPUS, index_dir=file))
    with pytest.raises(IndexPathError, match="is a file, not a folder"):
        a.ask(COMMUNE_WORKERS)
    with pytest.raises(IndexPathError, match="is a file, not a folder"):
        a.ingest()
    assert file.read_text(encoding="utf-8") == "not a folder"
    out = _cli("--index", str(file), "ask", COMMUNE_WORKERS)
    assert out.returncode == 2 and "is a file" in out.stderr and "Traceback" not in out.stderr


def test_index_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    a = Assistant(Settings(corpus_dir=CORPUS, index_dir=tmp_path / "file" / "index"))
    with pytest.raises(IndexPathError, match="cannot create the index folder"):
        a.ingest()


@pytest.mark.skipif(sys.platform == "win32" or __import__("os").geteuid() == 0, reason="root ignores permissions")
def test_read_only_index_folder(assistant, tmp_path):
    a = _copy(assistant, tmp_path)
    a.settings.index_dir.chmod(0o555)
    try:
        with pytest.raises(IndexPathError, match="not writable"):
            a.ingest()
    finally:
        a.settings.index_dir.chmod(0o755)


@pytest.mark.slow
def test_malformed_chroma_url_is_a_setting_error(monkeypatch):
    with pytest.raises(ValidationError, match="not a valid URL"):
        Settings(chroma_url="http://[::1")
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", "http://[::1")
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "کتنے؟"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 2 and "invalid setting: chroma_url" in out.stderr and "Traceback" not in out.stderr


# --- questions with nothing to search for -------------------------------------------
@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("😀🙏", "no words or figures"),
        ("\u202e\u202c", "empty"),
        ("\u200b\u200d", "empty"),
        ("؟؟؟ !!!", "no words or figures"),
        ("\x00\x00\x00", "empty"),
        ("کتنے \ud800", "lone UTF-16 surrogate"),
    ],
)
def test_content_free_or_invalid_questions(assistant, question, says):
    with pytest.raises(InvalidQuestionError, match=says):
        assistant.ask(question)
    with pytest.raises(InvalidQuestionError, match=says):
        next(assistant.stream(question))


def test_question_with_control_characters_inside_is_still_answered(assistant):
    assert assistant.ask("\u200f" + COMMUNE_WORKERS.replace(" ", " \x00", 1) + "\u202c").answer == "2،334"


def test_an_empty_folder_does_not_empty_the_index(fresh, tmp_path):
    a, corpus = fresh
    a.ingest()
    for file in corpus.iterdir():  # as an unmounted share looks
        file.rename(tmp_path / file.name)
    with pytest.raises(CorpusPathError, match="holds no files, but the index has 5 reports from it"):
        a.ingest()
    assert len(Assistant(a.settings).index.documents) == 5


def test_a_moved_corpus_keeps_its_vectors_and_still_notices_deletions(fresh, tmp_path):
    a, corpus = fresh
    a.ingest()
    moved = tmp_path / "moved"
    corpus.rename(moved)
    again = Assistant(a.settings, corpus_dir=moved)
    report = again.ingest()
    assert len(report.unchanged) == 5 and not report.added
    assert all(d["path"].startswith(str(moved)) for d in again.index.documents.values())
    (moved / "003_eac06c45b3d3fc17.txt").unlink()
    assert again.ingest().removed == ["003_eac06c45b3d3fc17.txt"]
    assert again.ask(COMMUNE_WORKERS).citations[0].file == "000_63192892e5e1be8e.txt"  # named in the corpus folder


def test_a_report_indexed_under_another_id_is_not_held_twice(fresh, tmp_path):
    a, corpus = fresh
    elsewhere = Assistant(a.settings, corpus_dir=tmp_path / "other")  # ids are then absolute paths
    first = elsewhere.ingest([corpus / "000_63192892e5e1be8e.txt"])
    assert first.added == [str((corpus / "000_63192892e5e1be8e.txt").resolve())]
    again = Assistant(a.settings)  # corpus_dir is the corpus again: the same file gets its relative id
    report = again.ingest()
    assert report.removed == first.added and len(report.added) == 5
    assert set(again.index.documents) == {f.name for f in corpus.iterdir()}
    assert again.index.collection.count() == again.index.chunk_count


def test_a_second_ingest_at_the_same_time_is_refused(fresh):
    from assistant import IndexBusyError

    a, _ = fresh
    with FolderCatalog(a.settings.index_dir).lock():  # as another process ingesting would hold it
        with pytest.raises(IndexBusyError, match="another ingest is writing"):
            a.ingest()
    assert len(a.ingest().added) == 5


def test_collections_of_a_replaced_generation_are_dropped_after_a_crash(assistant, tmp_path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    a = _copy(assistant, tmp_path)
    a.ingest(rebuild=True)
    client = chromadb.PersistentClient(
        path=str(a.settings.index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client.create_collection("reports_dead0001")  # as if the process died before dropping it
    client.create_collection("reports_sentences_dead0001")
    manifest = json.loads((a.settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["retired"] = "dead0001"
    (a.settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    report = Assistant(a.settings).ingest()
    assert len(report.unchanged) == 5
    names = {c.name for c in client.list_collections()}
    assert not any("dead0001" in n for n in names) and len(names) == 2


@pytest.mark.parametrize("after_s", [1.5, 4.0, 7.0])
def test_ingest_killed_at_any_moment_converges_on_the_next_run(fresh, after_s):
    """kill -9 of a real ingest process; the next ingest leaves Chroma, the report files
    and the lexical index agreeing, and answers as before."""
    import os
    import signal
    import time

    a, corpus = fresh
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "--index", str(a.settings.index_dir), "--corpus", str(corpus),
         "ingest", "--no-progress"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(after_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    again = Assistant(a.settings)
    report = again.ingest()
    assert not report.skipped and len(report.added) + len(report.updated) + len(report.unchanged) == 5
    index = Assistant(a.settings).index  # opens cleanly: counts agree
    assert index.collection.count() == index.chunk_count == len(index.bm25) > 100
    assert index.sentences.count() == index.sentence_count
    assert not index.unfinished() and not index.stray_doc_ids()
    assert Assistant(a.settings).ask(COMMUNE_WORKERS).answer == "2،334"
