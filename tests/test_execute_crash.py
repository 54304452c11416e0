"""Execution interrupted for real: signals, SIGKILL mid-run, a dead lock holder (subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from hlrebal.execution import Executor
from hlrebal.journal import Journal, read_entries
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.sim import Simulator
from hlrebal.targets import weights_from_mapping

from factories import make_snapshot

ROOT = Path(__file__).resolve().parent.parent
BALANCED = ROOT / "sample_targets" / "balanced.json"
OWNER_KEY = "0x" + "5e" * 32
USER = Account.from_key(OWNER_KEY).address.lower()


def btc_80() -> dict[str, Any]:
    return make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=USER)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(snapshot=btc_80()) as s:
        yield s


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_text(OWNER_KEY)
    path.chmod(0o600)
    return path


def start_execute(sim: Simulator, key_file: Path, journal: Path) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "hlrebal",
        "execute",
        str(BALANCED),
        "--api-url",
        sim.url,
        "--key-file",
        str(key_file),
        "--journal",
        str(journal),
        "--yes",
        "--json",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_sigkill_after_the_phase_1_request_leaves_a_journal_the_next_run_reconciles(
    sim: Simulator, key_file: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    # The phase-1 request is processed but its answer is lost: the run waits for it to expire.
    sim.drop_next(1, endpoint="exchange", action_type="order", when="after")
    proc = start_execute(sim, key_file, journal)
    wait_for(lambda: len(sim.orders) >= 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    entries = list(read_entries(journal))
    sent = [e for e in entries if e["event"] == "order_sent"]
    assert [e["coin"] for e in sent] == ["BTC"]
    assert {e["cloid"] for e in sent} == {o["cloid"] for o in sim.orders}
    assert not any(e["event"] == "order_result" for e in entries)

    successor = start_execute(sim, key_file, journal)
    out, err = successor.communicate(timeout=60)
    assert successor.returncode == 0, err
    assert "resolving 1 order(s) an earlier run left without a result" in err
    reconciled = [e for e in read_entries(journal) if e["event"] == "reconciled"]
    assert [e["cloid"] for e in reconciled] == [sent[0]["cloid"]]
    assert reconciled[0]["status"] == "filled"
    # the BTC sell happened once, ever; the successor only had to buy the ETH
    assert sum(1 for o in sim.orders if o["coin"] == "BTC") == 1
    assert [o["coin"] for o in json.loads(out)["orders"]] == ["ETH"]


def test_ctrl_c_between_phases_stops_before_phase_2_and_exits_130(
    sim: Simulator, key_file: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    sim.drop_next(1, endpoint="exchange", action_type="order", when="after")
    proc = start_execute(sim, key_file, journal)
    wait_for(lambda: len(sim.orders) >= 1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "stopping before the next request" in err
    assert [o["coin"] for o in sim.orders] == ["BTC"]  # phase 2 never went out
    events = [e["event"] for e in read_entries(journal)]
    assert "interrupted" in events and events[-1] == "run_end"
    end = list(read_entries(journal))[-1]
    assert (end["exit_code"], end["outcome"]) == (130, "interrupted")
    assert json.loads(out)["outcome"] == "interrupted"


def test_sigterm_is_handled_like_ctrl_c(sim: Simulator, key_file: Path, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    sim.drop_next(1, endpoint="exchange", action_type="order", when="after")
    proc = start_execute(sim, key_file, journal)
    wait_for(lambda: len(sim.orders) >= 1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert len(sim.orders) == 1


def test_a_killed_lock_holder_does_not_block_later_runs(sim: Simulator, key_file: Path, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from hlrebal.config import state_dir\n"
            "from hlrebal.journal import RunLock\n"
            f"RunLock(state_dir(), {USER!r}).acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    blocked = start_execute(sim, key_file, journal)
    _, err = blocked.communicate(timeout=60)
    assert blocked.returncode == 4 and "holds the lock" in err
    assert sim.orders == []
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    after = start_execute(sim, key_file, journal)
    _, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert len(sim.orders) == 2


def test_stop_flag_between_phases_at_the_executor_level(sim: Simulator, tmp_path: Path) -> None:
    from hlrebal.exchange import ExchangeClient
    from hlrebal.keys import SecretStr, SigningKey

    client = ExchangeClient(sim.url, network="custom")
    client.attach_signer(SigningKey(SecretStr(OWNER_KEY), "test"))
    snap = client.read_snapshot(USER)
    targets = weights_from_mapping({"BTC": 0.4, "ETH": 0.3})
    confirmed = plan(snap, targets, Policy())
    with Journal(tmp_path / "j.jsonl", "ab" * 8) as journal:
        stops = iter([False, True])
        executor = Executor(
            client=client,
            user=USER,
            targets=targets,
            policy=Policy(),
            journal=journal,
            should_stop=lambda: next(stops, True),
        )
        report = executor.run(confirmed, snap)
    assert report.exit_code == 130 and report.outcome == "interrupted"
    assert [o.coin for o in report.orders] == ["BTC"]
    assert [o["coin"] for o in sim.orders] == ["BTC"]


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, "cd" * 8) as journal:
        journal.record("run_start", account=USER)
    with path.open("a") as f:
        f.write('{"ts": 1, "event": "order_se')  # a crash mid-write
    assert [e["event"] for e in read_entries(path)] == ["run_start"]
    assert os.stat(path).st_mode & 0o777 == 0o600
