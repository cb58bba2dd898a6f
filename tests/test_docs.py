"""The README's commands are the ones CI runs, so the docs cannot drift."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_ci_runs_the_readme_test_command():
    test_command = next(b for b in _bash_blocks() if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_setup_command_ingests_and_answers():
    setup = _bash_blocks()[0]
    assert "pip install" in setup and "assistant ingest" in setup and "assistant ask" in setup
