"""The execution room's decisions one by one, fast: pure helpers with hand-worked numbers, and whole
runs against the simulator's handler without HTTP (``execution_kit.direct``). These are the tests the
mutation runs lean on; the sim tests over HTTP, the subprocess tests and the CLI tests check the same
behaviour end to end."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hlrebal.errors import ExitCode, GuardError
from hlrebal.exchange import OrderOutcome
from hlrebal.execution import guards, preflight
from hlrebal.execution.costs import arrival_prices, attach_fills, cost_report, fee_rate, parse_fill
from hlrebal.execution.maker import Touch, improves, left_behind, quote_price, touch_of
from hlrebal.execution.models import CostReport, ExecutionReport, Fill, OrderReport, outcome_of
from hlrebal.execution.preparation import conclude, drop_refused_dust, phase1_done_as_planned, trade_doc
from hlrebal.execution.readback import expect_fills, holdings, mismatches, position_goals
from hlrebal.execution.reconciliation import may_have_filled, status_to_outcome
from hlrebal.execution.scope import Scope, filled_by_coin
from hlrebal.execution.twap import (
    _OwnLeg,
    apply_slice_fills,
    find_twap,
    slice_size,
    twap_able,
    twap_states,
    visible_depth,
)
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.planner import Skip, plan
from hlrebal.policy import Policy
from hlrebal.sim import Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import USER, btc_80, direct, journal_entries, maker_settings, run_library, unresolved
from factories import make_snapshot


def snap_of(doc: dict[str, Any]) -> Snapshot:
    return Snapshot.from_raw(doc)


SEED = snap_of(btc_80())
SEED_PLAN = plan(SEED, weights_from_mapping({"BTC": 0.4, "ETH": 0.3}), Policy())
BTC = next(t for t in SEED_PLAN.trades if t.coin == "BTC")
ETH = next(t for t in SEED_PLAN.trades if t.coin == "ETH")


def order(coin: str = "BTC", side: str = "buy", **kw: Any) -> OrderReport:
    base: dict[str, Any] = {
        "round": 1, "phase": 2, "cloid": "0x" + "0" * 32, "coin": coin, "side": side, "action": "open",
        "reduce_only": False, "size": D(1), "reference_price": D(100), "limit_price": D(101),
    }  # fmt: skip
    return OrderReport(**{**base, **kw})


# --------------------------------------------------------------------------- models and outcomes


def test_outcomes_of_exit_codes() -> None:
    assert [outcome_of(c) for c in (0, 1, 2, 3, 4, 5, 130)] == [
        "done", "error", "error", "error", "refused", "partial", "interrupted",
    ]  # fmt: skip
    assert outcome_of(ExitCode.GUARD) == "refused"


def test_slippage_in_bps_is_paid_away_positive_for_both_sides() -> None:
    assert order(side="buy", avg_price=D(101), filled_size=D(1)).slippage_bps == D(100)
    assert order(side="sell", avg_price=D(99), filled_size=D(1)).slippage_bps == D(100)
    assert order(side="sell", avg_price=D(101), filled_size=D(1)).slippage_bps == D(-100)
    assert order(avg_price=None, filled_size=D(1)).slippage_bps is None
    assert order(avg_price=D(101), filled_size=D(0)).slippage_bps is None
    assert order(size=D(3), filled_size=D(1)).remaining == D(2)


def test_report_totals() -> None:
    r = ExecutionReport(run_id="x")
    r.orders = [order(filled_size=D(2), avg_price=D(10), fee=D("0.5")), order(fee=None)]
    assert (r.fees, r.traded_notional, r.any_filled) == (D("0.5"), D(20), True)
    r.requests = {"info.allMids": 2, "info.l2Book": 3, "exchange.order": 4}
    assert (r.info_requests, r.exchange_requests) == (5, 4)
    assert not ExecutionReport(run_id="y").any_filled


def test_cost_report_json_rounds_and_names_every_figure() -> None:
    o = order("BTC", "buy", oid=1, filled_size=D(2), avg_price=D(101))
    o.fills = [Fill(1, "BTC", "buy", D(101), D(2), D("0.0909"), True)]
    doc = cost_report([o], {"BTC": D(100)}, estimated_fees=D("0.1")).as_json()
    assert doc["shortfall_usd"] == "2" and doc["fees_usd"] == "0.0909" and doc["total_usd"] == "2.0909"
    assert doc["shortfall_bps"] == "99.01" and doc["maker_share"] == "1" and doc["estimated_fees"] == "0.1"
    assert doc["coins"][0] == {
        "coin": "BTC", "arrival_price": "100", "filled_size": "2", "fills": 1, "notional": "202",
        "shortfall_usd": "2", "fees_usd": "0.0909", "total_usd": "2.0909", "shortfall_bps": "99.01",
        "fees_bps": "4.5", "total_bps": "103.51", "maker_share": "1",
    }  # fmt: skip
    empty = CostReport().as_json()
    assert empty["notional"] == "0" and empty["total_bps"] is None and empty["maker_share"] is None


# --------------------------------------------------------------------------- costs


def test_fills_are_matched_by_order_id_and_fees_read_in_usd() -> None:
    buy = order("HYPE/USDC", "buy", oid=7, filled_size=D(2), avg_price=D(40))
    raw = [
        {"oid": 7, "px": "40", "sz": "1.5", "fee": "0.001", "feeToken": "HYPE", "crossed": True, "time": 5},
        {"oid": 7, "px": "40.2", "sz": "0.5", "fee": "0.0004", "feeToken": "HYPE", "crossed": False},
        {"oid": 8, "px": "1", "sz": "1", "fee": "9"},
        {"oid": "x"},
    ]
    assert attach_fills([buy], raw, Policy()) is False
    assert [(f.size, f.maker, f.time) for f in buy.fills] == [(D("1.5"), False, 5), (D("0.5"), True, 0)]
    assert buy.fee == D("0.001") * 40 + D("0.0004") * D("40.2") and not buy.fee_estimated


def test_fees_are_estimated_per_kind_and_style_when_fills_are_missing() -> None:
    policy = Policy(fee_rate=D("0.0004"))
    perp = order("BTC", filled_size=D(1), avg_price=D(100), oid=1)
    maker = order("BTC", filled_size=D(1), avg_price=D(100), oid=2, tif="Alo")
    spot = order("HYPE/USDC", filled_size=D(1), avg_price=D(100), oid=3)
    spot_maker = order("HYPE/USDC", filled_size=D(1), avg_price=D(100), oid=4, tif="Alo")
    unfilled = order("BTC", oid=5)
    assert [fee_rate(o, policy) for o in (perp, maker, spot, spot_maker)] == [
        D("0.0004"), D("0.00015"), D("0.0007"), D("0.0004"),
    ]  # fmt: skip
    assert attach_fills([perp, maker, spot, spot_maker, unfilled], None, policy) is True
    assert [o.fee for o in (perp, maker, spot, spot_maker)] == [D("0.04"), D("0.015"), D("0.07"), D("0.04")]
    assert maker.fills[0].maker and not perp.fills[0].maker and unfilled.fee is None
    assert all(o.fee_estimated for o in (perp, maker, spot, spot_maker))


def test_a_twap_report_keeps_its_slice_fills() -> None:
    rep = order("BTC", filled_size=D(1), avg_price=D(100), twap_id=3)
    rep.fills, rep.fee = [Fill(0, "BTC", "buy", D(100), D(1), D("0.045"), False)], D("0.045")
    attach_fills([rep], [], Policy())
    assert rep.fee == D("0.045") and not rep.fee_estimated


def test_parse_fill_side_and_maker() -> None:
    sell = order("BTC", "sell")
    fill = parse_fill(sell, {"oid": 1, "px": "10", "sz": "2", "fee": "0.1", "crossed": False})
    assert (fill.side, fill.maker, fill.notional, fill.fee_usd) == ("sell", True, D(20), D("0.1"))
    assert parse_fill(sell, {"oid": 1, "px": "10", "sz": "2", "fee": "0.1"}).maker is False  # unknown: taker


def test_arrival_prices_are_the_snapshots_mids() -> None:
    doc = make_snapshot({}, cash="1000", spot={"USDC": "10"}, spot_prices={"HYPE": "40"})
    prices = arrival_prices(snap_of(doc))
    assert prices["BTC"] == D("85600") and prices["ETH"] == D("3050.4")
    assert "HYPE/USDC" in prices
    no_mid = make_snapshot({}, cash="1000", prices={"ETH": None})
    assert arrival_prices(snap_of(no_mid))["ETH"] == D("3050.4")  # the mark when there is no mid


def test_a_coin_without_an_arrival_price_is_costed_from_its_first_fill() -> None:
    o = order("NEW", "buy", filled_size=D(2), avg_price=D(11))
    o.fills = [Fill(1, "NEW", "buy", D(10), D(1), D(0), False), Fill(2, "NEW", "buy", D(12), D(1), D(0), False)]
    [c] = cost_report([o], {}).coins
    assert c.arrival_price == D(10) and c.shortfall_usd == D(2) and c.filled_size == D(2) and c.fills == 2


# --------------------------------------------------------------------------- guards


def test_turnover_is_measured_against_the_starting_equity_with_what_the_run_filled() -> None:
    policy = Policy(max_turnover=D("0.75"))
    guards.check_trades([BTC, ETH], SEED, policy, equity=D(100_000), turnover_done=D(0))  # 70% passes
    with pytest.raises(GuardError, match=r"turnover 80\.0% .* max_turnover 75\.0%"):
        guards.check_trades([BTC, ETH], SEED, policy, equity=D(100_000), turnover_done=D(10_000))
    with pytest.raises(GuardError, match="turnover 140"):  # half the equity: the cap is a share of it
        guards.check_trades([BTC, ETH], SEED, policy, equity=D(50_000), turnover_done=D(0))
    exactly = D(100_000) * D("0.75") - (BTC.size * BTC.reference_price + ETH.size * ETH.reference_price)
    guards.check_trades([BTC, ETH], SEED, policy, equity=D(100_000), turnover_done=exactly)  # at the cap: ok


def test_order_value_and_oracle_guards() -> None:
    big = Policy(max_order_value=BTC.notional)
    guards.check_trades([BTC], SEED, big, equity=D(100_000), turnover_done=D(0))  # equal: allowed
    with pytest.raises(GuardError, match="exceeds max_order_value"):
        guards.check_trades([BTC], SEED, Policy(max_order_value=BTC.notional - 1), equity=D(10**6), turnover_done=D(0))
    far = BTC.model_copy(update={"reference_price": D(85600) * D("1.021")})
    with pytest.raises(GuardError, match=r"2\.10% from the oracle"):
        guards.check_price("BTC", far.reference_price, SEED, Policy())
    guards.check_price("BTC", D(85600) * D("1.02"), SEED, Policy())  # exactly at the limit
    guards.check_price("NOPE", D(1), SEED, Policy())  # no market: nothing to compare with
    below = D(85600) * D("0.979")
    with pytest.raises(GuardError):
        guards.check_price("BTC", below, SEED, Policy())


def test_materially_different() -> None:
    assert guards.materially_different(SEED_PLAN, SEED_PLAN) is None
    flipped = SEED_PLAN.model_copy(update={"trades": (BTC.model_copy(update={"side": "buy"}),)})
    assert guards.materially_different(SEED_PLAN, flipped) == "BTC now buys instead of selling"
    summary = SEED_PLAN.summary
    moved = SEED_PLAN.model_copy(
        update={"summary": summary.model_copy(update={"turnover": summary.turnover * D("1.11")})}
    )
    assert "turnover moved from 70.00%" in str(guards.materially_different(SEED_PLAN, moved))
    close = SEED_PLAN.model_copy(
        update={"summary": summary.model_copy(update={"turnover": summary.turnover * D("1.1")})}
    )
    assert guards.materially_different(SEED_PLAN, close) is None  # 10% exactly is not material
    empty = SEED_PLAN.model_copy(update={"trades": (), "summary": summary.model_copy(update={"turnover": D(0)})})
    assert guards.materially_different(empty, SEED_PLAN) == "the confirmed plan had no trades"
    assert guards.materially_different(empty, empty) is None


# --------------------------------------------------------------------------- read-back


def test_holdings_mismatches_and_expected_fills() -> None:
    doc = make_snapshot({"BTC": ("0.5", 10)}, cash="1000", spot={"USDC": "10", "HYPE": "2"})
    snap = snap_of(doc)
    held = holdings(snap)
    assert held["BTC"] == D("0.5") and held["HYPE/USDC"] == D(2)
    assert mismatches(snap, {"BTC": D("0.50001")}) == []  # one lot (szDecimals 5) is tolerated
    assert mismatches(snap, {"BTC": D("0.50002")}) == ["BTC: expected 0.50002, read 0.5"]
    assert mismatches(snap, {"HYPE/USDC": D("2.014")}) == []  # spot: a lot (0.01) and the fee's 0.2% too
    assert len(mismatches(snap, {"HYPE/USDC": D("2.015")})) == 1
    assert mismatches(snap, {"ETH": D(0)}) == [] and len(mismatches(snap, {"ETH": D(1)})) == 1
    expected: dict[str, D] = {"BTC": D("0.5")}
    sold = order("BTC", "sell", filled_size=D("0.1"), reference_price=D(100))
    bought = order("HYPE/USDC", "buy", filled_size=D(1), reference_price=D(40))
    sold_spot = order("HYPE/USDC", "sell", filled_size=D("0.5"), reference_price=D(40))
    assert expect_fills([sold, bought, sold_spot, order(filled_size=D(0))], expected) == D(10) + D(40) + D(20)
    assert expected == {"BTC": D("0.4"), "HYPE/USDC": D(1) * (1 - D("0.0007")) - D("0.5")}


def test_position_goals_are_where_each_traded_coin_ends() -> None:
    goals = position_goals(SEED_PLAN, SEED)
    assert goals == {"BTC": D("0.93458") - BTC.size, "ETH": ETH.size}


def test_verified_read_reads_once_more_then_stops(tmp_path: Path) -> None:
    from hlrebal.execution.readback import InconsistentAccount, verified_read
    from hlrebal.journal import Journal

    reads = iter([SEED, SEED, SEED])
    pauses: list[float] = []
    with Journal(tmp_path / "j", "ab" * 8) as journal:
        found = verified_read(
            lambda: next(reads), {"BTC": D("0.93458")}, journal=journal, progress=print, sleep=pauses.append
        )
        assert found is SEED
        assert pauses == []
        with pytest.raises(InconsistentAccount, match=r"expected 1, read 0\.93458"):
            verified_read(lambda: SEED, {"BTC": D(1)}, journal=journal, progress=lambda _: None, sleep=pauses.append)
    assert pauses == [0.5]
    assert [e["event"] for e in journal_entries(tmp_path / "j")] == ["inconsistent_read"]


# --------------------------------------------------------------------------- reconciliation


@pytest.mark.parametrize(
    ("status", "maybe"),
    [("filled", True), ("open", True), ("canceled", True), ("scheduledCancel", True), ("marginCanceled", True),
     ("selfTradeCanceled", True), ("triggered", True), ("iocCancelRejected", False), ("perpMarginRejected", False),
     ("rejected", False), ("", False)],
)  # fmt: skip
def test_which_statuses_may_have_filled(status: str, maybe: bool) -> None:
    assert may_have_filled(status) is maybe


def test_status_to_outcome() -> None:
    def answer(status: str, orig: str = "2", left: str = "0", **extra: Any) -> dict[str, Any]:
        inner = {"oid": 9, "origSz": orig, "sz": left, "limitPx": "10", **extra}
        return {"status": "order", "order": {"order": inner, "status": status}}

    assert status_to_outcome("c", {"status": "unknownOid"}).error == "never placed (the exchange does not know it)"
    assert status_to_outcome("c", answer("filled", left="2")) == OrderOutcome("c", "filled", D(2), D(10), 9)
    assert status_to_outcome("c", answer("canceled", left="0.5")) == OrderOutcome("c", "filled", D("1.5"), D(10), 9)
    assert status_to_outcome("c", answer("open", left="2")) == OrderOutcome("c", "resting", D(0), None, 9)
    assert status_to_outcome("c", answer("open", left="1")).avg_px == D(10)
    nothing = status_to_outcome("c", answer("canceled", left="2"))
    assert (nothing.status, nothing.error) == ("error", "order canceled, nothing filled")
    rejected = status_to_outcome("c", answer("perpMarginRejected"))
    assert (rejected.status, rejected.filled_size, rejected.error) == ("error", D(0), "order perpMarginRejected")
    fills = {9: (D(2), D(21))}
    assert status_to_outcome("c", answer("filled"), fills).avg_px == D("10.5")
    assert status_to_outcome("c", answer("canceled", left="2"), {}).status == "error"
    assert status_to_outcome("c", answer("filled", avgPx="11")).avg_px == D(11)
    bad = status_to_outcome("c", answer("canceled", orig="x"))
    assert bad.status == "error"
    assert status_to_outcome("c", {"status": "order", "order": {"order": {}, "status": ""}}).error == "order rejected"


# --------------------------------------------------------------------------- scope


def test_scope_restricts_to_approved_coins_sides_and_sizes() -> None:
    scope = Scope.of(SEED_PLAN.model_copy(update={"trades": (BTC,)}))
    assert scope.coins == frozenset({"BTC"}) and scope.left("BTC", {}) == BTC.size
    assert scope.restrict(SEED_PLAN, {}).trades == (BTC,)
    other_side = SEED_PLAN.model_copy(update={"trades": (BTC.model_copy(update={"side": "buy"}),)})
    assert scope.restrict(other_side, {}).trades == ()
    tiny = scope.restrict(SEED_PLAN, {"BTC": BTC.size - D("0.0001")})  # $8.56 left: under the minimum
    assert tiny.trades == ()
    assert scope.left("BTC", {"BTC": BTC.size * 2}) == 0
    flip = SEED_PLAN.model_copy(update={"trades": (BTC, BTC.model_copy(update={"phase": 2}))})
    assert Scope.of(flip).left("BTC", {}) == 2 * BTC.size
    mixed = SEED_PLAN.model_copy(update={"trades": (BTC, BTC.model_copy(update={"side": "buy"}))})
    assert Scope.of(mixed).allowance["BTC"] == ("sell", BTC.size)
    assert filled_by_coin([order("BTC", filled_size=D(1)), order("BTC", filled_size=D(2)), order("ETH")]) == {
        "BTC": D(3), "ETH": D(0),
    }  # fmt: skip


# --------------------------------------------------------------------------- preparation


def test_refused_dust_is_dropped_only_at_the_refused_size() -> None:
    dust = ETH.model_copy(update={"dust": True, "size": D("0.001")})
    p = SEED_PLAN.model_copy(update={"trades": (BTC, dust)})
    warnings: list[str] = []
    assert drop_refused_dust(p, {}, warnings) is p
    assert drop_refused_dust(p, {"ETH": "0.002"}, warnings).trades == (BTC, dust)
    kept = drop_refused_dust(p, {"ETH": "0.0010"}, warnings)  # compared as numbers, not as text
    assert kept.trades == (BTC,) and len(warnings) == 1 and "not retried" in warnings[0]
    drop_refused_dust(p, {"ETH": "0.001"}, warnings)
    assert len(warnings) == 1  # said once
    not_dust = p.model_copy(update={"trades": (BTC, dust.model_copy(update={"dust": False}))})
    assert len(drop_refused_dust(not_dust, {"ETH": "0.001"}, []).trades) == 2


def test_phase1_done_as_planned() -> None:
    full = [order("BTC", "sell", size=BTC.size, filled_size=BTC.size)]
    assert phase1_done_as_planned(SEED_PLAN, full, SEED)
    assert not phase1_done_as_planned(SEED_PLAN, [order("BTC", size=BTC.size, filled_size=BTC.size - 1)], SEED)
    assert not phase1_done_as_planned(SEED_PLAN, [], SEED)
    s = SEED_PLAN.summary
    tight = SEED_PLAN.model_copy(update={"summary": s.model_copy(update={"margin_required": s.margin_available})})
    assert not phase1_done_as_planned(tight, full, SEED)
    edge = s.model_copy(update={"margin_required": s.margin_available * D("0.9")})
    assert phase1_done_as_planned(SEED_PLAN.model_copy(update={"summary": edge}), full, SEED)
    scaled = SEED_PLAN.model_copy(update={"summary": s.model_copy(update={"margin_scaled": True})})
    assert not phase1_done_as_planned(scaled, full, SEED)
    spot = SEED_PLAN.model_copy(update={"trades": (BTC, ETH.model_copy(update={"kind": "spot"}))})
    assert not phase1_done_as_planned(spot, full, SEED)
    dex = SEED_PLAN.model_copy(update={"trades": (BTC, ETH.model_copy(update={"coin": "xyz:ETH"}))})
    assert not phase1_done_as_planned(dex, full, SEED)


def _emptied(status: str, skips: tuple[Skip, ...] = ()) -> Any:
    """SEED_PLAN without trades, every asset line given ``status`` (what a read-back plan shows)."""
    lines = tuple(a if a.kind == "cash" else a.model_copy(update={"status": status}) for a in SEED_PLAN.assets)
    return SEED_PLAN.model_copy(update={"trades": (), "assets": lines, "skipped": skips})


def test_conclude_says_at_its_targets_only_when_it_is() -> None:
    cases = [
        ("flat", (), "the account is at its targets"),
        ("within_band", (), "the account is within its bands"),
        (
            "skipped",
            (Skip(coin="BTC", code="below_minimum", reason="x"),),
            "what is left to trade is below the minimum trade value ($10.00)",
        ),
        (
            "skipped",
            (Skip(coin="BTC", code="below_lot", reason="x"),),
            "what is left to trade is smaller than one lot",
        ),
    ]
    for status, skips, said in cases:
        done = ExecutionReport(run_id="a", final_plan=_emptied(status, skips), orders=[order(filled_size=D(1))])
        conclude(done)
        assert (done.exit_code, done.outcome, done.message) == (ExitCode.OK, "done", said)
        idle = ExecutionReport(run_id="a", final_plan=_emptied(status, skips))
        conclude(idle)
        assert idle.message == "nothing to do: " + said


def test_conclude() -> None:
    done = ExecutionReport(run_id="a", final_plan=None)
    conclude(done)
    assert (done.exit_code, done.outcome, done.message) == (ExitCode.OK, "done", "nothing to do")
    done.orders = [order(filled_size=D(1))]
    conclude(done)
    assert done.message == "the orders are done (the account was not read back)"
    left = ExecutionReport(run_id="b", final_plan=SEED_PLAN, orders=[order(filled_size=D(1))])
    left.rounds = [object(), object()]  # type: ignore[list-item]
    conclude(left)
    assert (left.exit_code, left.outcome) == (ExitCode.PARTIAL, "partial")
    assert left.message == f"trades remain after 2 round(s): BTC sell {BTC.size}, ETH buy {ETH.size}"
    nothing = ExecutionReport(run_id="c", final_plan=SEED_PLAN, orders=[order()])
    conclude(nothing)
    assert nothing.message.startswith("orders were sent and nothing filled; remaining: BTC sell")
    assert trade_doc(BTC)["action"] == "reduce" and trade_doc(BTC)["size"] == BTC.size


# --------------------------------------------------------------------------- maker helpers


def test_touch_and_quote_prices() -> None:
    book = {"levels": [[{"px": "99", "sz": "1"}], [{"px": "101", "sz": "1"}]]}
    assert touch_of(book) == Touch(D(99), D(101)) and Touch(D(99), D(101)).mid == D(100)
    assert touch_of({"levels": [[], [{"px": "1", "sz": "1"}]]}) == Touch(None, D(1))
    assert touch_of({}) == Touch(None, None) and Touch(None, D(1)).mid is None
    market = SEED.assets["ETH"]
    buy = ETH  # reference 3050.4, ticks of 0.1
    assert quote_price(buy, market, Touch(D("3050.1"), D("3050.7")), D("0.02")) == D("3050.2")  # one tick in
    assert quote_price(buy, market, Touch(D("3050.1"), D("3050.2")), D("0.02")) == D("3050.1")  # no room: join
    assert quote_price(buy, market, Touch(D(3200), D(3201)), D("0.02")) == D("3111.4")  # capped at +2%
    assert quote_price(buy, market, Touch(None, D(3000)), D("0.02")) is None
    sell = BTC  # reference 85600, ticks of 1
    btc = SEED.assets["BTC"]
    assert quote_price(sell, btc, Touch(D(85591), D(85609)), D("0.02")) == D(85608)
    assert quote_price(sell, btc, Touch(D(85608), D(85609)), D("0.02")) == D(85609)
    assert quote_price(sell, btc, Touch(D(80000), D(80001)), D("0.02")) == D(83888)  # capped at -2%
    assert quote_price(sell, btc, Touch(D(1), None), D("0.02")) is None


def test_an_order_the_touch_left() -> None:
    bid = order(side="buy", limit_price=D(100))
    ask = order(side="sell", limit_price=D(100))
    assert left_behind(bid, Touch(D("100.1"), D(101))) and not left_behind(bid, Touch(D(100), D(101)))
    assert not left_behind(bid, Touch(D("99.9"), D(101))) and not left_behind(bid, Touch(None, D(101)))
    assert left_behind(ask, Touch(D(99), D("99.9"))) and not left_behind(ask, Touch(D(99), D(100)))
    assert not left_behind(ask, Touch(D(99), None))
    assert improves(bid, D("100.1")) and not improves(bid, D(100))
    assert improves(ask, D("99.9")) and not improves(ask, D(100))


# --------------------------------------------------------------------------- twap helpers


def test_which_legs_the_exchange_twaps() -> None:
    btc = SEED.assets["BTC"]
    assert twap_able(BTC, btc, 30)
    small = BTC.model_copy(update={"size": D("0.00116")})  # $99.30: under the $100 floor
    assert not twap_able(small, btc, 5)
    assert twap_able(BTC.model_copy(update={"size": D("0.00117")}), btc, 5)  # $100.15
    per_minute = BTC.model_copy(update={"size": D("0.0035")})  # $299.60: under $10 a minute for 30
    assert not twap_able(per_minute, btc, 30) and twap_able(per_minute, btc, 29)
    assert not twap_able(BTC.model_copy(update={"dust": True}), btc, 30)
    assert not twap_able(BTC, btc.model_copy(update={"dex": "xyz"}), 30)
    assert not twap_able(BTC, btc.model_copy(update={"kind": "spot"}), 30)


def test_visible_depth_and_slice_sizes() -> None:
    bids = [{"px": "99", "sz": "1"}, {"px": "98", "sz": "2"}]
    book = {"levels": [bids, [{"px": "101", "sz": "3"}, {"px": "102", "sz": "4"}]]}
    assert visible_depth(book, True, D(101)) == D(3) and visible_depth(book, True, D(102)) == D(7)
    assert visible_depth(book, False, D(99)) == D(1) and visible_depth(book, False, D(97)) == D(3)
    assert visible_depth(book, True, D(100)) == D(0) and visible_depth({}, True, D(1)) == D(0)
    leg = _OwnLeg(ETH.model_copy(update={"size": D(10)}), SEED.assets["ETH"], slices=10)
    assert slice_size(leg, D(100), D("0.25"), D(3000)) == D(1)  # on schedule
    assert slice_size(leg, D(2), D("0.25"), D(3000)) == D("0.5")  # at most a quarter of the depth
    assert slice_size(leg, D(100), D(1), D(1)) == D(10)  # under $10 at this price: the minimum, all of it
    leg.done = 4
    assert slice_size(leg, D(100), D("0.25"), D(3000)) == D(3)  # catching up: at most 3 normal slices
    tiny = _OwnLeg(ETH.model_copy(update={"size": D("0.002")}), SEED.assets["ETH"], slices=10)
    assert slice_size(tiny, D(100), D(1), D(3000)) == D(0)  # $6 left: not a valid order
    dust = _OwnLeg(ETH.model_copy(update={"size": D("0.002"), "dust": True}), SEED.assets["ETH"], slices=10)
    assert slice_size(dust, D(100), D(1), D(3000)) == D("0.002")  # a dust close goes whole


def test_twap_history_and_slice_fills() -> None:
    state = {"coin": "BTC", "side": "A", "sz": "0.5"}
    history = [
        {"twapId": 1, "status": {"status": "activated"}, "state": {**state, "timestamp": 1000}},
        {"twapId": 2, "status": {"status": "activated"}, "state": {**state, "timestamp": 9000}},
        {"twapId": 1, "status": {"status": "finished"}, "state": {}},
        {"twapId": "x", "status": {"status": "activated"}},
    ]  # fmt: skip
    assert twap_states(history) == {1: "finished", 2: "activated"}
    assert find_twap(history, "BTC", "sell", D("0.5"), 8000) == 2
    assert find_twap(history, "BTC", "sell", D("0.5"), 5000) == 1  # 5 s of clock skew allowed
    assert find_twap(history, "BTC", "buy", D("0.5"), 0) is None
    assert find_twap(history, "ETH", "sell", D("0.5"), 0) is None
    assert find_twap(history, "BTC", "sell", D("0.4"), 0) is None
    assert find_twap(history, "BTC", "sell", D("0.5"), 20_000) is None
    rep = order("BTC", "sell", size=D(1), twap_id=2)
    fills = [
        {"twapId": 2, "fill": {"px": "100", "sz": "0.3", "fee": "0.01", "crossed": True, "oid": 5}},
        {"twapId": 1, "fill": {"px": "1", "sz": "9", "fee": "9"}},
        {"twapId": 2, "fill": {"px": "110", "sz": "0.1", "fee": "0.02", "crossed": True}},
    ]
    apply_slice_fills(rep, fills)
    assert rep.filled_size == D("0.4") and rep.avg_price == D("102.5") and rep.fee == D("0.03")
    assert [f.price for f in rep.fills] == [D(110), D(100)]  # oldest first
    untouched = order("BTC", twap_id=3)
    apply_slice_fills(untouched, fills)
    assert untouched.filled_size == 0 and untouched.fills == []


# --------------------------------------------------------------------------- preflight


def test_the_preflight_estimate_and_refusal() -> None:
    maker = ExecutionSettings(style="maker", patience=D(120), requote_seconds=D(5))
    est = preflight.estimate(SEED_PLAN, Policy(), maker)
    # 24 requotes of (cancel + replace) x 2 orders, 2 first orders + a switch per phase, a clear,
    # and 3 taker rounds of 2 orders
    assert (est.requotes, est.per_requote, est.fixed, est.total) == (24, 4, 3 + 3 + 1 + 6, 13 + 96)
    twap = preflight.estimate(SEED_PLAN, Policy(leverage=3), ExecutionSettings(style="twap", twap_minutes=5))
    assert twap.total == 2 * 10 + 6 + 1
    assert preflight.remaining({"nRequestsCap": 10_000, "nRequestsUsed": 9_000}) == 1000
    assert preflight.remaining({"nRequestsCap": "100", "nRequestsUsed": "90", "nRequestsSurplus": 5}) == 15
    ok = preflight.check(SEED_PLAN, Policy(), maker, {"nRequestsCap": 10_000, "nRequestsUsed": 10_000 - 109})
    assert ok.total == 109
    with pytest.raises(GuardError) as e:
        preflight.check(SEED_PLAN, Policy(), maker, {"nRequestsCap": 10_000, "nRequestsUsed": 9_950})
    assert (
        "up to 109 requests against the address budget, which has 50 left (userRateLimit: 9950 used of 10000)"
        in e.value.message
    )
    assert "9 requotes a phase would fit: raise --requote-seconds to 14 or more" in e.value.message
    with pytest.raises(GuardError, match="no requote fits"):
        preflight.check(SEED_PLAN, Policy(), maker, {"nRequestsCap": 10_000, "nRequestsUsed": 10_000 - 15})
    with pytest.raises(GuardError, match="even without requotes it does not fit"):
        preflight.check(SEED_PLAN, Policy(), maker, {"nRequestsCap": 10_000, "nRequestsUsed": 10_000 - 5})
    with pytest.raises(GuardError, match="has 0 left"):
        preflight.check(SEED_PLAN, Policy(), maker, {"nRequestsCap": 10, "nRequestsUsed": 20})


# --------------------------------------------------------------------------- whole runs, no HTTP


def test_a_taker_run_without_http_reads_and_sends_what_it_should(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    report, _, journal = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client)
    assert report.outcome == "done" and report.exit_code == 0
    assert client.seen == {
        "info.clearinghouseState": 2, "info.metaAndAssetCtxs": 1, "info.spotClearinghouseState": 1,
        "info.openOrders": 1, "exchange.order": 2, "info.allMids": 1, "info.userFills": 1,
    }  # fmt: skip
    # what the executor itself spent: two order requests, the mids, the read-back, the fills
    assert report.request_weight == 1 + 2 + 1 + 2 + 20 and report.request_actions == 2
    events = [e["event"] for e in journal_entries(journal)]
    assert events == ["run_start", "plan", "order_sent", "order_result", "order_sent", "order_result", "round"]
    assert unresolved(journal) == []


def test_a_maker_run_without_http(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    clock = [1_000_000.0]

    def sleep(seconds: float) -> None:  # the sim's prices move while hlrebal waits
        clock[0] += seconds
        if clock[0] > 1_000_000.5 and sim.engine.open_orders:
            order_ = next(iter(sim.engine.open_orders.values()))
            sim.set_price(order_.coin, "85700" if order_.coin == "BTC" else "3040")

    import time

    start = time.time()
    report, _, journal = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, settings=maker_settings(),
        clock=lambda: start + clock[0] - 1_000_000.0, sleep=sleep,
    )  # fmt: skip
    assert report.outcome == "done", report.message
    assert [(o.coin, o.tif, o.status) for o in report.orders] == [("BTC", "Alo", "filled"), ("ETH", "Alo", "filled")]
    assert client.seen["exchange.scheduleCancel"] == 3 and report.costs.maker_share == 1
    assert unresolved(journal) == [] and sim.handle("info", {"type": "openOrders", "user": USER})[1] == []


def test_rounds_widen_the_slippage_up_to_the_cap_and_stop_when_nothing_fills(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    sim.set_book("ETH", spread=0.05)  # the best ask is 2.5% above the mid: no round reaches it
    policy = Policy(
        max_rounds=5, slippage=D("0.005"), slippage_step=D("0.01"), max_slippage=D("0.012"), max_turnover=D(3)
    )
    report, _, _ = run_library(sim, tmp_path, {"ETH": 0.3}, client=direct(sim), policy=policy)
    # round 1 closes the untargeted BTC (and misses ETH); round 2 is capped at max_slippage, fills
    # nothing, and the run stops there instead of trying five times
    assert [r.slippage for r in report.rounds] == [D("0.005"), D("0.012")]
    assert report.rounds[1].note == "nothing filled: stopping. " and report.rounds[0].note == ""
    assert report.outcome == "partial"


def test_json_of_a_report_from_a_direct_run_round_trips(tmp_path: Path) -> None:
    from hlrebal.render import execution_json

    sim = Simulator(snapshot=btc_80())
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=direct(sim))
    doc = json.loads(json.dumps(execution_json(report)))
    assert doc["costs"]["coins"][0]["arrival_price"] == "85600" and doc["requests"]["exchange"] == 2
