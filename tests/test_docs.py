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


def _settings_table() -> list[list[str]]:
    """The README's settings reference: one row per line of its table, as cells."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")]
    return rows[1:]  # without the header


def _same_default(shown: str, value) -> bool:
    """Whether the table's default (`unset`, `empty`, `true`, `1,000,000`, `500 chars`)
    is the code's."""
    word = shown.strip().strip("`").split(" ")[0] if shown.strip() else ""
    if value is None or value == "" or isinstance(value, bool):
        return word == {None: "unset", "": "empty", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return word.replace(",", "").replace(".", "", 1).isdigit() and float(word.replace(",", "")) == value
    return word == str(value) or (value == {} and word == "{}")


def test_the_settings_reference_names_every_setting_with_its_variable_and_default():
    """The table in the README against `Settings` itself: the same names, each with its
    ASSISTANT_ variable and its default as the code has it, so neither can drift."""
    from assistant.settings import Settings

    fields = Settings.model_fields
    named = []
    for names, env, defaults, _ in _settings_table():
        row, shown = names.split(" / "), defaults.split(" / ")
        named += row
        assert env.split()[0] == f"ASSISTANT_{row[0].upper()}", names
        assert len(shown) in (1, len(row)), names
        for name, default in zip(row, shown * len(row) if len(shown) == 1 else shown):
            assert name in fields, f"the README names a setting the code does not have: {name}"
            value = fields[name].get_default(call_default_factory=True)
            assert _same_default(default, value), f"{name}: the README says {default}, the code {value!r}"
    assert sorted(named) == sorted(fields), "every setting is in the README's table, once"
