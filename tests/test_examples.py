"""The examples run as a reader runs them: offline, in a few seconds, ending as they say."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_agent_loop_replays_the_original_example_on_the_simulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLREBAL_")}
    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "agent_loop.py")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    took = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    lines = [line.strip() for line in r.stdout.splitlines() if line.strip()]
    assert lines[0] == "start: BTC 80.0%, USDC 20.0%"
    assert "1. balanced-growth: planned sell 0.46729 BTC, buy 9.8348 ETH" in lines
    assert lines.count("read back: BTC 40.0%, ETH 30.0%, USDC 30.0%") == 2  # the deviation traded nothing
    assert "2. balanced-growth: planned nothing to do" in lines
    assert lines[-1] == "read back: USDC 100.0%"
    assert r.stderr == ""
    assert took < 30, took  # a few seconds on a workstation; generous for a busy CI runner
