"""Fewer requests: a one-round execute on a perp-only account reads the market once, then only what
a run changes (positions, mids), with the read-back still verified and the oracle guard still fed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.journal import read_entries
from hlrebal.sim import Simulator

from execution_kit import BALANCED, btc_80, key_file

runner = CliRunner()
#: Hyperliquid's info weights (api docs, "Rate limits"): these 2, userRole 60, every other type 20
LIGHT = {"clearinghouseState", "spotClearinghouseState", "allMids", "l2Book", "orderStatus", "exchangeStatus"}


def weight(counts: dict[str, int]) -> int:
    total = 0
    for kind, n in counts.items():
        if kind.startswith("info."):
            name = kind[5:]
            total += n * (2 if name in LIGHT else 60 if name == "userRole" else 20)
    return total


def execute(sim: Simulator, tmp_path: Path, *extra: str) -> Any:
    args = ["execute", str(BALANCED), "--api-url", sim.url, "--key-file", str(key_file(tmp_path))]
    args += ["--journal", str(tmp_path / "journal.jsonl"), "--yes", "--json", *extra]
    return runner.invoke(app, args)


def info_counts(sim: Simulator) -> dict[str, int]:
    return {k: v for k, v in sim.counts.items() if k.startswith("info.")}


def test_a_one_round_perp_execute_costs_seven_info_requests_of_weight_68(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        r = execute(sim, tmp_path)
        assert r.exit_code == 0, r.stdout
        info = info_counts(sim)
        exchange = {k: v for k, v in sim.counts.items() if k.startswith("exchange.")}
    assert info == {
        "info.metaAndAssetCtxs": 1,  # the market, once
        "info.clearinghouseState": 2,  # the account for the plan, and the read-back
        "info.spotClearinghouseState": 1,  # spot USDC counts in equity; perp trades do not change it
        "info.openOrders": 1,  # the open-orders guard
        "info.allMids": 1,  # fresh mids for phase 2 and its oracle guard
        "info.userFills": 1,  # fees and costs
    }
    assert sum(info.values()) == 7 and weight(info) == 68
    assert exchange == {"exchange.order": 2}
    end = [e for e in read_entries(tmp_path / "journal.jsonl") if e["event"] == "run_end"][-1]
    assert end["requests"] == {**info, **exchange}  # what the client counted is what the exchange saw
    assert end["request_weight"] == 68 + 2  # and each order request weighs 1


def test_a_reduction_that_falls_short_is_followed_by_a_read_of_the_margin_it_freed(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80(), config=_never_refill()) as sim:
        sim.set_book("BTC", level_notional=8000, levels=3)  # about $24k of the $40k sale can fill
        r = execute(sim, tmp_path, "--max-rounds", "1")
        info = info_counts(sim)
    assert r.exit_code == 5, r.stdout
    # between the phases the account is read (positions and mids), then read back after phase 2
    assert info["info.clearinghouseState"] == 3 and info["info.allMids"] == 1
    assert info["info.metaAndAssetCtxs"] == 1


def test_later_rounds_trade_at_fresh_mids(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    with Simulator(snapshot=btc_80(), config=SimConfig(refill="per_request")) as sim:
        sim.set_book("ETH", level_notional=4000, levels=4)  # round 1 fills part of the ETH buy
        # 4 reads, phase 1, mids, phase 2, the read-back: then ETH moves, and round 2 must see it
        sim.move_price_after(8, "ETH", "3060")
        r = execute(sim, tmp_path, "--max-rounds", "3", "--max-price-deviation", "0.05")
        info = info_counts(sim)
    assert r.exit_code == 0, r.stdout
    orders = json.loads(r.stdout)["orders"]
    later = [o for o in orders if o["round"] == 2]
    assert later and all(o["reference_price"] == "3060" for o in later if o["coin"] == "ETH")
    assert info["info.allMids"] == 2 and info["info.metaAndAssetCtxs"] == 1


def _never_refill() -> Any:
    from hlrebal.sim import SimConfig

    return SimConfig(refill="never")
