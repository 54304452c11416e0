"""`hlrebal sim serve` that cannot start says why (exit 2) and never announces a server first."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def serve(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    # A regression that starts serving would run until the timeout: the test then fails, not hangs.
    return subprocess.run(
        [sys.executable, "-m", "hlrebal", "sim", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HLREBAL_HOME": str(home)},
    )


@pytest.fixture
def busy_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def test_a_port_in_use_is_named_with_a_hint(busy_port: int, tmp_path: Path) -> None:
    r = serve("--port", str(busy_port), home=tmp_path)
    assert r.returncode == 2
    assert f"port {busy_port} on 127.0.0.1 is already in use" in r.stderr and "--port" in r.stderr
    assert "hlrebal sim on" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("files", "args", "said"),
    [
        ({}, ["--port", "70000"], "--port"),
        ({}, ["--snapshot", "missing.json"], "no such snapshot file"),
        ({"bad.json": "{bad"}, ["--snapshot", "bad.json"], "invalid JSON"),
        ({"bad.json": "{bad"}, ["--state", "bad.json"], "--state"),
        ({"st.json": '{"a": 1}'}, ["--state", "st.json"], "the simulator cannot start from it"),
        ({"st.json": "[1, 2]"}, ["--state", "st.json"], "not a simulator state file"),
    ],
)
def test_bad_ports_and_files_are_exit_2_before_anything_listens(
    tmp_path: Path, files: dict[str, str], args: list[str], said: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
    r = serve(*args, home=tmp_path / "home")
    assert r.returncode == 2, r.stderr
    assert said in r.stderr
    assert "hlrebal sim on" not in r.stderr and "Traceback" not in r.stderr
