"""Lint as part of the suite, so style cannot drift between CI and local runs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        if os.environ.get("CI"):  # CI installs the test extras: a missing ruff is a broken install, not a pass
            pytest.fail("ruff must be installed in CI (.ci/run installs the test extras)")
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    out = subprocess.run([ruff, *command, "src", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
