"""Builder-deployed perp dexes (HIP-3): reading, planning and trading "dex:COIN" targets on the sim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.exchange import ExchangeClient
from hlrebal.sim import Simulator

from factories import make_snapshot

runner = CliRunner()
OWNER_KEY = "0x" + "3c" * 32
USER = Account.from_key(OWNER_KEY).address.lower()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(snapshot=make_snapshot({}, cash="90000", user=USER)) as s:
        s.add_dex("xyz", [("XYZ100", 2, 20, "25000"), ("GOLD", 3, 10, "2650.5")])
        s.fund(USER, 10_000, dex="xyz")
        yield s


@pytest.fixture
def targets(tmp_path: Path) -> Path:
    path = tmp_path / "dex.json"
    path.write_text('{"target_allocation": {"BTC": 0.3, "xyz:XYZ100": 0.08, "USDC": 0.62}}')
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "owner.key"
    path.write_text(OWNER_KEY)
    path.chmod(0o600)
    return path


def test_a_dex_named_in_the_targets_is_read_with_its_own_clearinghouse(sim: Simulator) -> None:
    sim.reset_counts()
    snap = ExchangeClient(sim.url, network="custom").read_snapshot(USER, dexes=("xyz",))
    assert snap.assets["xyz:XYZ100"].asset_id == 110_000 and snap.assets["xyz:GOLD"].asset_id == 110_001
    assert snap.assets["xyz:XYZ100"].dex == "xyz"
    assert snap.dexes["xyz"].account_value == D("10000")
    assert snap.equity == D("100000")  # main perp + the dex's own clearinghouse
    info = {k: v for k, v in sim.counts.items() if k.startswith("info.")}
    assert info["info.perpDexs"] == 1 and info["info.metaAndAssetCtxs"] == 2 and info["info.clearinghouseState"] == 2


def test_plan_sizes_a_dex_perp_and_keeps_its_margin_apart(sim: Simulator, targets: Path) -> None:
    r = runner.invoke(app, ["plan", str(targets), "--api-url", sim.url, "--address", USER, "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    xyz = next(t for t in doc["trades"] if t["coin"] == "xyz:XYZ100")
    assert xyz["asset"] == 110_000 and xyz["size"] == "0.32"  # 8% of $100,000 at 25,000
    assert not doc["warnings"]


def test_an_unfunded_dex_scales_its_own_increases_only(tmp_path: Path, targets: Path) -> None:
    with Simulator(snapshot=make_snapshot({}, cash="100000", user=USER)) as s:
        s.add_dex("xyz", [("XYZ100", 2, 20, "25000")])
        r = runner.invoke(app, ["plan", str(targets), "--api-url", s.url, "--address", USER, "--json"])
        doc = json.loads(r.stdout)
        assert [t["coin"] for t in doc["trades"]] == ["BTC"]
        assert any("dex xyz" in w and "move collateral" in w for w in doc["warnings"])


def test_execute_trades_the_dex_perp_on_its_own_clearinghouse(
    sim: Simulator, targets: Path, key_file: Path, tmp_path: Path
) -> None:
    r = runner.invoke(
        app,
        [
            "execute",
            str(targets),
            "--api-url",
            sim.url,
            "--key-file",
            str(key_file),
            "--journal",
            str(tmp_path / "j.jsonl"),
            "--yes",
            "--json",
        ],
    )
    assert r.exit_code == 0, (r.stdout, r.stderr)
    account = sim.account(USER)
    assert account["dexes"]["xyz"]["positions"]["xyz:XYZ100"]["szi"] == D("0.32")
    assert "xyz:XYZ100" not in account["positions"]
    assert sim.counts["exchange.order"] == 1  # BTC and the dex perp in one increasing batch


def test_a_saved_snapshot_with_a_dex_replays_the_same_plan(sim: Simulator, targets: Path, tmp_path: Path) -> None:
    from hlrebal.planner import plan
    from hlrebal.policy import Policy
    from hlrebal.snapshot import Snapshot, load_snapshot, save_snapshot
    from hlrebal.targets import load_targets

    live = ExchangeClient(sim.url, network="custom").read_snapshot(USER, dexes=("xyz",))
    path = tmp_path / "snap.json"
    save_snapshot(live, path)
    again = load_snapshot(path)
    assert isinstance(again, Snapshot) and "dexes" in again.raw and "perpDexs" in again.raw
    tg = load_targets(targets)
    assert plan(again, tg, Policy()).trades == plan(live, tg, Policy()).trades


def test_an_unknown_dex_is_bad_input(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"abc:FOO": 0.1}')
    r = runner.invoke(app, ["plan", str(path), "--api-url", sim.url, "--address", USER])
    assert r.exit_code == 2 and "no builder-deployed perp dex named 'abc'" in r.stderr
