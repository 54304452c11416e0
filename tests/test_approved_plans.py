"""Four eyes: `plan -o FILE` proposes, someone reviews, `execute --plan FILE` places exactly that plan,
or refuses with nothing sent when the account, the prices or the file changed, or the plan is old."""

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

runner = CliRunner()
BALANCED = str(Path(__file__).resolve().parent.parent / "sample_targets" / "balanced.json")
ANSWER = {"selected_strategy": "balanced-growth", "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}


@pytest.fixture
def owner() -> str:
    return USER  # the owner of the seeded account (execution_kit's throwaway key)


@pytest.fixture
def sim(owner: str) -> Iterator[Simulator]:
    with Simulator(snapshot=btc_80(owner)) as s:
        yield s


@pytest.fixture
def env(sim: Simulator, owner: str, tmp_path: Path) -> dict[str, Any]:
    key = kit_key_file(tmp_path)
    return {"sim": sim, "owner": owner, "key": key, "journal": tmp_path / "j.jsonl", "tmp": tmp_path}


def make_plan(env: dict[str, Any], document: dict[str, Any] = ANSWER) -> Path:
    answer, out = env["tmp"] / "answer.json", env["tmp"] / "plan.json"
    answer.write_text(json.dumps(document))
    read = ["--api-url", env["sim"].url, "--address", env["owner"]]
    r = runner.invoke(app, ["plan", str(answer), *read, "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    return out


def execute_plan(env: dict[str, Any], path: Path, *extra: str) -> Any:
    args = ["execute", "--plan", str(path), "--api-url", env["sim"].url, "--key-file", str(env["key"])]
    return runner.invoke(app, [*args, "--journal", str(env["journal"]), "--yes", "--json", *extra])


def sent(sim: Simulator) -> list[tuple[str, bool, D, D, bool]]:
    return [(o["coin"], o["is_buy"], D(str(o["sz"])), D(str(o["px"])), o["reduce_only"]) for o in sim.orders]


def planned(path: Path) -> list[tuple[str, bool, D, D, bool]]:
    trades = json.loads(path.read_text())["trades"]
    return [(t["coin"], t["side"] == "buy", D(t["size"]), D(t["limit_price"]), t["reduce_only"]) for t in trades]


def test_execute_plan_places_exactly_the_planned_orders(env: dict[str, Any]) -> None:
    path = make_plan(env)
    r = execute_plan(env, path)
    assert r.exit_code == 0, r.stderr
    assert sent(env["sim"]) == planned(path)  # the plan's own sizes and limit prices, nothing else
    doc = json.loads(r.stdout)
    plan_hash = json.loads(path.read_text())["plan_hash"]
    assert doc["outcome"] == "done" and doc["plan"]["plan_hash"] != ""
    start = next(e for e in read_entries(env["journal"]) if e["event"] == "run_start")
    assert start["plan_hash"] == plan_hash and start["plan_file"] == str(path)


def test_a_direct_actions_plan_runs_as_approved(env: dict[str, Any]) -> None:
    path = make_plan(env, {"actions": [{"action_type": "sell", "coin": "BTC", "size": 0.3},
                                       {"action_type": "buy", "coin": "ETH", "notional": 20000}]})  # fmt: skip
    r = execute_plan(env, path)
    assert r.exit_code == 0, r.stderr
    assert sent(env["sim"]) == planned(path)
    assert [(c, s) for c, _, s, _, _ in sent(env["sim"])] == [("BTC", D("0.3")), ("ETH", D("6.5565"))]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda sim, owner: sim.fund(owner, 5000), "perp USDC 19,999.95 -> 24,999.95"),
        (lambda sim, owner: sim.fund_spot(owner, "HYPE", "3"), "HYPE balance 0 -> 3"),
    ],
    ids=["deposit", "new-token"],
)
def test_a_changed_account_is_refused_with_nothing_sent(env: dict[str, Any], change: Any, says: str) -> None:
    path = make_plan(env)
    change(env["sim"], env["owner"])
    r = execute_plan(env, path)
    assert r.exit_code == 4, r.stderr
    assert "the account changed since the plan was made" in r.stderr and says in r.stderr
    assert env["sim"].orders == []


def test_a_changed_position_is_refused(env: dict[str, Any]) -> None:
    path = make_plan(env)
    other = make_plan(env, {"actions": [{"action_type": "sell", "coin": "BTC", "size": 0.1}]})
    assert execute_plan(env, other).exit_code == 0  # someone trades the account in between
    before = len(env["sim"].orders)
    r = execute_plan(env, path)
    assert r.exit_code == 4 and "BTC position 0.93458 -> 0.83458" in r.stderr
    assert len(env["sim"].orders) == before


def test_a_moved_price_is_refused_unless_allowed(env: dict[str, Any]) -> None:
    path = make_plan(env)
    env["sim"].set_price("ETH", "3110")  # +1.95% since the plan
    r = execute_plan(env, path)
    assert r.exit_code == 4 and "prices moved more than --max-price-move 0.01" in r.stderr
    assert "ETH 3050.4 -> 3110 (+1.95%)" in r.stderr and env["sim"].orders == []
    assert execute_plan(env, path, "--max-price-move", "0.03").exit_code == 0


def test_an_old_plan_is_refused(env: dict[str, Any]) -> None:
    path = make_plan(env)
    r = execute_plan(env, path, "--max-plan-age", "0.001")  # older than a millisecond: every plan is
    assert r.exit_code == 4 and "more than --max-plan-age 0.001 s" in r.stderr
    assert env["sim"].orders == []


def test_an_edited_file_is_exit_2(env: dict[str, Any]) -> None:
    path = make_plan(env)
    doc = json.loads(path.read_text())
    edited = dict(doc, trades=[dict(doc["trades"][0], size="0.9"), *doc["trades"][1:]])
    path.write_text(json.dumps(edited))
    r = execute_plan(env, path)
    assert r.exit_code == 2 and "does not match its plan_hash" in r.stderr
    basis = json.loads(json.dumps(doc["basis"]).replace('"0.93458"', '"0.5"'))
    path.write_text(json.dumps(dict(doc, basis=basis)))
    r = execute_plan(env, path)
    assert r.exit_code == 2 and "does not follow from the account state stored with it" in r.stderr
    path.write_text(json.dumps({k: v for k, v in doc.items() if k != "basis"}))  # as `plan --json` prints it
    r = execute_plan(env, path)
    assert r.exit_code == 2 and "cannot be executed" in r.stderr
    assert env["sim"].orders == []
    assert [e["exit_code"] for e in read_entries(env["journal"]) if e["event"] == "run_end"] == [2, 2, 2]


def test_a_plan_for_another_account_is_exit_2(env: dict[str, Any], _isolated_home: Path) -> None:
    out = env["tmp"] / "demo-plan.json"
    assert runner.invoke(app, ["plan", BALANCED, "--demo", "-o", str(out)]).exit_code == 0
    r = execute_plan(env, out)
    assert r.exit_code == 2 and "the plan is for 0x" in r.stderr and "on demo" in r.stderr
    assert env["sim"].orders == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([BALANCED, "--plan", "p.json"], "give no TARGETS"),
        (["--plan", "p.json", "--band", "0.02"], "--band: a saved plan keeps the planning settings"),
        ([BALANCED, "--max-plan-age", "60"], "apply to --plan FILE only"),
        (["--plan", "p.json", "--max-price-move", "-1"], "--max-price-move '-1': must be a number above 0"),
    ],
)
def test_options_that_do_not_go_with_plan(args: list[str], says: str) -> None:
    r = runner.invoke(app, ["execute", *args, "--demo", "--yes"])
    assert r.exit_code == 2 and says in r.stderr
