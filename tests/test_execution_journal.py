"""The journal says what happened: every run ends with one of the five documented outcomes, whatever
stopped it (a guard, the lock, no confirmation, Ctrl-C, bad input, an unreachable exchange), and every
record is on disk before the next step."""

from __future__ import annotations

import json
import os
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.execution import Outcome
from hlrebal.journal import Journal, RunLock, read_entries, summarize_runs
from hlrebal.sim import Simulator

from execution_kit import BALANCED, ROOT, USER, btc_80, key_file

runner = CliRunner()


def cli(sim_url: str, tmp_path: Path, *extra: str, targets: Path = BALANCED, input: str | None = None) -> Any:
    args = [
        "execute",
        str(targets),
        "--api-url",
        sim_url,
        "--key-file",
        str(key_file(tmp_path)),
        "--journal",
        str(tmp_path / "journal.jsonl"),
        "--json",
        *extra,
    ]
    return runner.invoke(app, args, input=input)


def run_end(tmp_path: Path) -> dict[str, Any]:
    ends = [e for e in read_entries(tmp_path / "journal.jsonl") if e["event"] == "run_end"]
    assert len(ends) == 1, ends
    return ends[0]


@pytest.mark.parametrize(
    ("case", "code", "outcome"),
    [
        ("balanced", 0, "done"),
        ("no_match", 5, "partial"),
        ("turnover_cap", 4, "refused"),
        ("lock_held", 4, "refused"),
        ("not_confirmed", 4, "refused"),
        ("bad_targets", 2, "error"),
    ],
)
def test_every_run_ends_with_its_documented_outcome(
    tmp_path: Path, monkeypatch: Any, case: str, code: int, outcome: str
) -> None:
    from hlrebal.config import state_dir

    with Simulator(snapshot=btc_80()) as sim:
        extra: tuple[str, ...] = ("--yes",)
        targets, answer = BALANCED, None
        if case == "no_match":
            sim.set_book("ETH", spread=0.05)
            extra += ("--max-rounds", "1")
        elif case == "turnover_cap":
            extra += ("--max-turnover", "0.5")
        elif case == "not_confirmed":
            import hlrebal.cli.execute as cli_mod

            monkeypatch.setattr(cli_mod, "_interactive", lambda: True)
            extra, answer = (), "n\n"
        elif case == "bad_targets":
            targets = tmp_path / "bad.json"
            targets.write_text('{"target_allocation": {"BTC": "lots"}}')
        if case == "lock_held":
            with RunLock(state_dir(), USER):
                r = cli(sim.url, tmp_path, *extra, targets=targets)
        else:
            r = cli(sim.url, tmp_path, *extra, targets=targets, input=answer)
    assert r.exit_code == code, r.stdout
    end = run_end(tmp_path)
    assert (end["exit_code"], end["outcome"]) == (code, outcome)
    assert end["message"] and end["message"] in r.stdout  # the journal says what the user was told
    [summary] = summarize_runs(tmp_path / "journal.jsonl", 5)
    assert (summary["exit_code"], summary["outcome"]) == (code, outcome)


def test_an_unreachable_exchange_is_an_error_in_the_journal(tmp_path: Path) -> None:
    r = cli("http://127.0.0.1:9", tmp_path, "--yes")
    assert r.exit_code == 3
    end = run_end(tmp_path)
    assert (end["exit_code"], end["outcome"]) == (3, "error")


def test_ctrl_c_outside_the_executor_is_journaled_as_interrupted(tmp_path: Path) -> None:
    from hlrebal.config import resolve
    from hlrebal.runner import execute_run
    from hlrebal.session import connect
    from hlrebal.targets import load_targets

    class UI:
        def notice(self, message: str) -> None: ...

        def progress(self, message: str) -> None: ...

        def show_plan(self, plan: Any) -> None:
            raise KeyboardInterrupt  # Ctrl-C while the plan is shown, before the stop flag is consulted

        def confirm(self, plan: Any) -> bool:
            return True

        def reconfirm(self, plan: Any, why: str) -> bool:
            return True

        def should_stop(self) -> bool:
            return False

    journal = tmp_path / "journal.jsonl"
    with Simulator(snapshot=btc_80()) as sim:
        resolved = resolve(flags={"api_url": sim.url}, env={})
        with connect(resolved, key_file=key_file(tmp_path), need_signer=True) as conn, pytest.raises(KeyboardInterrupt):
            execute_run(conn, load_targets(BALANCED), resolved, UI(), journal_file=journal, assume_yes=True)
        assert sim.orders == []
    end = run_end(tmp_path)
    assert (end["exit_code"], end["outcome"], end["message"]) == (130, "interrupted", "interrupted")


def test_every_record_is_flushed_to_disk_before_the_next_step(tmp_path: Path, monkeypatch: Any) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    path = tmp_path / "j.jsonl"
    with Journal(path, "ab" * 8) as journal:
        for i in range(3):
            journal.record("order_sent", cloid=f"0x{i}")
            assert len(synced) == i + 1  # on disk before record() returns
            assert len(path.read_text().splitlines()) == i + 1


def test_the_docs_list_exactly_the_outcomes_the_program_writes() -> None:
    documented: set[str] = set()
    for page in ("docs/journal.md", "docs/execution.md"):
        text = (ROOT / page).read_text()
        match = re.search(r"outcomes?: ((?:`\w+`(?:, | or | and )?)+)", text)
        assert match, page
        documented |= set(re.findall(r"`(\w+)`", match.group(1)))
    assert documented == set(typing.get_args(Outcome))


def test_a_journal_summary_keeps_runs_of_other_outcomes_apart(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    lines = [
        {"ts": 1, "run": "a", "event": "run_start", "account": USER},
        {"ts": 2, "run": "a", "event": "run_end", "exit_code": 130, "outcome": "interrupted"},
        {"ts": 3, "run": "b", "event": "run_start", "account": USER},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    runs = summarize_runs(path, 5)
    assert [(r["run"], r.get("outcome")) for r in runs] == [("a", "interrupted"), ("b", None)]
