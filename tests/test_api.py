"""The Python API, as a script or an agent's loop uses it: never through the command line. It prints
nothing, raises the error hierarchy, and gives the values the command line renders."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

import hlrebal
import hlrebal.render
from hlrebal.journal import read_entries
from hlrebal.sim import Simulator

from execution_kit import USER, btc_80
from execution_kit import key_file as kit_key_file
from factories import make_snapshot

ANSWER = {"selected_strategy": "balanced-growth", "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}


@pytest.fixture
def owner() -> str:
    return USER  # the owner of the seeded account (execution_kit's throwaway key)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return kit_key_file(tmp_path)


@pytest.fixture
def sim(owner: str) -> Iterator[Simulator]:
    with Simulator(snapshot=btc_80(owner)) as s:
        yield s


def test_import_hlrebal_is_cheap() -> None:
    heavy = "('pydantic', 'rich', 'typer', 'hyperliquid')"
    code = f"import sys, hlrebal; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_load_targets_takes_a_mapping_json_text_a_path_or_free_text(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(ANSWER))
    from_mapping = hlrebal.load_targets({"target_allocation": {"BTC": D("0.4"), "ETH": 0.3, "USDC": 0.3}})
    assert from_mapping.weights == {"BTC": D("0.4"), "ETH": D("0.3")}
    for source in (json.dumps(ANSWER), str(path), path, f"Sure:\n```json\n{json.dumps(ANSWER)}\n```"):
        doc = hlrebal.load_targets(source, extract=isinstance(source, str) and source.startswith("Sure"))
        assert isinstance(doc, hlrebal.Targets) and doc.strategy == "balanced-growth"
    actions = hlrebal.load_targets({"actions": [{"action_type": "close", "coin": "BTC"}]})
    assert isinstance(actions, hlrebal.ActionDocument)
    with pytest.raises(hlrebal.TargetFileError) as info:
        hlrebal.load_targets({"target_allocation": {"BTC": 0.5, "USDC": 0.6}})
    assert info.value.exit_code == 2 and "weights sum to 1.1" in info.value.message


def test_plan_is_pure_and_explicit_policy_fields_win_over_the_documents(tmp_path: Path) -> None:
    snap_file = tmp_path / "snap.json"
    snap_file.write_text(json.dumps(make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952")))
    snapshot = hlrebal.load_snapshot(snap_file)
    doc = hlrebal.load_targets({**ANSWER, "policy": {"band": 0.03, "slippage": 0.004}})
    p = hlrebal.plan(snapshot, doc, hlrebal.Policy(slippage=D("0.002")))
    assert isinstance(p, hlrebal.Plan) and p.strategy == "balanced-growth"
    assert (p.policy.band, p.policy.slippage) == (D("0.03"), D("0.002"))
    assert hlrebal.plan(snapshot, doc, hlrebal.Policy(slippage=D("0.002"))) == p  # deterministic
    with pytest.raises(hlrebal.TargetFileError, match="not traded"):
        hlrebal.plan(snapshot, {"NOPE": 0.5})


def test_read_plan_execute_on_the_sim_prints_nothing(
    sim: Simulator, owner: str, key_file: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    snapshot = hlrebal.read_snapshot(owner, api_url=sim.url)
    assert snapshot.user == owner and snapshot.equity == D("100000.000")
    planned = hlrebal.plan(snapshot, ANSWER)
    assert [(t.coin, t.side) for t in planned.trades] == [("BTC", "sell"), ("ETH", "buy")]
    said: list[str] = []
    journal = tmp_path / "journal.jsonl"
    report = hlrebal.execute(ANSWER, api_url=sim.url, key_file=key_file, journal=journal, progress=said.append)
    assert isinstance(report, hlrebal.ExecutionReport)
    assert report.outcome == "done" and report.exit_code == hlrebal.ExitCode.OK
    assert [(o["coin"], o["is_buy"]) for o in sim.orders] == [("BTC", False), ("ETH", True)]
    after = hlrebal.read_snapshot(owner, api_url=sim.url)
    assert abs(after.positions["ETH"].szi * after.assets["ETH"].reference_price / after.equity - D("0.3")) < D("0.001")
    assert any("signing with the key" in s for s in said)
    start = next(e for e in read_entries(journal) if e["event"] == "run_start")
    assert start["selected_strategy"] == "balanced-growth"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_execute_direct_actions_and_the_errors_it_raises(sim: Simulator, key_file: Path, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    actions = {"actions": [{"action_type": "sell", "coin": "BTC", "size": 0.1}]}
    report = hlrebal.execute(actions, api_url=sim.url, key_file=key_file, journal=journal)
    assert report.outcome == "done" and [(o.coin, o.side, o.size) for o in report.orders] == [("BTC", "sell", D("0.1"))]
    with pytest.raises(hlrebal.ConfigError) as info:
        hlrebal.execute(actions, api_url=sim.url, key_file=key_file, address="0xnot-an-address", journal=journal)
    assert info.value.exit_code == 2 and "account_address" in info.value.message
    with pytest.raises(hlrebal.TargetFileError, match="close takes the whole position"):
        bad = {"actions": [{"action_type": "close", "coin": "BTC", "size": 1}]}
        hlrebal.execute(bad, api_url=sim.url, key_file=key_file, journal=journal)
    refused = hlrebal.execute(
        ANSWER, api_url=sim.url, key_file=key_file, journal=journal, policy=hlrebal.Policy(max_turnover=D("0.1"))
    )
    assert refused.outcome == "refused" and refused.exit_code == 4 and len(sim.orders) == 1
    ends = [e for e in read_entries(journal) if e["event"] == "run_end"]
    assert [e["exit_code"] for e in ends] == [0, 2, 4]  # every call is in the journal, failed or not


def test_an_approved_plan_file_executes_exactly_or_is_refused(
    sim: Simulator, owner: str, key_file: Path, tmp_path: Path
) -> None:
    from hlrebal.approval import approve, save_plan

    snapshot = hlrebal.read_snapshot(owner, api_url=sim.url)
    document = hlrebal.load_targets(ANSWER)
    made = hlrebal.plan(snapshot, document)
    path = tmp_path / "plan.json"
    save_plan(approve(made, document, snapshot, json.dumps(ANSWER), str(path)), path)
    approved = hlrebal.load_plan(path)
    assert approved.plan == made and approved.plan_hash == hlrebal.render.plan_json(made)["plan_hash"]
    sim.set_price("BTC", "86900")  # +1.5%
    with pytest.raises(hlrebal.GuardError, match=r"prices moved more than --max-price-move 0\.01"):
        hlrebal.execute(approved, api_url=sim.url, key_file=key_file, journal=tmp_path / "j.jsonl")
    assert sim.orders == []
    report = hlrebal.execute(
        approved, api_url=sim.url, key_file=key_file, journal=tmp_path / "j.jsonl", max_price_move="0.05"
    )
    assert report.outcome == "done", report.message
    sent = [(o["coin"], D(str(o["sz"])), D(str(o["px"]))) for o in sim.orders[:2]]
    assert sent == [(t.coin, t.size, t.limit_price) for t in made.trades]
