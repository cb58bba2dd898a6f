"""Helpers for tests that start real servers on loopback."""

import socket
import subprocess
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float, what: str) -> None:
    """Poll `url` until it answers; fail the test if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"{what} exited with code {proc.returncode}")
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{what} did not start within {seconds:.0f} s")
