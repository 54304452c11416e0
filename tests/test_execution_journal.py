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


# --------------------------------------------------------------------------- the journal's readers


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


URL, OTHER_URL = "http://a", "http://b"


def test_unresolved_orders_are_per_account_and_endpoint_and_resting_ones_stay_open(tmp_path: Path) -> None:
    from hlrebal.journal import unresolved_orders

    path = write(
        tmp_path / "j",
        [
            {"run": "a", "event": "run_start", "account": USER, "base_url": URL},
            {"run": "a", "event": "order_sent", "cloid": "0x1", "coin": "BTC", "tif": "Alo", "asset": 0},
            {"run": "a", "event": "order_result", "cloid": "0x1", "status": "resting", "oid": 11},
            {"run": "a", "event": "order_sent", "cloid": "0x2", "coin": "ETH"},
            {"run": "a", "event": "order_result", "cloid": "0x2", "status": "filled"},
            {"run": "a", "event": "order_sent", "cloid": "0x3", "coin": "SOL"},
            {"run": "b", "event": "run_start", "account": USER, "base_url": OTHER_URL},
            {"run": "b", "event": "order_sent", "cloid": "0x4", "coin": "BTC"},
            {"run": "c", "event": "run_start", "account": "0x" + "9" * 40, "base_url": URL},
            {"run": "c", "event": "order_sent", "cloid": "0x5", "coin": "BTC"},
            {"run": "d", "event": "run_start", "account": USER, "base_url": URL},
            {"run": "d", "event": "reconciled", "cloid": "0x3", "status": "error"},
        ],
    )
    pending = unresolved_orders(path, USER, URL)
    assert [(p.cloid, p.run, p.coin) for p in pending] == [("0x1", "a", "BTC")]
    assert pending[0].entry["oid"] == 11 and pending[0].entry["resting"] is True
    assert [p.cloid for p in unresolved_orders(path, USER, OTHER_URL)] == ["0x4"]
    done = {"run": "a", "event": "order_result", "cloid": "0x1", "status": "cancelled"}
    final = write(tmp_path / "k", [*map(json.loads, path.read_text().splitlines()), done])
    assert unresolved_orders(final, USER, URL) == []


def test_unresolved_twaps(tmp_path: Path) -> None:
    from hlrebal.journal import unresolved_twaps

    sent = {"event": "twap_sent", "coin": "BTC", "asset": 3, "side": "sell", "size": "0.5", "ts": 77}
    path = write(
        tmp_path / "j",
        [
            {"run": "a", "event": "run_start", "account": USER, "base_url": URL},
            {**sent, "run": "a", "key": "k1"},
            {"run": "a", "event": "twap_result", "key": "k1", "twap_id": 4, "status": "running"},
            {**sent, "run": "a", "key": "k2"},
            {"run": "a", "event": "twap_result", "key": "k2", "twap_id": None, "status": "error",
             "error": "the exchange refused a BTC TWAP: too small"},
            {**sent, "run": "a", "key": "k3"},
            {"run": "a", "event": "twap_result", "key": "k3", "twap_id": None, "status": "error", "error": "lost"},
            {**sent, "run": "a", "key": "k4"},
            {"run": "a", "event": "twap_end", "key": "k4", "status": "finished"},
            {**sent, "run": "a", "key": "k5"},
            {"run": "b", "event": "run_start", "account": USER, "base_url": URL},
            {"run": "b", "event": "reconciled_twap", "key": "k5"},
            {"run": "c", "event": "run_start", "account": USER, "base_url": OTHER_URL},
            {**sent, "run": "c", "key": "k6"},
        ],
    )  # fmt: skip
    pending = unresolved_twaps(path, USER, URL)
    assert [(p.key, p.twap_id) for p in pending] == [("k1", 4), ("k3", None)]
    assert (pending[0].coin, pending[0].asset, pending[0].side, pending[0].size, pending[0].sent_ms) == (
        "BTC", 3, "sell", "0.5", 77,
    )  # fmt: skip
    assert [p.key for p in unresolved_twaps(path, USER, OTHER_URL)] == ["k6"]


def test_refused_dust_is_remembered_per_endpoint_until_it_fills(tmp_path: Path) -> None:
    from hlrebal.journal import refused_dust

    dust = {"event": "order_sent", "coin": "ATOM", "size": "1.5", "dust": True}
    path = write(
        tmp_path / "j",
        [
            {"run": "a", "event": "run_start", "account": USER, "base_url": URL},
            {**dust, "run": "a", "cloid": "0x1"},
            {"run": "a", "event": "order_result", "cloid": "0x1", "status": "error",
             "error": "Order must have minimum value of $10. asset=8"},
            {"run": "a", "event": "order_sent", "cloid": "0x2", "coin": "DOGE", "size": "9", "dust": False},
            {"run": "a", "event": "order_result", "cloid": "0x2", "status": "error", "error": "minimum value"},
            {**dust, "run": "a", "cloid": "0x3", "coin": "kPEPE"},
            {"run": "a", "event": "reconciled", "cloid": "0x3", "status": "error",
             "error": "order minTradeNtlRejected"},
            {**dust, "run": "a", "cloid": "0x4", "coin": "XRP"},
            {"run": "a", "event": "order_result", "cloid": "0x4", "status": "error", "error": "Insufficient margin"},
        ],
    )  # fmt: skip
    assert refused_dust(path, USER, URL) == {"ATOM": "1.5", "kPEPE": "1.5"}
    assert refused_dust(path, USER, OTHER_URL) == {}
    assert refused_dust(path, USER) == {"ATOM": "1.5", "kPEPE": "1.5"}  # any endpoint
    assert refused_dust(path, "0x" + "9" * 40, URL) == {}
    closed = [
        {**dust, "run": "a", "cloid": "0x5"},
        {"run": "a", "event": "order_result", "cloid": "0x5", "status": "filled"},
    ]
    filled = write(tmp_path / "k", [*map(json.loads, path.read_text().splitlines()), *closed])
    assert refused_dust(filled, USER, URL) == {"kPEPE": "1.5"}


def test_summaries_count_orders_fills_rounds_and_costs(tmp_path: Path) -> None:
    path = write(
        tmp_path / "j",
        [
            {"ts": 1, "run": "a", "event": "run_start", "account": USER, "network": "custom", "targets": "t.json",
             "targets_sha256": "ff"},
            {"ts": 2, "run": "a", "event": "order_sent", "cloid": "0x1"},
            {"ts": 3, "run": "a", "event": "order_result", "cloid": "0x1", "filled_size": "0.5"},
            {"ts": 4, "run": "a", "event": "order_sent", "cloid": "0x2"},
            {"ts": 5, "run": "a", "event": "order_result", "cloid": "0x2", "filled_size": "0"},
            {"ts": 6, "run": "a", "event": "round"},
            {"ts": 7, "run": "a", "event": "round"},
            {"ts": 8, "run": "a", "event": "run_end", "exit_code": 5, "outcome": "partial",
             "costs": {"fees_usd": "1.5", "total_bps": "3.2", "maker_share": "1", "notional": "100"}},
            {"ts": 9, "run": "b", "event": "order_sent", "cloid": "0x9"},
            {"ts": 10, "run": "c", "event": "run_start", "account": USER},
        ],
    )  # fmt: skip
    runs = summarize_runs(path, 5)
    assert [r["run"] for r in runs] == ["a", "c"]  # a run without its start is not listed
    a = runs[0]
    assert (a["orders_sent"], a["orders_filled"], a["rounds"], a["started"], a["ended"]) == (2, 1, 2, 1, 8)
    assert (a["exit_code"], a["outcome"], a["network"], a["targets"], a["targets_sha256"]) == (
        5, "partial", "custom", "t.json", "ff",
    )  # fmt: skip
    assert (a["cost_fees_usd"], a["cost_total_bps"], a["cost_maker_share"], a["cost_notional"]) == (
        "1.5",
        "3.2",
        "1",
        "100",
    )
    assert a["cost_shortfall_usd"] is None and "cost_fees_usd" not in runs[1]
    assert [r["run"] for r in summarize_runs(path, 1)] == ["c"]
    assert summarize_runs(tmp_path / "missing", 3) == []


def test_records_are_written_as_json_lines_with_time_run_and_event(tmp_path: Path) -> None:
    from decimal import Decimal

    path = tmp_path / "sub" / "j.jsonl"
    with Journal(path, "ab" * 8, clock=lambda: 12.5) as journal:
        entry = journal.record("order_sent", size=Decimal("0.50"), zero=Decimal(0), where=tmp_path)
    assert entry == {
        "ts": 12500,
        "run": "ab" * 8,
        "event": "order_sent",
        "size": "0.5",
        "zero": "0",
        "where": str(tmp_path),
    }
    assert json.loads(path.read_text()) == entry and (path.stat().st_mode & 0o777) == 0o600
    with Journal(path, "cd" * 8) as journal:
        journal.record("run_start")
    assert [e["event"] for e in read_entries(path)] == ["order_sent", "run_start"]  # appended, never rewritten
    with path.open("a") as f:
        f.write("\n[1, 2]\nnot json\n")
    assert len(list(read_entries(path))) == 2


def test_the_run_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    import os as _os

    with RunLock(tmp_path, USER.upper().replace("0X", "0x")) as lock:
        assert lock.path.name == f"{USER}.lock" and lock.path.read_text() == f"pid {_os.getpid()}"
        other = RunLock(tmp_path, USER)
        with pytest.raises(Exception, match="holds the lock") as e:
            other.acquire()
        assert f"pid {_os.getpid()}" in str(e.value) and e.value.exit_code == 4  # type: ignore[attr-defined]
    with RunLock(tmp_path, USER):  # released: free again
        pass


def test_records_serialise_decimals_models_and_paths_and_refuse_the_rest(tmp_path: Path) -> None:
    from decimal import Decimal

    from hlrebal.policy import Policy

    path = tmp_path / "a" / "b" / "j.jsonl"  # folders are made as needed
    with Journal(path, "ab" * 8) as journal:
        assert journal.path == path
        entry = journal.record("x", ten=Decimal("1E+1"), policy=Policy(), minus_zero=Decimal("-0.0"))
        assert entry["ten"] == "10" and entry["policy"]["band"] == "0.05" and entry["minus_zero"] == "0"
        with pytest.raises(TypeError, match="not JSON serialisable: object"):
            journal.record("y", what=object())
    assert '"event":"x","ten":"10"' in path.read_text()  # compact: one short line per record
    assert journal._file.closed  # closed on leaving


def test_a_journal_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    from hlrebal.errors import BadInputError

    folder = tmp_path / "journal.jsonl"
    folder.mkdir()
    with pytest.raises(BadInputError, match=r"cannot open the journal .*journal\.jsonl: Is a directory"):
        Journal(folder, "ab" * 8)


def test_reading_skips_blank_and_broken_lines_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_text('{"event": "a"}\n\n   \nnot json\n[1]\n{"event": "b"}\n')
    assert [e["event"] for e in read_entries(path)] == ["a", "b"]


def test_readers_survive_records_of_runs_they_never_saw_start(tmp_path: Path) -> None:
    from hlrebal.journal import refused_dust, unresolved_orders, unresolved_twaps

    path = write(
        tmp_path / "j",
        [
            {"run": "z", "event": "order_sent", "cloid": "0x1", "coin": "BTC", "dust": True},
            {"run": "z", "event": "twap_sent", "key": "k", "coin": "BTC"},
            {"run": "a", "event": "run_start", "account": USER, "base_url": URL},
            {"run": "a", "event": "twap_sent", "key": "k2", "coin": "ETH", "side": "buy", "size": "1"},
            {"run": "a", "event": "twap_result", "key": "k2", "twap_id": "7", "status": "running"},
            {"run": "a", "event": "twap_result", "key": "nope", "twap_id": 1},
            {"run": "a", "event": "order_sent", "cloid": "0x2", "coin": "SOL", "dust": True, "size": "1"},
            {"run": "a", "event": "order_result", "cloid": "0x2", "status": "error"},
            {"run": "a", "event": "order_sent", "cloid": "0x3", "coin": "DOGE", "dust": True, "size": "1"},
            {"run": "a", "event": "order_result", "cloid": "0x3", "status": "filled"},
        ],
    )
    assert [(p.cloid, p.account, p.base_url) for p in unresolved_orders(path, USER, URL)] == []
    [twap] = unresolved_twaps(path, USER, URL)
    assert (twap.run, twap.key, twap.asset, twap.sent_ms, twap.twap_id) == ("a", "k2", 0, 0, None)
    assert refused_dust(path, USER, URL) == {}  # an error without a reason, and a dust close that filled


def test_pending_orders_carry_where_they_were_sent(tmp_path: Path) -> None:
    from hlrebal.journal import unresolved_orders

    path = write(
        tmp_path / "j",
        [
            {"run": "a", "event": "run_start", "account": USER, "base_url": URL},
            {"run": "a", "event": "order_sent", "cloid": "0x1", "coin": "BTC", "expires_after": 5},
        ],
    )
    [p] = unresolved_orders(path, USER, URL)
    assert (p.account, p.base_url, p.entry["expires_after"]) == (USER, URL, 5)


def test_summaries_count_every_fill_and_reconciled_fills_for_the_run_that_sent_them(tmp_path: Path) -> None:
    path = write(
        tmp_path / "j",
        [
            {"ts": 1, "run": "a", "event": "run_start", "account": USER},
            {"ts": 2, "run": "a", "event": "order_result", "cloid": "0x1", "filled_size": "1"},
            {"ts": 3, "run": "a", "event": "order_result", "cloid": "0x2", "filled_size": "2"},
            {"ts": 4, "run": "a", "event": "order_result", "cloid": "0x3"},
            {"ts": 5, "run": "b", "event": "run_start", "account": USER},
            {"ts": 6, "run": "b", "event": "reconciled", "of_run": "a", "filled_size": "1"},
            {"ts": 7, "run": "b", "event": "reconciled", "of_run": "a", "filled_size": "1"},
            {"ts": 8, "run": "b", "event": "reconciled", "of_run": "a", "filled_size": "0"},
            {"ts": 9, "run": "b", "event": "reconciled", "of_run": "gone", "filled_size": "1"},
            {"ts": 9, "run": "b", "event": "reconciled", "of_run": "a"},
        ],
    )
    runs = {r["run"]: r for r in summarize_runs(path, 0)}  # 0: every run
    assert set(runs) == {"a", "b"}
    assert (runs["a"]["orders_filled"], runs["b"]["orders_filled"]) == (4, 0)
    assert runs["b"]["orders_sent"] == 0 and runs["b"]["rounds"] == 0
    lost = {r["run"]: r for r in summarize_runs(write(tmp_path / "k", [
        {"ts": 1, "run": "b", "event": "run_start"},
        {"ts": 2, "run": "b", "event": "reconciled", "of_run": "old", "filled_size": "1"},
        {"ts": 3, "run": "old", "event": "run_start"},
    ]), 5)}  # fmt: skip
    assert lost["old"] == {"run": "old", "orders_sent": 0, "orders_filled": 1, "rounds": 0, "started": 3,
                           "account": None, "network": None, "targets": None, "targets_sha256": None,
                           "strategy": None, "plan_hash": None}  # fmt: skip


def test_locks_live_in_the_state_folders_locks_directory(tmp_path: Path) -> None:
    with RunLock(tmp_path, USER) as lock:
        assert lock.path == tmp_path / "locks" / f"{USER}.lock"


def test_the_lock_file_is_private_and_the_lock_can_be_released_twice(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, USER)
    lock.release()  # never taken: nothing to do
    lock.acquire()
    assert (lock.path.stat().st_mode & 0o777) == 0o600
    lock.release()
    lock.release()


def test_a_lock_held_by_a_process_that_has_not_written_its_name_yet(tmp_path: Path) -> None:
    import fcntl
    import os as _os

    from hlrebal.errors import GuardError

    path = tmp_path / "locks" / f"{USER}.lock"
    path.parent.mkdir()
    fd = _os.open(path, _os.O_RDWR | _os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(GuardError) as e:
            RunLock(tmp_path, USER).acquire()
    finally:
        _os.close(fd)
    assert "another hlrebal run holds the lock for this account (another process)" in e.value.message
    assert e.value.hint == f"wait for it to finish; the lock ({path}) is released when that process exits"
