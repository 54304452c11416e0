"""An agent's answers through the command line: the original design's document planned and executed
on the simulator, direct actions executed as asked (checked in the sim's order log), documents from
standard input, ``--extract-json``, and ``plan -o`` writing a plan file with its hash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.journal import read_entries
from hlrebal.sim import Simulator

from execution_kit import USER, btc_80
from execution_kit import key_file as kit_key_file
from factories import make_snapshot

runner = CliRunner()
ORIGINAL = {
    "selected_strategy": "balanced-growth",
    "reasoning": "Rates are falling and ETH leads; keep a third in cash.\nSecond line of the agent's words.",
    "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30},
}


@pytest.fixture
def owner() -> str:
    return USER  # the owner of the seeded account (execution_kit's throwaway key)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return kit_key_file(tmp_path)


@pytest.fixture
def sim(owner: str) -> Iterator[Simulator]:
    with Simulator(snapshot=btc_80(owner)) as s:  # $100,000, 80% in a BTC long at 10x, 20% USDC
        s.seeded = owner  # type: ignore[attr-defined]
        yield s


def read(sim: Simulator) -> list[str]:
    """Options that read the sim's seeded account (no key needed)."""
    return ["--api-url", sim.url, "--address", sim.seeded]  # type: ignore[attr-defined]


def run_on(sim: Simulator, key_file: Path, journal: Path, *args: str, input: str | None = None) -> Any:
    extra = ["--api-url", sim.url, "--key-file", str(key_file), "--journal", str(journal)]
    return runner.invoke(app, [*args, *extra], input=input)


def test_the_original_designs_answer_plans_and_executes(sim: Simulator, key_file: Path, tmp_path: Path) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(ORIGINAL))
    journal = tmp_path / "journal.jsonl"
    shown = runner.invoke(app, ["plan", str(answer), *read(sim)])
    assert shown.exit_code == 0, shown.stderr
    assert "Strategy: balanced-growth" in shown.stdout and "Second line" not in shown.stdout
    r = run_on(sim, key_file, journal, "execute", str(answer), "--yes", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["outcome"] == "done"
    assert [(o["coin"], "buy" if o["is_buy"] else "sell") for o in sim.orders] == [("BTC", "sell"), ("ETH", "buy")]
    start = next(e for e in read_entries(journal) if e["event"] == "run_start")
    assert start["selected_strategy"] == "balanced-growth" and start["reasoning"] == ORIGINAL["reasoning"]
    assert start["document"] == "targets"
    planned = next(e for e in read_entries(journal) if e["event"] == "plan")
    assert planned["plan"]["strategy"] == "balanced-growth" and len(planned["plan"]["plan_hash"]) == 64
    runs = json.loads(runner.invoke(app, ["journal", "--journal", str(journal), "--json"]).stdout)["runs"]
    assert runs[-1]["strategy"] == "balanced-growth" and runs[-1]["plan_hash"] == planned["plan"]["plan_hash"]


def test_direct_actions_place_exactly_what_they_ask(sim: Simulator, key_file: Path, tmp_path: Path) -> None:
    actions = {
        "selected_strategy": "trim-btc",
        "actions": [
            {"action_type": "sell", "coin": "BTC", "size": 0.4},
            {"action_type": "buy", "coin": "ETH", "size": 3},
        ],
    }
    r = run_on(sim, key_file, tmp_path / "j.jsonl", "execute", "-", "--yes", "--json", input=json.dumps(actions))
    assert r.exit_code == 0, r.stderr
    sent = [(o["coin"], "buy" if o["is_buy"] else "sell", D(str(o["sz"])), o["reduce_only"]) for o in sim.orders]
    assert sent == [("BTC", "sell", D("0.4"), True), ("ETH", "buy", D("3"), False)]
    assert sim.account(sim.seeded)["positions"]["BTC"]["szi"] == D("0.53458")  # type: ignore[attr-defined]


def test_stdin_plans_and_an_execute_from_stdin_needs_yes(sim: Simulator, key_file: Path, tmp_path: Path) -> None:
    body = json.dumps(ORIGINAL)
    r = runner.invoke(app, ["plan", "-", *read(sim), "--json"], input=body)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["strategy"] == "balanced-growth"
    refused = run_on(sim, key_file, tmp_path / "j.jsonl", "execute", "-", input=body)
    assert refused.exit_code == 4 and "standard input, which cannot answer a prompt" in refused.stderr
    assert sim.orders == []
    bad = runner.invoke(app, ["plan", "-", *read(sim)], input='{"BTC": "lots"}')
    assert bad.exit_code == 2 and "<stdin>: BTC: weight must be a number, not a string" in bad.stderr


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        (f"Sure! Here is the allocation:\n```json\n{json.dumps(ORIGINAL)}\n```\nGood luck.", 0, None),
        (f"My answer is {json.dumps(ORIGINAL)}, since rates {{fall}}.", 0, None),
        ("I would hold cash for now.", 2, "found no JSON object"),
        (f"```json\n{json.dumps(ORIGINAL)}\n```\nor maybe\n{json.dumps({'BTC': 1})}", 2, "found 2 JSON objects"),
    ],
    ids=["fenced", "bare", "none", "two"],
)
def test_extract_json(sim: Simulator, text: str, code: int, says: str | None) -> None:
    r = runner.invoke(app, ["plan", "-", "--extract-json", *read(sim), "--json"], input=text)
    assert r.exit_code == code, r.stderr
    doc = json.loads(r.stdout)
    if code == 0:
        assert doc["strategy"] == "balanced-growth" and len(doc["trades"]) == 2
    else:
        assert doc["kind"] == "error" and says in doc["message"] and doc["exit_code"] == 2
    plain = runner.invoke(app, ["plan", "-", *read(sim)], input=text)
    assert plain.exit_code == (0 if text.startswith("{") else 2)  # without the flag, prose is invalid JSON


def test_plan_o_writes_the_plan_with_its_basis(sim: Simulator, tmp_path: Path) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(ORIGINAL))
    out = tmp_path / "plan.json"
    r = runner.invoke(app, ["plan", str(answer), *read(sim), "--json", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    printed, saved = json.loads(r.stdout), json.loads(out.read_text())
    assert {k: v for k, v in saved.items() if k != "basis"} == printed
    assert saved["basis"]["document"] == answer.read_text()
    assert saved["basis"]["snapshot"]["clearinghouseState"]["assetPositions"][0]["position"]["szi"] == "0.93458"
    assert f"saved plan {printed['plan_hash'][:16]} to {out}" in r.stderr
    assert (out.stat().st_mode & 0o777) == 0o600
    both = runner.invoke(app, ["plan", str(answer), *read(sim), "--execute", "-o", str(out)])
    assert both.exit_code == 2 and "-o writes a plan to review" in both.stderr


def test_the_plan_hash_is_stable_and_covers_every_trade(tmp_path: Path) -> None:
    from hlrebal.render import plan_hash

    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952")))
    answer = tmp_path / "a.json"
    answer.write_text(json.dumps(ORIGINAL))
    first, again = (
        json.loads(runner.invoke(app, ["plan", str(answer), "--snapshot", str(snap), "--json"]).stdout) for _ in "ab"
    )
    assert first["plan_hash"] == again["plan_hash"] == plan_hash(first)
    first["trades"][0]["limit_price"] = "85000"
    assert plan_hash(first) != again["plan_hash"]


def test_backtest_reads_an_agents_answer_from_stdin_and_refuses_direct_actions(tmp_path: Path) -> None:
    from hlrebal.backtest import save_history

    from backtest_helpers import history_doc, walk

    closes = {"BTC": walk(60, 90_000, 0.012, seed=41), "ETH": walk(60, 3_000, 0.015, seed=42)}
    history = tmp_path / "h.json"
    save_history(history_doc(closes, rate="0.0000125"), history)
    args = ["backtest", "-", "--history", str(history), "--demo", "--json"]
    r = runner.invoke(app, args, input=json.dumps(ORIGINAL))
    assert r.exit_code == 0, r.stderr
    actions = json.dumps({"actions": [{"action_type": "close", "coin": "BTC"}]})
    refused = runner.invoke(app, args, input=actions)
    assert refused.exit_code == 2 and "needs target weights" in json.loads(refused.stdout)["message"]
