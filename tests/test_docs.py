"""The README's commands are the ones CI runs, so the docs cannot drift."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_ci_runs_the_readme_test_command():
    test_command = next(b for b in _bash_blocks() if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_setup_command_ingests_and_answers():
    setup = _bash_blocks()[0]
    assert "pip install" in setup and "assistant ingest" in setup and "assistant ask" in setup


@pytest.mark.slow
def test_readme_main_path_runs_as_documented(tmp_path):
    """The set-up command's ingest and ask, run as a new user would: in a fresh folder
    holding only a copy of the reports, with the installed assistant."""
    import shlex
    import shutil
    import subprocess
    import sys

    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    steps = [s.strip() for s in _bash_blocks()[0].split("&&") if s.strip().startswith(".venv/bin/assistant")]
    assert [shlex.split(s)[1] for s in steps] == ["ingest", "ask"]
    outputs = []
    for step in steps:
        argv = [sys.executable, "-m", "assistant.cli", *shlex.split(step)[1:]]
        out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, (step, out.stderr)
        outputs.append(out.stdout)
    assert "5 added" in outputs[0] and (tmp_path / "index" / "manifest.json").exists()
    assert outputs[1].startswith("جواب: 17,418") and "https://laichau.gov.vn/" in outputs[1]
