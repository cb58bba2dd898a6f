"""Bad input gets a clear, specific error and loses nothing."""

import json
import os
import shutil

import pytest

from assistant import (
    Assistant,
    BackendUnavailableError,
    CorpusPathError,
    IndexCorruptError,
    IndexMismatchError,
    InvalidQuestionError,
    Settings,
)
from assistant.manifest import MANIFEST


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_empty_question(assistant, question):
    with pytest.raises(InvalidQuestionError, match="empty"):
        assistant.ask(question)


def test_huge_question(assistant):
    with pytest.raises(InvalidQuestionError, match="51,200 characters long; the limit is 2,000"):
        assistant.ask("س" * 51_200)


def test_question_must_be_text(assistant):
    with pytest.raises(InvalidQuestionError, match="must be text"):
        assistant.ask(None)


def test_missing_corpus_path(fresh, tmp_path):
    a, _ = fresh
    with pytest.raises(CorpusPathError, match="does not exist"):
        a.ingest([tmp_path / "no-such-folder"])


def test_corrupt_manifest(assistant, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(assistant.settings.index_dir, index)
    (index / MANIFEST).write_text("{ not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="ingest --rebuild"):
        Assistant(assistant.settings, index_dir=index).ask("کتنے؟")


def test_manifest_and_chroma_disagree(assistant, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(assistant.settings.index_dir, index)
    entry = next((index / "reports").glob("*.json"))  # one report's file says one chunk fewer
    data = json.loads(entry.read_text(encoding="utf-8"))
    entry.write_text(json.dumps({**data, "chunks": data["chunks"] - 1}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="inconsistent"):
        Assistant(assistant.settings, index_dir=index).ask("کتنے؟")


def test_unknown_embedding_backend():
    with pytest.raises(BackendUnavailableError, match="unknown embedding"):
        Assistant(Settings(embedding="word2vec"))


@pytest.mark.slow
def test_sentence_transformers_model_that_is_not_local():
    os.environ["HF_HUB_OFFLINE"] = "1"
    with pytest.raises(BackendUnavailableError, match="cannot load sentence-transformers model"):
        Assistant(Settings(embedding="sentence-transformers:/nonexistent/model"))


def test_index_built_with_another_embedding(assistant, st_model_path):
    other = Assistant(assistant.settings, embedding=f"sentence-transformers:{st_model_path}")
    with pytest.raises(IndexMismatchError, match="re-ingest") as err:
        other.ask("کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟")
    assert "e5-small-q4" in str(err.value)
    with pytest.raises(IndexMismatchError):
        other.ingest()  # ingest refuses too, unless --rebuild
    assert not assistant.ask("کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟").refused  # the index is untouched


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    settings = Settings()
    assert settings.index_dir == tmp_path / "x" and settings.top_k == 7
    assert Settings(top_k=3).top_k == 3  # explicit values win over the environment
