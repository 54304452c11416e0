"""Table-driven planner cases on real account shapes."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from hlrebal.errors import ExitCode
from hlrebal.market import is_valid_price, is_valid_size
from hlrebal.planner import Action, EmptyAccountError, Plan, plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from factories import add_dex, btc_80_20, make_snapshot


def run(doc: dict, weights: dict, **policy: object) -> Plan:
    return plan(Snapshot.from_raw(doc), weights_from_mapping(weights), Policy(**policy))


def by_coin(p: Plan) -> dict[str, list]:
    out: dict[str, list] = {}
    for t in p.trades:
        out.setdefault(t.coin, []).append(t)
    return out


def line(p: Plan, coin: str):
    return next(a for a in p.assets if a.coin == coin)


def assert_exchange_valid(p: Plan, doc: dict) -> None:
    snap = Snapshot.from_raw(doc)
    for t in p.trades:
        assert is_valid_size(t.size, t.sz_decimals), t
        assert is_valid_price(t.limit_price, t.sz_decimals), t
        if t.reduce_only:
            pos = snap.positions[t.coin]
            assert t.size <= abs(pos.szi)
            assert (t.side == "sell") == (pos.szi > 0)


def test_seed_example_80_btc_to_40_30_30() -> None:
    doc = btc_80_20()
    p = run(doc, {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30})
    assert [(t.phase, t.coin, t.action, t.side) for t in p.trades] == [
        (1, "BTC", Action.REDUCE, "sell"),
        (2, "ETH", Action.OPEN, "buy"),
    ]
    btc, eth = p.trades
    assert btc.reduce_only and not eth.reduce_only
    # 40% of $100,000 at 85,600 is 0.467289.. BTC: keep 0.46729 (nearest lot), sell the rest exactly.
    assert btc.size == D("0.93458") - D("0.46729")
    # 30% of $100,000 at 3,050.4 is 9.83478 ETH -> nearest lot 9.8348
    assert eth.size == D("9.8348")
    # limits: reference x (1 -/+ 0.5%) rounded toward the reference onto the grid
    assert btc.limit_price == D("85172") and eth.limit_price == D("3065.6")
    assert abs(line(p, "BTC").projected_weight - D("0.4")) < D("0.00001")
    assert abs(line(p, "ETH").projected_weight - D("0.3")) < D("0.00001")
    assert abs(line(p, "USDC").projected_weight - D("0.3")) < D("0.00002")
    assert p.summary.turnover == pytest.approx(D("0.7"), abs=D("0.0001"))
    # fees at 0.045%: a buy's at its limit (its worst fill), a sell's at the reference (a sell
    # fills at or above its limit)
    assert p.summary.estimated_fees == (btc.size * D(85600) + eth.size * D("3065.6")) * D("0.00045")
    assert not p.summary.margin_scaled
    assert_exchange_valid(p, doc)


def test_risk_off_closes_everything_exactly_and_reduce_only() -> None:
    doc = make_snapshot({"BTC": ("0.5", 10), "ETH": ("-4.2", 5), "DOGE": ("-25000", 10), "kPEPE": ("1000000", 3)})
    p = run(doc, {"USDC": 1})
    assert {t.coin for t in p.trades} == {"BTC", "ETH", "DOGE", "kPEPE"}
    for t in p.trades:
        assert t.phase == 1 and t.reduce_only and t.action == Action.CLOSE
    sizes = {t.coin: (t.side, t.size) for t in p.trades}
    assert sizes == {
        "BTC": ("sell", D("0.5")),
        "ETH": ("buy", D("4.2")),
        "DOGE": ("buy", D("25000")),
        "kPEPE": ("sell", D("1000000")),
    }
    # largest notional first
    notionals = [t.notional for t in p.trades]
    assert notionals == sorted(notionals, reverse=True)
    assert p.summary.gross_after == 0
    assert line(p, "USDC").projected_weight == 1


@pytest.mark.parametrize(
    ("current", "band", "trades"),
    [
        ("100", "0.05", False),  # drift 0.00: nothing
        ("540", "0.05", False),  # drift 0.04 < band
        ("550", "0.05", False),  # drift exactly 0.05: not strictly beyond the band
        ("551", "0.05", True),  # drift 0.051 > band
        ("449", "0.05", True),  # drift -0.051
        ("520", "0.01", True),  # tighter band
    ],
)
def test_band_is_strict_and_per_asset(current: str, band: str, trades: bool) -> None:
    # One asset at price 100 with 2 decimals: weights are exact. Equity is $100,000; target 50%.
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    size = D(current)
    doc = make_snapshot({"AAA": str(size)}, cash=str(D(100000) - size * 100), market=market)
    p = run(doc, {"AAA": D(current) / 1000 if current == "100" else 0.5}, band=band)
    assert bool(p.trades) is trades
    if not trades:
        skip = next(s for s in p.skipped if s.coin == "AAA")
        assert skip.code == "within_band" and "within band" in skip.reason


def test_band_relative_tightens_small_targets() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    # AAA target 10% held at 13%: drift 0.03 < band 0.05, but > 0.2 x 0.10 = 0.02
    doc = make_snapshot({"AAA": "130", "BBB": "500"}, cash="37000", market=market)
    weights = {"AAA": 0.10, "BBB": 0.50}
    assert "AAA" not in by_coin(run(doc, weights, band_relative=None))
    p = run(doc, weights, band_relative="0.2")
    assert by_coin(p)["AAA"][0].size == D("30")
    # the big target keeps the absolute band (min of the two)
    assert line(p, "AAA").threshold == D("0.02") and line(p, "BBB").threshold == D("0.05")


def test_the_default_band_is_the_5_25_rule_so_small_targets_trade() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    doc = make_snapshot({"BBB": "500"}, cash="50000", market=market)
    # A 2% target from nothing: drift 0.02 is inside the absolute 5% band, beyond 25% of 2% (0.005).
    p = run(doc, {"AAA": 0.02, "BBB": 0.50})
    assert line(p, "AAA").threshold == D("0.005") and by_coin(p)["AAA"][0].size == D("20")
    assert line(p, "BBB").threshold == D("0.05")  # a large target keeps the absolute band
    assert "AAA" not in by_coin(run(doc, {"AAA": 0.02, "BBB": 0.50}, band_relative=None))


def test_flip_long_to_short_is_a_reduce_only_close_then_an_open() -> None:
    doc = make_snapshot({"BTC": ("0.58411", 10)}, cash="50000")  # about +0.5 of equity
    p = run(doc, {"BTC": -0.3}, max_leverage=1)
    close, open_ = p.trades
    assert (close.phase, close.action, close.side, close.reduce_only) == (1, Action.FLIP_CLOSE, "sell", True)
    assert close.size == D("0.58411")
    assert (open_.phase, open_.action, open_.side, open_.reduce_only) == (2, Action.FLIP_OPEN, "sell", False)
    equity = Snapshot.from_raw(doc).equity
    assert abs(open_.size * D(85600) / equity - D("0.3")) < D("0.00001")
    assert line(p, "BTC").projected_weight == pytest.approx(D("-0.3"), abs=D("0.00001"))
    assert_exchange_valid(p, doc)


def test_dust_position_is_closed_whole_and_marked() -> None:
    # an untargeted ATOM position worth $4.68: below the $10 minimum, closed whole anyway
    doc = make_snapshot({"ATOM": ("-1.5", 20), "BTC": ("0.5", 20)}, cash="10000")
    p = run(doc, {"BTC": 0.8}, max_leverage=1)
    atom = by_coin(p)["ATOM"][0]
    assert atom.dust and atom.reduce_only and atom.action == Action.CLOSE
    assert atom.size == D("1.5") and atom.side == "buy"
    assert atom.notional < 10


def test_sub_minimum_increase_is_skipped_with_reason() -> None:
    doc = make_snapshot({}, cash="40")  # $40 account
    p = run(doc, {"ETH": 0.2})  # $8 of ETH: below the $10 minimum
    assert not p.trades
    skip = next(s for s in p.skipped if s.coin == "ETH")
    assert skip.code == "below_minimum" and "$10.00" in skip.reason


def test_min_trade_value_is_policy_not_just_the_exchange_minimum() -> None:
    doc = make_snapshot({}, cash="1000")
    assert run(doc, {"SOL": 0.06}).trades  # $60
    p = run(doc, {"SOL": 0.06}, min_trade_value=100)
    assert not p.trades and p.skipped[0].code == "below_minimum"


def test_reduction_leaving_a_sub_minimum_remainder_becomes_a_whole_close() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    # $1,000 account with $600 of AAA; target 0.5% = $5 left over: close it all instead
    doc = make_snapshot({"AAA": "6"}, cash="400", market=market)
    p = run(doc, {"AAA": 0.005})
    (t,) = p.trades
    assert t.action == Action.CLOSE and t.size == D("6") and t.reduce_only


def test_margin_scaling_when_phase_2_does_not_fit() -> None:
    # $10,000 equity; BTC at 1x uses ~$9,000 of margin; opening $5,000 of ETH at 1x does not fit.
    doc = make_snapshot({"BTC": ("0.10514", 1)}, cash="1000")
    snap = Snapshot.from_raw(doc)
    p = run(doc, {"BTC": 0.9, "ETH": 0.5}, max_leverage=2)
    assert p.summary.margin_scaled and p.summary.scale_factor < D("0.25")
    (eth,) = p.trades
    assert eth.coin == "ETH" and eth.phase == 2
    assert eth.notional / eth.leverage <= p.summary.margin_available
    assert any("scaled" in w for w in p.warnings)
    # at 5x, $3,000 of ETH needs $600 of margin: it fits
    p5 = run(doc, {"BTC": 0.9, "ETH": 0.3}, max_leverage=2, leverage=5)
    assert not p5.summary.margin_scaled
    assert abs(by_coin(p5)["ETH"][0].size * D("3050.4") / snap.equity - D("0.3")) < D("0.0001")


def test_short_opens_are_margined_at_the_mark_not_at_their_lower_limit() -> None:
    # $1,000 to be shorted at 1x. The exchange margins a position at size x mark / leverage; a
    # sell's limit lies below the mark (by the slippage), so margin counted at the limit would
    # overcommit the account and the last order would be refused for insufficient margin.
    market = [("AAA", 0, 10, "1"), ("BBB", 0, 10, "1")]
    doc = make_snapshot({}, cash="1000", market=market)
    p = run(doc, {"AAA": -0.5, "BBB": -0.5}, slippage="0.01")
    assert [(t.coin, t.side, t.leverage) for t in p.trades] == [("AAA", "sell", 1), ("BBB", "sell", 1)]
    margin_at_mark = sum(t.size * D(1) / t.leverage for t in p.trades)
    fees = sum(t.size * D(1) * D("0.00045") for t in p.trades)
    assert margin_at_mark + fees <= D(1000)
    assert p.summary.margin_scaled and p.summary.margin_required == margin_at_mark
    assert [t.size for t in p.trades] == [D(499), D(499)]


def test_a_higher_leverage_frees_no_margin_of_an_isolated_position() -> None:
    # SOL is isolated at 2x: $2,000 of the $5,000 account sits in it, and setting 10x on it before
    # the increase releases none of that. Only the $3,000 left can margin the increase.
    doc = make_snapshot({"SOL": ("28.06", 2, False)}, cash="1000")
    p = run(doc, {"SOL": D("8.4")}, leverage=10, max_leverage=9)
    (sol,) = p.trades
    assert (sol.action, sol.leverage, sol.is_cross) == (Action.INCREASE, 10, False)
    assert p.summary.margin_scaled
    locked = D("28.06") * D("142.53") / 2
    assert sol.size * D("142.53") / 10 <= Snapshot.from_raw(doc).equity - locked


def test_a_leverage_that_is_never_set_frees_no_margin() -> None:
    # BTC is held at 1x: $9,000 of margin. Its small increase would have it set to the policy's
    # 10x, but scaled to the margin the increase falls below the minimum and is dropped: BTC keeps
    # 1x and its $9,000, and ETH gets only what is left.
    doc = make_snapshot({"BTC": ("0.10514", 1)}, cash="1000")
    equity = Snapshot.from_raw(doc).equity
    p = run(doc, {"BTC": D("0.10532") * D(85600) / equity, "ETH": 18}, leverage=10, max_leverage=20, band=0)
    assert [t.coin for t in p.trades] == ["ETH"]
    assert any(s.coin == "BTC" and s.code == "scaled_below_minimum" for s in p.skipped)
    (eth,) = p.trades
    assert eth.size * D("3050.4") / 10 <= equity - D("0.10514") * D(85600)


def test_phase_1_frees_the_margin_phase_2_uses() -> None:
    # Everything in BTC at 2x: half the equity is margin until BTC is sold, and then ETH (margined at
    # 1x, as a new position) fits.
    doc = make_snapshot({"BTC": ("1.16822", 2)}, cash="0.3")
    p = run(doc, {"BTC": 0.5, "ETH": 0.5})
    assert not p.summary.margin_scaled
    assert [t.phase for t in p.trades] == [1, 2]


def test_edge_mode_trades_only_back_to_the_band_edge() -> None:
    doc = btc_80_20()
    p = run(doc, {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}, trade_to="edge")
    btc = line(p, "BTC")
    eth = line(p, "ETH")
    # projected weights land inside the band, at its edge nearest the current weight
    assert D("0.40") < btc.projected_weight <= D("0.45")
    assert btc.projected_weight > D("0.449")
    assert D("0.25") <= eth.projected_weight < D("0.30")
    assert eth.projected_weight < D("0.2501")
    full = run(doc, {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30})
    assert p.summary.turnover < full.summary.turnover


def test_untargeted_positions_close_or_keep() -> None:
    doc = make_snapshot({"BTC": ("0.5", 10), "SOL": ("50", 10)}, cash="50000")
    closed = run(doc, {"BTC": 0.4})
    assert by_coin(closed)["SOL"][0].action == Action.CLOSE
    kept = run(doc, {"BTC": 0.4}, untargeted="keep")
    assert "SOL" not in by_coin(kept)
    assert any(s.coin == "SOL" and s.code == "untargeted_kept" for s in kept.skipped)
    assert line(kept, "SOL").target_weight is None


def test_asset_without_a_usable_price_is_skipped_with_reason() -> None:
    doc = make_snapshot({}, cash="10000", prices={"SOL": None})
    doc["metaAndAssetCtxs"][1][2]["markPx"] = None  # SOL: neither mid nor mark
    p = run(doc, {"SOL": 0.5, "ETH": 0.3})
    assert [t.coin for t in p.trades] == ["ETH"]
    assert any(s.coin == "SOL" and s.code == "no_price" for s in p.skipped)


def test_mid_missing_falls_back_to_mark() -> None:
    doc = make_snapshot({}, cash="10000", prices={"SOL": None})
    p = run(doc, {"SOL": 0.5})
    assert p.trades[0].reference_price == D("142.53")


def test_only_isolated_assets_open_isolated_and_leverage_is_capped() -> None:
    doc = make_snapshot({}, cash="10000", extra_meta={"ATOM": {"onlyIsolated": True}})
    p = run(doc, {"ATOM": 0.2, "ETH": 0.2}, leverage=10)
    trades = by_coin(p)
    assert trades["ATOM"][0].is_cross is False and trades["ATOM"][0].leverage == 5  # ATOM max 5x
    assert trades["ETH"][0].is_cross is True and trades["ETH"][0].leverage == 10


def test_isolated_position_keeps_its_margin_mode() -> None:
    doc = make_snapshot({"SOL": ("10", 3, False)}, cash="10000")
    p = run(doc, {"SOL": 0.5})
    sol = p.trades[0]
    assert sol.action == Action.INCREASE and sol.is_cross is False and sol.leverage == 3


def test_open_orders_are_warned_about() -> None:
    orders = [{"coin": "ETH", "limitPx": "2900.0", "oid": 7, "side": "B", "sz": "1.0", "timestamp": 1}]
    p = run(make_snapshot({}, cash="10000", open_orders=orders), {"ETH": 0.5})
    assert any("open order" in w and "ETH" in w for w in p.warnings)


def test_phase_order_largest_notional_first_ties_by_coin() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100"), ("CCC", 2, 10, "100"), ("DDD", 2, 10, "100")]
    doc = make_snapshot({"AAA": "100", "BBB": "200", "CCC": "100"}, cash="60000", market=market)
    p = run(doc, {"DDD": 0.2, "AAA": 0.2, "USDC": 0.6})
    assert [(t.phase, t.coin) for t in p.trades] == [(1, "BBB"), (1, "CCC"), (2, "DDD"), (2, "AAA")]


def test_equal_notional_ties_break_by_coin_name() -> None:
    market = [("ZZZ", 2, 10, "100"), ("AAA", 2, 10, "100")]
    doc = make_snapshot({"ZZZ": "100", "AAA": "100"}, cash="98000", market=market)
    p = run(doc, {"USDC": 1})
    assert [t.coin for t in p.trades] == ["AAA", "ZZZ"]


def test_real_shaped_levered_account_risk_off() -> None:
    # 12 positions at 20x cross, shorts among them, one worth under $5, gross about 2.9x
    positions = {
        "BTC": ("-0.00785", 20),
        "ETH": ("0.1334", 20),
        "ATOM": ("-1.5", 20),
        "SOL": ("7.39", 20),
        "DOGE": ("4000", 20),
        "XRP": ("-200", 20),
        "HYPE": ("12.5", 20),
        "kPEPE": ("90000", 20),
    }
    doc = make_snapshot(positions, cash="600")
    snap = Snapshot.from_raw(doc)
    p = run(doc, {"USDC": 1})
    assert len(p.trades) == len(positions)
    assert all(t.reduce_only and t.phase == 1 for t in p.trades)
    assert [t.coin for t in p.trades if t.dust] == ["ATOM"]
    assert p.summary.gross_before > 1
    assert_exchange_valid(p, doc)
    assert snap.equity > 0


def test_gross_exposure_is_capped_at_max_leverage() -> None:
    # BTC +0.54 and ETH +0.54 sit inside their bands (targets 0.5 each); adding SOL would push gross
    # to 1.18 > 1.0: SOL is scaled to what fits.
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100"), ("CCC", 2, 10, "100")]
    doc = make_snapshot({"AAA": "540", "BBB": "400"}, cash="6000", market=market)
    p = run(doc, {"AAA": 0.5, "BBB": 0.4, "CCC": 0.1})
    assert p.summary.gross_capped
    assert p.summary.gross_after <= 1


def test_empty_account_is_a_clear_error() -> None:
    doc = make_snapshot({}, cash="0")
    with pytest.raises(EmptyAccountError) as e:
        run(doc, {"BTC": 0.5})
    assert e.value.exit_code == ExitCode.BAD_INPUT
    assert "API wallet" in str(e.value)


def test_goals_finish_what_the_first_round_started() -> None:
    # BTC is 0.2% off its goal: inside the band, but a pinned goal still trades it.
    doc = make_snapshot({"BTC": ("0.4653", 10)}, cash="60170.12")
    snap = Snapshot.from_raw(doc)
    targets = weights_from_mapping({"BTC": 0.4})
    assert not plan(snap, targets, Policy()).trades
    goal = D("0.46729")  # 40% of $100,000 at 85,600, on the lot grid
    pinned = plan(snap, targets, Policy(), goals={"BTC": goal})
    (t,) = pinned.trades
    assert t.side == "buy" and t.size == goal - D("0.4653")


def test_plan_is_deterministic() -> None:
    doc = make_snapshot({"BTC": ("0.5", 10), "ETH": ("-3", 5), "ATOM": ("-2", 5)}, cash="60000")
    weights = {"ETH": 0.2, "SOL": -0.1, "DOGE": 0.05, "BTC": 0.3}
    a = run(doc, weights)
    b = run(doc, weights)
    assert a == b


# --------------------------------------------------------------------------- boundaries


# A coin whose buy limit is exactly 20 at the default 0.5% slippage (19.9005 x 1.005 = 20.0000025,
# rounded down onto the grid): an order of 1 is worth exactly $20 at its limit.
EXACT = [("AAA", 0, 10, "19.9005"), ("BBB", 0, 10, "19.9005")]


def exact(positions: dict[str, str]) -> dict:
    invested = sum((D(v) * D("19.9005") for v in positions.values()), D(0))
    return make_snapshot(positions, cash=str(D(1000) - invested), market=EXACT)


def test_an_order_worth_exactly_the_minimum_is_sent_and_a_cent_less_is_not() -> None:
    one_lot = D("19.9005") / 1000
    p = run(exact({}), {"AAA": one_lot}, min_trade_value=20)
    (t,) = p.trades
    assert (t.action, t.size, t.limit_price, t.notional) == (Action.OPEN, D(1), D(20), D(20))
    p = run(exact({}), {"AAA": one_lot}, min_trade_value="20.01")
    assert not p.trades
    (skip,) = p.skipped
    assert (skip.code, skip.reason) == (
        "below_minimum",
        "open of $20.00 is below the minimum trade value $20.01",
    )


def test_a_reduction_leaving_exactly_the_minimum_stays_a_reduction() -> None:
    # 10 AAA down to 1: what is left is worth exactly $20 at the price it would be bought back at
    one_lot = D("19.9005") / 1000
    p = run(exact({"AAA": "10"}), {"AAA": one_lot}, min_trade_value=20)
    (t,) = p.trades
    assert (t.action, t.side, t.size, t.reduce_only) == (Action.REDUCE, "sell", D(9), True)
    # a cent more and the remainder could never be traded on its own: close it all instead
    p = run(exact({"AAA": "10"}), {"AAA": one_lot}, min_trade_value="20.01")
    (t,) = p.trades
    assert (t.action, t.side, t.size, t.dust) == (Action.CLOSE, "sell", D(10), False)


def test_a_dust_position_flips_with_a_dust_close_and_a_full_open() -> None:
    # a $5 AAA short turned into a 30% long: the close is below $10 (kept, marked dust), the open is not
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    doc = make_snapshot({"AAA": "-0.05"}, cash="10005", market=market)
    p = run(doc, {"AAA": 0.3})
    close, open_ = p.trades
    assert (close.phase, close.action, close.side, close.size, close.dust) == (
        1,
        Action.FLIP_CLOSE,
        "buy",
        D("0.05"),
        True,
    )
    assert close.reduce_only and close.notional < 10
    assert (open_.phase, open_.action, open_.side, open_.size, open_.dust) == (2, Action.FLIP_OPEN, "buy", D(30), False)


def test_a_flip_close_under_the_minimum_trade_value_but_over_10_is_kept_and_not_dust() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    doc = make_snapshot({"AAA": "-0.15"}, cash="10015", market=market)  # a $15 short
    close, open_ = run(doc, {"AAA": 0.3}, min_trade_value=25).trades
    assert (close.action, close.size, close.dust) == (Action.FLIP_CLOSE, D("0.15"), False)
    assert open_.action == Action.FLIP_OPEN


def test_phase_2_ties_break_by_coin_name_too() -> None:
    market = [("ZZZ", 2, 10, "100"), ("MMM", 2, 10, "100"), ("AAA", 2, 10, "100")]
    doc = make_snapshot({}, cash="100000", market=market)
    p = run(doc, {"ZZZ": 0.2, "MMM": 0.3, "AAA": 0.2})
    assert [t.coin for t in p.trades] == ["MMM", "AAA", "ZZZ"]


# --------------------------------------------------------------------------- what the plan says about the rest


def lines_of(p: Plan) -> dict[str, tuple]:
    return {
        a.coin: (a.status, a.current_weight, a.target_weight, a.projected_weight, a.threshold, a.goal) for a in p.assets
    }


def skips_of(p: Plan) -> list[tuple[str, str, str]]:
    return [(s.coin, s.code, s.reason) for s in p.skipped]


def test_assets_within_band_kept_or_flat_are_explained() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100"), ("CCC", 0, 10, "0.0001")]
    doc = make_snapshot({"AAA": "540", "BBB": "100"}, cash="40000", market=market)  # equity $104,000
    p = run(doc, {"AAA": 0.5, "CCC": 0, "USDC": 0.5}, untargeted="keep")
    assert not p.trades
    aaa, bbb = D(54000) / D(104000), D(10000) / D(104000)
    assert lines_of(p) == {
        "AAA": ("within_band", aaa, D("0.5"), aaa, D("0.05"), None),
        "CCC": ("flat", 0, 0, 0, 0, None),
        "BBB": ("kept", bbb, None, bbb, None, None),
        "USDC": ("cash", 1 - aaa - bbb, None, 1 - aaa - bbb, None, None),  # no cash target: BBB is kept
    }
    assert skips_of(p) == [
        ("AAA", "within_band", "within band: drift +0.0192 is not beyond 0.05"),
        ("BBB", "untargeted_kept", "not in the targets; kept (perp positions untargeted=keep)"),
    ]
    assert p.warnings == (
        "holdings absent from the targets are kept (BBB 9.6%): cash will end near 40.4%, not the 50.0% the "
        "targets name; add them to the targets or use untargeted=close / untargeted_spot=close",
    )


def test_a_change_smaller_than_one_lot_is_explained() -> None:
    market = [("AAA", 0, 10, "1000"), ("BBB", 2, 10, "100")]
    p = run(make_snapshot({"AAA": "10"}, cash="90000", market=market), {"AAA": D("0.1004")}, band=0)
    assert not p.trades
    assert lines_of(p)["AAA"] == ("skipped", D("0.1"), D("0.1004"), D("0.1"), 0, None)
    assert skips_of(p) == [("AAA", "below_lot", "the change is smaller than one lot")]


@pytest.mark.parametrize(
    ("spot", "min_trade_value", "reason"),
    [
        (
            "0.2",
            10,
            "close of $7.64 is below the minimum trade value $10.00 (the exchange refuses spot orders under 10 USDC)",
        ),
        ("0.5", 25, "close of $19.11 is below the minimum trade value $25.00"),
    ],
)
def test_spot_orders_below_the_minimum_say_which_minimum(spot: str, min_trade_value: int, reason: str) -> None:
    doc = make_snapshot({}, cash="1000", spot={"USDC": "0", "HYPE": spot})
    p = run(doc, {"HYPE/USDC": 0}, min_trade_value=min_trade_value)
    assert not p.trades
    assert skips_of(p) == [("HYPE/USDC", "below_minimum", reason)]
    assert lines_of(p)["HYPE/USDC"][0] == "skipped"


def test_a_perp_order_below_the_minimum_is_explained() -> None:
    p = run(make_snapshot({}, cash="40"), {"ETH": 0.2})  # 0.0026 ETH at the 3,065.6 limit
    assert skips_of(p) == [("ETH", "below_minimum", "open of $7.97 is below the minimum trade value $10.00")]
    assert lines_of(p)["ETH"] == ("skipped", 0, D("0.2"), 0, D("0.05"), D("0.2"))


def test_a_price_grid_coarser_than_the_slippage_refuses_both_sides_of_a_flip() -> None:
    # At 0.0001 the grid's step is 0.000001: 0.5% either side rounds back to the price itself
    market = [("AAA", 2, 10, "100"), ("CCC", 0, 10, "0.0001")]
    p = run(make_snapshot({"CCC": "-1000000"}, cash="10100", market=market), {"CCC": 0.05}, band=0)
    assert not p.trades
    reason = (
        "the exchange's price grid near 0.0001 is coarser than the slippage of 0.005: no valid limit price within it"
    )
    assert skips_of(p) == [("CCC", "tick_exceeds_slippage", reason)] * 2
    assert lines_of(p)["CCC"] == ("skipped", D("-0.01"), D("0.05"), D("-0.01"), 0, D("0.05"))


def test_a_target_the_exchange_does_not_list_is_explained() -> None:
    p = run(make_snapshot({}, cash="10000"), {"ZZZ": 0.1, "ETH": 0.1})
    assert [t.coin for t in p.trades] == ["ETH"]
    assert skips_of(p) == [("ZZZ", "unknown", "not in the exchange's universe")]
    assert lines_of(p)["ZZZ"] == ("skipped", 0, D("0.1"), 0, None, None)


def test_a_goal_already_reached_is_within_band_and_a_goal_without_a_target_trades() -> None:
    snap = Snapshot.from_raw(make_snapshot({"BTC": ("0.4653", 10)}, cash="60170.12"))
    equity = snap.equity
    p = plan(snap, weights_from_mapping({"BTC": 0.4}), Policy(), goals={"BTC": D("0.4653"), "SOL": D(10)})
    btc = D("0.4653") * D(85600) / equity
    sol = D(10) * D("142.53") / equity
    assert lines_of(p)["BTC"] == ("within_band", btc, D("0.4"), btc, 0, btc)
    assert lines_of(p)["SOL"] == ("trade", 0, 0, sol, 0, sol)
    (t,) = p.trades
    assert (t.coin, t.action, t.side, t.size, t.target_weight) == ("SOL", Action.OPEN, "buy", D(10), 0)


# --------------------------------------------------------------------------- funding, caps and warnings


def unlisted(doc: dict, coin: str) -> dict:
    """``doc`` with ``coin`` taken out of the exchange's universe (a position in it stays)."""
    meta, ctxs = doc["metaAndAssetCtxs"]
    i = [u["name"] for u in meta["universe"]].index(coin)
    del meta["universe"][i], ctxs[i]
    return doc


@pytest.mark.parametrize(("size", "weight", "cash"), [("1200", "0.6", "40000"), ("-1200", "-0.6", "160000")])
def test_a_position_the_exchange_no_longer_lists_counts_in_the_gross_cap_and_the_margin(
    size: str, weight: str, cash: str
) -> None:
    # $60,000 of UUU at 5x, in a coin the universe does not list: the plan cannot price or trade
    # it, but it is still exposure and still holds its $12,000 of margin.
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100"), ("UUU", 2, 10, "50")]
    doc = unlisted(make_snapshot({"UUU": (size, 5)}, cash=cash, market=market), "UUU")  # equity $100,000
    p = run(doc, {"AAA": 0.6}, leverage=5)
    (aaa,) = p.trades
    assert (aaa.coin, aaa.size) == ("AAA", D(400))  # scaled from 600: 0.6 + 0.6 > max_leverage 1
    assert p.summary.gross_capped and p.summary.gross_before == D("0.6") and p.summary.gross_after == 1
    assert p.summary.net_after == D("0.4") + D(weight)
    assert p.warnings == (
        "gross exposure after the plan would be 1.2, above max_leverage 1: increases scaled to 66.7%",
    )
    assert p.summary.margin_available == 100000 - 12000 - D(600) * D("100.5") * D("0.00045")
    assert lines_of(p)["UUU"] == ("skipped", D(weight), None, D(weight), None, None)
    assert lines_of(p)["USDC"][1] == 1 - D(weight)


def test_gross_exposure_exactly_at_the_cap_is_not_capped() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    p = run(make_snapshot({}, cash="100000", market=market), {"AAA": 1}, leverage=2)
    (aaa,) = p.trades
    assert aaa.size == D(1000) and p.summary.gross_after == 1
    assert not p.summary.gross_capped and p.summary.scale_factor == 1 and not p.warnings


def test_re_planning_after_phase_1_does_not_count_reductions_that_have_not_filled() -> None:
    # AAA 0.8 -> 0.3 and BBB 0 -> 0.5: counted as done, AAA's reduction makes room for BBB; planned
    # again after phase 1 ran (and AAA's reduction did not fill), BBB must fit beside all of AAA.
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    snap = Snapshot.from_raw(make_snapshot({"AAA": "800"}, cash="20000", market=market))
    targets, policy = weights_from_mapping({"AAA": 0.3, "BBB": 0.5}), Policy(leverage=2)
    first = plan(snap, targets, policy)
    assert by_coin(first)["BBB"][0].size == D(500) and not first.summary.gross_capped
    again = plan(snap, targets, policy, count_phase1_margin=False)
    assert by_coin(again)["BBB"][0].size == D(200)
    assert again.summary.gross_capped


def test_positions_are_margined_at_the_mark() -> None:
    # AAA's mid is 0.5 but its mark 0.6: its 100,000 at 2x hold $30,000 of margin, not $25,000
    market = [("AAA", 0, 10, "0.5"), ("BBB", 2, 10, "100")]
    doc = make_snapshot({"AAA": ("100000", 2)}, cash="50000", market=market)
    doc["metaAndAssetCtxs"][1][0]["markPx"] = "0.6"
    p = run(doc, {"AAA": 0.5, "BBB": 0.5})
    (bbb,) = p.trades
    assert p.summary.margin_available == 100000 - 30000 - bbb.size * D("100.5") * D("0.00045")
    assert skips_of(p) == [("AAA", "within_band", "within band: drift +0 is not beyond 0.05")]


def test_a_dex_short_of_margin_scales_its_own_increases_and_says_so() -> None:
    doc = add_dex(make_snapshot({}, cash="90000"), "xyz", [("XYZ100", 2, 20, "25000")], cash="100")
    p = run(doc, {"xyz:XYZ100": 0.05})
    assert not p.trades
    assert skips_of(p) == [
        ("xyz:XYZ100", "scaled_below_minimum", "open scaled down to $0.00, below the minimum trade value $10.00")
    ]
    assert p.warnings == (
        "dex xyz increases (its own margin; hlrebal does not move collateral between dexes) need $4,522.50 but "
        "about $97.96 is free after phase 1 and fees: scaled to 2.2% of plan",
    )


def test_a_dex_collateralised_in_another_token_is_warned_about() -> None:
    doc = add_dex(make_snapshot({}, cash="90000"), "xyz", [("XYZ100", 2, 20, "25000")], cash="10000")
    doc["dexes"]["xyz"]["metaAndAssetCtxs"][0]["collateralToken"] = 360
    p = run(doc, {"xyz:XYZ100": 0.05})
    assert [(t.coin, t.size) for t in p.trades] == [("xyz:XYZ100", D("0.2"))]
    assert p.warnings == ("dex xyz is collateralised in token 360, not USDC",)


def test_a_policy_leverage_of_1_is_used_as_given() -> None:
    p = run(make_snapshot({"SOL": ("10", 3)}, cash="10000"), {"SOL": 0.5, "ETH": 0.2}, leverage=1)
    assert [(t.coin, t.leverage) for t in p.trades] == [("SOL", 1), ("ETH", 1)]


def test_an_untargeted_close_aims_at_zero() -> None:
    p = run(make_snapshot({"SOL": ("10", 3)}, cash="10000"), {"ETH": 0.2})
    sol = by_coin(p)["SOL"][0]
    assert (sol.action, sol.target_weight, sol.projected_weight) == (Action.CLOSE, 0, 0)


@pytest.mark.parametrize(("held", "action"), [("20", Action.REDUCE), ("2", Action.INCREASE)])
def test_edge_mode_trades_to_the_lot_nearest_the_target_when_no_lot_lies_in_the_band(held: str, action: Action) -> None:
    # one lot of AAA is 1% of equity; the band around 10.55% is 0.2% wide: no lot lies inside it
    market = [("AAA", 0, 10, "1000"), ("BBB", 2, 10, "100")]
    doc = make_snapshot({"AAA": held}, cash=str(100000 - int(held) * 1000), market=market)
    p = run(doc, {"AAA": D("0.1055")}, trade_to="edge", band=D("0.001"), band_relative=None)
    (t,) = p.trades
    assert t.action == action and abs(D(held) + t.signed_size) == 11  # 10.55 lots, to the nearest lot
    assert lines_of(p)["AAA"][5] == D("0.1055")  # aims at the target, not at an edge it cannot reach


def test_open_orders_are_named_as_the_targets_name_them() -> None:
    orders = [
        {"coin": "ETH", "limitPx": "2900.0", "oid": 7, "side": "B", "sz": "1.0", "timestamp": 1},
        {"coin": "@107", "limitPx": "30", "oid": 8, "side": "B", "sz": "1.0", "timestamp": 1},
        {"coin": "BTC", "limitPx": "80000", "oid": 9, "side": "B", "sz": "0.1", "timestamp": 1},
    ]
    doc = make_snapshot({}, cash="10000", open_orders=orders, spot={"USDC": "1000"})
    p = run(doc, {"ETH": 0.5, "HYPE/USDC": 0.05})
    assert p.warnings == (
        "the account has 3 open order(s) on BTC, ETH, HYPE/USDC: they hold margin and can fill during a "
        "rebalance (traded coins among them: ETH, HYPE/USDC)",
    )


def test_an_account_with_little_equity_is_planned_and_one_with_none_is_refused() -> None:
    p = run(make_snapshot({}, cash="0.5"), {"ETH": 0.5})
    assert skips_of(p) == [("ETH", "below_minimum", "open of $0.31 is below the minimum trade value $10.00")]
    with pytest.raises(EmptyAccountError) as e:
        run(make_snapshot({}, cash="0"), {"ETH": 0.5})
    assert e.value.message == "account 0x1111111111111111111111111111111111111111 has no equity (0 USDC) on testnet"
    assert e.value.hint == "an API wallet's address holds nothing: use the account's own address (--address)"


def test_a_negative_drift_within_the_band_is_shown_with_its_sign() -> None:
    market = [("AAA", 2, 10, "100"), ("BBB", 2, 10, "100")]
    p = run(make_snapshot({"AAA": "460"}, cash="54000", market=market), {"AAA": 0.5})
    assert skips_of(p) == [("AAA", "within_band", "within band: drift -0.04 is not beyond 0.05")]


def test_a_kept_holding_of_the_whole_account_is_warned_about() -> None:
    p = run(make_snapshot({"BTC": ("1", 10)}, cash="0"), {"ETH": 0, "USDC": 1}, untargeted="keep")
    assert p.warnings == (
        "holdings absent from the targets are kept (BTC 100.0%): cash will end near 0.0%, not the 100.0% the "
        "targets name; add them to the targets or use untargeted=close / untargeted_spot=close",
    )
