"""What a run cost: fees in USD (a spot fee is paid in the bought token) and the implementation
shortfall against the arrival mid, per coin and in total; checked against the simulator's own fills."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.execution.costs import cost_report, fee_in_usd
from hlrebal.execution.models import Fill, OrderReport
from hlrebal.journal import read_entries, summarize_runs
from hlrebal.policy import Policy
from hlrebal.sim import Simulator

from execution_kit import USER, btc_80, client_for, key_file, run_library, sim_fills
from factories import make_snapshot

runner = CliRunner()


def order(coin: str = "BTC", side: str = "buy", **kw: Any) -> OrderReport:
    base: dict[str, Any] = {
        "round": 1,
        "phase": 2,
        "cloid": "0x" + "0" * 32,
        "coin": coin,
        "side": side,
        "action": "open",
        "reduce_only": False,
        "size": D(1),
        "reference_price": D(100),
        "limit_price": D(101),
    }
    return OrderReport(**{**base, **kw})


def expected_costs(sim: Simulator, arrival: dict[str, D]) -> dict[str, tuple[D, D, D]]:
    """Per coin from the simulator's fills: (shortfall, fees in USD, notional)."""
    out: dict[str, tuple[D, D, D]] = {}
    for f in sim_fills(sim):
        coin = f["coin"]
        sign = 1 if f["side"] == "B" else -1
        shortfall, fees, notional = out.get(coin, (D(0), D(0), D(0)))
        fee = f["fee"] * f["px"] if f["feeToken"] != "USDC" else f["fee"]
        out[coin] = (shortfall + sign * (f["px"] - arrival[coin]) * f["sz"], fees + fee, notional + f["px"] * f["sz"])
    return out


def test_a_taker_runs_costs_are_the_sum_over_its_fills(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        sim.set_book("ETH", level_notional=8000, levels=6)  # the ETH buy walks several levels
        report, snap, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3})
        assert report.outcome == "done", report.message
        arrival = {c: snap.assets[c].mid for c in ("BTC", "ETH")}
        want = expected_costs(sim, arrival)  # type: ignore[arg-type]
    costs = report.costs
    assert [c.coin for c in costs.coins] == ["BTC", "ETH"]
    for c in costs.coins:
        shortfall, fees, notional = want[c.coin]
        assert (c.shortfall_usd, c.fees_usd, c.notional) == (shortfall, fees, notional)
        assert c.arrival_price == arrival[c.coin] and c.maker_share == 0
        assert c.total_usd == shortfall + fees
        assert c.bps(c.total_usd) == (shortfall + fees) / notional * 10_000
    assert costs.shortfall_usd == sum((w[0] for w in want.values()), D(0)) > 0  # a sweep pays the spread
    assert costs.fees_usd == report.fees == sum((w[1] for w in want.values()), D(0))
    eth = next(c for c in costs.coins if c.coin == "ETH")
    assert eth.fills > 1  # several levels, each its own fill
    assert costs.estimated_fees is not None and costs.estimated_fees > 0


def test_the_journal_and_its_summary_carry_the_runs_cost(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    with Simulator(snapshot=btc_80()) as sim:
        r = runner.invoke(
            app,
            [
                "execute",
                "sample_targets/balanced.json",
                "--api-url",
                sim.url,
                "--key-file",
                str(key_file(tmp_path)),
                "--journal",
                str(journal),
                "--yes",
                "--json",
            ],
        )
        assert r.exit_code == 0, r.stdout
        start_mids = {t["coin"]: D(t["reference_price"]) for t in json.loads(r.stdout)["plan"]["trades"]}
        want = expected_costs(sim, start_mids)
    end = [e for e in read_entries(journal) if e["event"] == "run_end"][-1]
    costs = end["costs"]
    fees = sum((w[1] for w in want.values()), D(0))
    shortfall = sum((w[0] for w in want.values()), D(0))
    notional = sum((w[2] for w in want.values()), D(0))
    assert D(costs["fees_usd"]) == fees.quantize(D("0.000001"))
    assert D(costs["shortfall_usd"]) == shortfall.quantize(D("0.000001"))
    assert D(costs["total_bps"]) == ((shortfall + fees) / notional * 10_000).quantize(D("0.01"))
    assert D(costs["maker_share"]) == 0
    assert [c["coin"] for c in costs["coins"]] == ["BTC", "ETH"]
    assert D(costs["estimated_fees"]) > 0
    summary = summarize_runs(journal, 1)[0]
    assert summary["cost_fees_usd"] == costs["fees_usd"] and summary["cost_total_bps"] == costs["total_bps"]


def test_a_spot_buys_fee_paid_in_the_token_is_reported_in_usd(tmp_path: Path) -> None:
    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount")
    with Simulator(snapshot=doc) as sim:
        report, _, _ = run_library(sim, tmp_path, {"BTC": 0.3, "HYPE/USDC": 0.2}, spot=True)
        fills = sim_fills(sim)
    assert report.outcome == "done", report.message
    hype = next(o for o in report.orders if o.coin == "HYPE/USDC")
    hype_fills = [f for f in fills if f["oid"] == hype.oid]
    assert {f["feeToken"] for f in hype_fills} == {"HYPE"}
    in_token = sum((f["fee"] for f in hype_fills), D(0))
    in_usd = sum((f["fee"] * f["px"] for f in hype_fills), D(0))
    assert hype.fee == in_usd and in_usd > 10 * in_token  # HYPE trades near $38: the token amount is far less
    notional = sum((f["px"] * f["sz"] for f in hype_fills), D(0))
    assert abs(in_usd - notional * D("0.0007")) < D("0.01")  # the simulator's spot taker rate
    for o in report.orders:
        own = [f for f in fills if f["oid"] == o.oid]
        assert o.fee == sum((f["fee"] * (f["px"] if f["feeToken"] == "HYPE" else 1) for f in own), D(0))
    assert report.fees == sum((o.fee or 0 for o in report.orders), D(0)) == report.costs.fees_usd
    assert not report.costs.fees_estimated


def test_fees_are_estimated_in_usd_and_said_so_when_the_fills_cannot_be_read(tmp_path: Path) -> None:
    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount")
    with Simulator(snapshot=doc) as sim:
        sim.fail_next(4, status=500, endpoint="info", info_type="userFills")
        client = client_for(sim, delays=(0, 0, 0))
        report, _, _ = run_library(sim, tmp_path, {"BTC": 0.3, "HYPE/USDC": 0.2}, spot=True, client=client)
    assert report.outcome == "done"
    by_coin = {o.coin: o for o in report.orders}
    for coin, rate in (("BTC", Policy().fee_rate), ("HYPE/USDC", D("0.0007"))):
        o = by_coin[coin]
        assert o.avg_price is not None and o.fee == o.filled_size * o.avg_price * rate and o.fee_estimated
    assert report.costs.fees_estimated and report.costs.fees_usd == report.fees


def test_fee_units() -> None:
    buy, sell = order("HYPE/USDC", "buy"), order("HYPE/USDC", "sell")
    assert fee_in_usd(buy, D("0.25"), D(40), "HYPE") == D(10)
    assert fee_in_usd(sell, D("0.28"), D(40), "USDC") == D("0.28")
    assert fee_in_usd(buy, D("0.25"), D(40), None) == D(10)  # a buy receives (and pays in) the token
    assert fee_in_usd(sell, D("0.28"), D(40), None) == D("0.28")
    assert fee_in_usd(order("BTC", "buy"), D("3.85"), D(85600), "USDC") == D("3.85")


fill_st = st.tuples(
    st.sampled_from(["BTC", "ETH"]),
    st.sampled_from(["buy", "sell"]),
    st.decimals(min_value=D(90), max_value=D(110), places=2),
    st.decimals(min_value=D("0.01"), max_value=D(5), places=2),
    st.decimals(min_value=D(0), max_value=D(1), places=4),
    st.booleans(),
)


@given(st.lists(fill_st, min_size=1, max_size=12))
def test_costs_add_up_over_fills_coins_and_the_total(raw: list[tuple[str, str, D, D, D, bool]]) -> None:
    arrival = {"BTC": D(100), "ETH": D(100)}
    orders = []
    for i, (coin, side, px, sz, fee, maker) in enumerate(raw):
        o = order(coin, side, oid=i, filled_size=sz, avg_price=px)
        o.fills = [Fill(i, coin, side, px, sz, fee, maker)]  # type: ignore[arg-type]
        orders.append(o)
    report = cost_report(orders, arrival)
    by_hand = D(0)
    for _coin, side, px, sz, _, _ in raw:
        by_hand += (px - D(100)) * sz if side == "buy" else (D(100) - px) * sz
    assert report.shortfall_usd == by_hand
    assert report.fees_usd == sum((f[4] for f in raw), D(0))
    assert report.notional == sum((f[2] * f[3] for f in raw), D(0))
    maker = sum((f[2] * f[3] for f in raw if f[5]), D(0))
    assert report.maker_share == maker / report.notional
    assert {c.coin for c in report.coins} == {f[0] for f in raw}
    assert sum((c.total_usd for c in report.coins), D(0)) == report.total_usd
