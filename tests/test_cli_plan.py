"""`hlrebal plan` and `hlrebal schema` through the real CLI (CliRunner), offline."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app

from factories import btc_80_20, make_snapshot

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_targets"
runner = CliRunner()


def write(tmp_path: Path, name: str, content: str | dict) -> Path:
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else json.dumps(content))
    return p


@pytest.fixture
def snap_file(tmp_path: Path) -> Path:
    return write(tmp_path, "snap.json", btc_80_20())


def test_plan_table_shows_ordered_trades_summary_and_drift(snap_file: Path) -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap_file)])
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "Plan: 2 trade(s)" in out
    assert out.index("BTC") < out.index("ETH")
    for fragment in ("reduce", "open", "0.46729", "9.8348", "85172", "3065.6", "80.0% → 40.0% → 40.0%", "Drift"):
        assert fragment in out, fragment
    assert "turnover" in out and "estimated fees" in out and "gross exposure" in out


def test_plan_json_document_is_stable_and_in_execution_order(snap_file: Path) -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap_file), "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["version"] == 1 and doc["equity"] == "100000"
    assert [t["coin"] for t in doc["trades"]] == ["BTC", "ETH"]
    btc = doc["trades"][0]
    assert btc == btc | {
        "coin": "BTC",
        "side": "sell",
        "size": "0.46729",
        "reference_price": "85600",
        "limit_price": "85172",
        "reduce_only": True,
        "phase": 1,
        "action": "reduce",
    }
    assert D(btc["notional"]) == D("0.46729") * D("85172")
    for key in ("turnover", "estimated_fees", "gross_before", "gross_after"):
        D(doc["summary"][key])  # decimal strings
    assets = {a["coin"]: a for a in doc["assets"]}
    assert set(assets) == {"BTC", "ETH", "USDC"}
    assert D(assets["ETH"]["target_weight"]) == D("0.3")
    assert doc["skipped"] == []


def test_demo_runs_with_no_account(tmp_path: Path) -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--demo", "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["network"] == "demo"
    assert {t["coin"] for t in doc["trades"]} == {"BTC", "ETH"}


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_every_sample_target_plans_on_the_demo(sample: str) -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / sample), "--demo", "--json"])
    assert r.exit_code == 0, r.stderr
    json.loads(r.stdout)


def test_policy_flags_change_the_plan(snap_file: Path) -> None:
    base = ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap_file), "--json"]
    full = json.loads(runner.invoke(app, base).stdout)
    edge = json.loads(runner.invoke(app, [*base, "--trade-to", "edge"]).stdout)
    assert D(edge["summary"]["turnover"]) < D(full["summary"]["turnover"])
    wide = json.loads(runner.invoke(app, [*base, "--band", "0.45", "--band-relative", "off"]).stdout)
    assert wide["trades"] == []
    slip = json.loads(runner.invoke(app, [*base, "--slippage", "0.01"]).stdout)
    assert slip["trades"][0]["limit_price"] == "84744"
    assert slip["policy"]["slippage"] == "0.01"


def test_flag_beats_target_policy_beats_environment(tmp_path: Path, snap_file: Path, monkeypatch) -> None:
    targets = write(tmp_path, "t.json", {"target_allocation": {"BTC": 0.4, "ETH": 0.3}, "policy": {"slippage": 0.01}})
    monkeypatch.setenv("HLREBAL_SLIPPAGE", "0.002")
    base = ["plan", str(targets), "--snapshot", str(snap_file), "--json"]
    assert json.loads(runner.invoke(app, base).stdout)["policy"]["slippage"] == "0.01"
    flagged = json.loads(runner.invoke(app, [*base, "--slippage", "0.003"]).stdout)
    assert flagged["policy"]["slippage"] == "0.003"
    plain = write(tmp_path, "plain.json", {"BTC": 0.4})
    env_only = json.loads(runner.invoke(app, ["plan", str(plain), "--snapshot", str(snap_file), "--json"]).stdout)
    assert env_only["policy"]["slippage"] == "0.002"


def test_nothing_to_do_is_exit_0_with_a_clear_message(tmp_path: Path, snap_file: Path) -> None:
    targets = write(tmp_path, "t.json", {"BTC": 0.8})
    r = runner.invoke(app, ["plan", str(targets), "--snapshot", str(snap_file)])
    assert r.exit_code == 0
    assert "Nothing to do" in r.stdout


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("", ["empty"]),
        ("{", ["invalid JSON"]),
        ("[1, 2]", ["JSON object"]),
        ('{"BTC": 0.4, "BTC": 0.5}', ["'BTC'", "more than once"]),
        ('{"BTC": NaN}', ["BTC", "finite"]),
        ('{"BTC": "0.4"}', ["BTC", "number"]),
        ('{"btc": 0.4}', ["btc", "'BTC'"]),
        ('{"MATIC": 0.1}', ["MATIC", "delisted"]),
        ('{"BTC": 0.5, "USDC": 0.6}', ["sum to 1.1"]),
        ('{"BTC": 0.8, "ETH": -0.5}', ["gross exposure 1.3", "max_leverage"]),
        ('{"target_allocation": {"BTC": 1}, "policy": {"max_leverage": 5}}', ["max_leverage", "safety limit"]),
        ('{"target_allocation": {"BTC": 1}, "polcy": {}}', ["polcy", "unknown top-level key"]),
        ('{"target_allocation": {"BTC": 1}, "policy": {"band": 2}}', ["policy.band"]),
    ],
)
def test_bad_target_files_exit_2_with_a_message_and_no_traceback(
    tmp_path: Path, content: str, fragments: list[str]
) -> None:
    targets = write(tmp_path, "bad.json", content)
    r = runner.invoke(app, ["plan", str(targets), "--demo"])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    assert str(targets) in r.stderr
    for fragment in fragments:
        assert fragment in r.stderr, (fragment, r.stderr)
    assert r.stdout == ""


def test_bad_input_with_json_is_a_json_error_document(tmp_path: Path) -> None:
    targets = write(tmp_path, "bad.json", '{"ETHH": 0.5}')
    r = runner.invoke(app, ["plan", str(targets), "--demo", "--json"])
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert doc["kind"] == "error" and doc["exit_code"] == 2 and "ETH" in doc["message"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--snapshot", "missing.json"], "no such snapshot file"),
        (["--demo", "--snapshot", "x.json"], "both given"),
        (["--demo", "--band", "abc"], "policy.band"),
        (["--demo", "--slippage", "0.1"], "max_slippage"),
        (["--demo", "--min-trade-value", "5"], "greater than or equal to 10"),
        (["--demo", "--trade-to", "middle"], "trade_to"),
    ],
)
def test_bad_options_exit_2(args: list[str], fragment: str) -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), *args])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_target_file_is_exit_2() -> None:
    r = runner.invoke(app, ["plan", "does-not-exist.json", "--demo"])
    assert r.exit_code == 2 and "no such target file" in r.stderr


def test_unusable_snapshot_is_exit_2(tmp_path: Path) -> None:
    snap = write(tmp_path, "snap.json", {"user": "0x12", "clearinghouseState": {}})
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap)])
    assert r.exit_code == 2 and "user" in r.stderr


def test_open_orders_warning_is_shown(tmp_path: Path) -> None:
    orders = [{"coin": "BTC", "limitPx": "80000", "oid": 1, "side": "B", "sz": "0.1", "timestamp": 1}]
    snap = write(tmp_path, "s.json", make_snapshot({"BTC": ("0.5", 10)}, cash="50000", open_orders=orders))
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap)])
    assert r.exit_code == 0
    assert "open order" in r.stdout


def test_schema_prints_a_json_schema() -> None:
    r = runner.invoke(app, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    structured = schema["oneOf"][0]
    assert "target_allocation" in structured["properties"]
    assert set(structured["properties"]["policy"]["properties"]) >= {"band", "trade_to", "slippage"}
    assert "max_leverage" not in structured["properties"]["policy"]["properties"]


def test_version_and_module_entry_point() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.startswith("hlrebal ")
    proc = subprocess.run([sys.executable, "-m", "hlrebal", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "plan" in proc.stdout
