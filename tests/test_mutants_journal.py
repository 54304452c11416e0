"""What ``hlrebal journal`` shows of a run: the strategy it followed and the plan it confirmed.

Found by mutation testing (tests/mutation.py journal): no test read a summary's ``strategy`` or
``plan_hash``, so a summary that lost them, or took a later round's plan, passed the suite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hlrebal.journal import Journal, summarize_runs

USER = "0x" + "12" * 20


def journal(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def plan_event(run: str, round_: int, plan_hash: str) -> dict[str, Any]:
    """The confirmed plan (round 0, written by the runner) is a whole plan document."""
    return {"ts": 2, "run": run, "event": "plan", "round": round_, "plan": {"plan_hash": plan_hash, "trades": []}}


def round_plan(run: str, round_: int) -> dict[str, Any]:
    """A round's plan (written by the executor) lists its trades, not a plan document."""
    return {"ts": 3, "run": run, "event": "plan", "round": round_, "style": "taker", "trades": [{"coin": "BTC"}]}


def test_a_summary_names_the_strategy_and_the_approved_plan_the_run_started_with(tmp_path: Path) -> None:
    path = journal(
        tmp_path / "j",
        [
            {"ts": 1, "run": "a", "event": "run_start", "account": USER, "selected_strategy": "momentum",
             "plan_hash": "approved"},
            plan_event("a", 0, "replanned"),  # the approved plan's hash is what the run confirmed
            round_plan("a", 1),
        ],
    )  # fmt: skip
    [run] = summarize_runs(path, 5)
    assert (run["strategy"], run["plan_hash"]) == ("momentum", "approved")


def test_without_an_approved_plan_the_summary_gives_the_plan_confirmed_before_round_one(tmp_path: Path) -> None:
    path = journal(
        tmp_path / "j",
        [
            {"ts": 1, "run": "a", "event": "run_start", "account": USER, "plan_hash": None},
            plan_event("a", 0, "confirmed"),
            round_plan("a", 1),
            round_plan("a", 2),
            {"ts": 4, "run": "b", "event": "run_start", "account": USER},
            round_plan("b", 1),  # a run with no confirmed plan recorded has no plan hash
        ],
    )  # fmt: skip
    runs = {r["run"]: r for r in summarize_runs(path, 5)}
    assert runs["a"]["plan_hash"] == "confirmed" and runs["a"]["strategy"] is None
    assert runs["a"]["rounds"] == 0  # plan events are not rounds
    assert runs["b"]["plan_hash"] is None


def test_a_summary_read_back_from_a_real_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, "r1") as j:
        j.record("run_start", account=USER, selected_strategy="equal", plan_hash=None)
        j.record("plan", round=0, plan={"plan_hash": "h0", "trades": []})
        j.record("plan", round=1, style="taker", trades=[])
        j.record("run_end", exit_code=0, outcome="done")
    [run] = summarize_runs(path, 1)
    assert (run["strategy"], run["plan_hash"], run["outcome"], run["exit_code"]) == ("equal", "h0", "done", 0)
