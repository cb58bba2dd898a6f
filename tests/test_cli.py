"""The CLI is a thin shell: run it as a user would, in a subprocess."""

import json
import os
import subprocess
import sys

import pytest


def run(*args: str, env_index=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def index_flags(assistant) -> list[str]:
    return ["--index", str(assistant.settings.index_dir)]


def test_ask_prints_answer_evidence_and_sources(index_flags):
    out = run(*index_flags, "ask", "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("جواب: 2،334")
    assert "حوالہ جات:" in out.stdout and "[1]" in out.stdout
    assert "https://laichau.gov.vn/" in out.stdout


def test_ask_json_is_the_answer_object(index_flags):
    out = run(*index_flags, "ask", "How many incoming documents had the office received by 31 December 2023?", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["answer"] == "55,279" and data["refused"] is False and data["language"] == "en"
    assert data["citations"][0]["doc_id"] == "002_3524ae84067e7f36.txt"
    assert {"start", "end", "quote", "title", "file", "source_url"} <= set(data["citations"][0])
    assert data["passages"] and "score" in data["passages"][0]


def test_errors_are_short_messages_with_exit_code_2(index_flags, tmp_path):
    empty = run(*index_flags, "ask", "  ")
    assert empty.returncode == 2 and "the question is empty" in empty.stderr and "سوال خالی ہے" in empty.stderr
    assert "Traceback" not in empty.stderr
    missing = run("--index", str(tmp_path / "idx"), "ingest", str(tmp_path / "nope"), "--no-progress")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


@pytest.mark.slow
def test_ingest_reports_skipped_files(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("ایک رپورٹ۔ اس میں 12 دفاتر ہیں۔", encoding="utf-8")
    (corpus / "b.txt").write_bytes(b"\xff\xfe bad")
    out = run("--index", str(tmp_path / "idx"), "ingest", str(corpus), "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "1 added" in out.stdout and "1 skipped" in out.stdout
    assert "b.txt" in out.stderr and "UTF-8" in out.stderr


@pytest.mark.slow
def test_invalid_setting_is_a_short_error():
    out = run("--top-k", "0", "ask", "کتنے؟")
    assert out.returncode == 2 and "invalid setting: top_k" in out.stderr and "Traceback" not in out.stderr
