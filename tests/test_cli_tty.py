"""The interactive path on a real terminal (a pseudo-terminal): the prompt, and Ctrl-C at it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_until(fd: int, needle: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.time() + timeout
    while needle not in seen:
        assert time.time() < deadline, seen[-2000:]
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def spawn(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    main, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlrebal", *args], stdin=secondary, stdout=secondary, stderr=secondary, cwd=ROOT, env=env
    )
    os.close(secondary)
    return proc, main


def test_the_prompt_is_not_hidden_and_ctrl_c_at_it_leaves_at_once() -> None:
    proc, fd = spawn("execute", "sample_targets/balanced.json", "--demo")
    try:
        shown = read_until(fd, b"Place these 2 order(s) on demo?")
        assert b"working" not in shown  # no spinner drawn over the question
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C at the terminal sends
        assert proc.wait(timeout=20) == 130
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()


def test_answering_no_sends_nothing_and_exits_4() -> None:
    proc, fd = spawn("execute", "sample_targets/balanced.json", "--demo")
    try:
        read_until(fd, b"Place these 2 order(s) on demo?")
        os.write(fd, b"n\r")
        assert proc.wait(timeout=20) == 4
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()
