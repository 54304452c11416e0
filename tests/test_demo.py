"""The demo account: its key and address, remembered between runs without importing eth_account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hlrebal.demo import demo_dir, running_demo
from hlrebal.exchange import address_of
from hlrebal.keys import read_key_file


def test_the_demo_account_is_its_keys_own_and_the_address_is_remembered(_isolated_home: Path) -> None:
    with running_demo() as demo:
        first = demo.user
    key = read_key_file(demo_dir() / "agent.key", "demo key")
    assert first == address_of(key)
    with running_demo() as demo:
        assert demo.user == first
    # A key replaced by hand is derived again, not trusted from the note.
    key_path = demo_dir() / "agent.key"
    key_path.unlink()
    key_path.write_text("0x" + "ab" * 32 + "\n")
    os.chmod(key_path, 0o600)
    with running_demo() as demo:
        assert demo.user == address_of(read_key_file(key_path, "demo key")) != first


def test_a_demo_plan_imports_neither_the_sdk_signing_stack_nor_eth_account(_isolated_home: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-X", "importtime", "-m", "hlrebal", "plan", "sample_targets/balanced.json", "--demo"]
    env = {**os.environ, "HLREBAL_HOME": str(_isolated_home)}
    subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=True)  # first run makes the key
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "eth_account" not in imported
