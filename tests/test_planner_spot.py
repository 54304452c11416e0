"""Whole-account planning: spot holdings by pair, standard and unified accounts, cash movement."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlrebal.errors import ExitCode, TargetFileError
from hlrebal.market import MIN_ORDER_VALUE, SPOT_TAKER_FEE, is_valid_price, is_valid_size
from hlrebal.planner import Action, Plan, check_targets, plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from factories import make_snapshot


def run(doc: dict[str, Any], weights: dict[str, Any], **policy: Any) -> Plan:
    snap = Snapshot.from_raw(doc)
    targets = weights_from_mapping(weights)
    pol = Policy(**policy)
    check_targets(snap, targets, pol)
    return plan(snap, targets, pol)


def trade(p: Plan, coin: str) -> Any:
    return next(t for t in p.trades if t.coin == coin)


def perp_only_100k() -> dict[str, Any]:
    return make_snapshot({}, cash="100000", spot={"USDC": "0"})


def test_equity_counts_perp_and_spot_once_in_standard_mode() -> None:
    doc = make_snapshot({"BTC": ("0.5", 10)}, cash="50000", spot={"USDC": "1000", "HYPE": "100"})
    snap = Snapshot.from_raw(doc)
    assert snap.account_mode == "standard"
    assert snap.equity == D("50000") + D("0.5") * D("85600") + D("1000") + D("100") * D("38.41")


def test_equity_counts_the_one_balance_in_unified_mode() -> None:
    # Unified: the perp account value reads about zero; the spot USDC total carries the account.
    ntl = D("0.5") * D("85600")
    doc = make_snapshot(
        {"BTC": ("0.5", 10)}, cash=str(-ntl), spot={"USDC": "90000", "HYPE": "100"}, mode="unifiedAccount"
    )
    snap = Snapshot.from_raw(doc)
    assert snap.account_mode == "unified" and snap.mode_source == "userAbstraction"
    assert snap.account_value == 0
    assert snap.equity == D("90000") + D("3841")


def test_unified_mode_is_recognised_from_the_balances_shape_without_user_abstraction() -> None:
    ntl = D("0.5") * D("85600")
    doc = make_snapshot({"BTC": ("0.5", 10)}, cash=str(-ntl), spot={"USDC": "90000"}, spot_hold={"USDC": "4280"})
    snap = Snapshot.from_raw(doc)
    assert (snap.account_mode, snap.mode_source) == ("unified", "balances")


def test_seed_style_whole_account_target_from_perp_usdc_only() -> None:
    """30% BTC perp, 20% HYPE spot, 50% USDC from an account holding only perp USDC."""
    p = run(perp_only_100k(), {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5})
    hype = trade(p, "HYPE/USDC")
    assert hype.kind == "spot" and hype.side == "buy" and hype.phase == 2 and not hype.reduce_only
    assert hype.asset_id == 10_107
    # 20% of $100,000 at 38.41 is 520.70 HYPE (2-decimal lots); the fee is paid in HYPE, so buy
    # enough that 520.70 arrive
    assert abs(hype.size * (1 - SPOT_TAKER_FEE) - D("520.7")) <= D("0.005")
    assert is_valid_price(hype.limit_price, 2, spot=True)
    (transfer,) = p.transfers
    assert transfer.to_perp is False and not transfer.blocked
    cost = hype.size * hype.limit_price * (1 + SPOT_TAKER_FEE)
    assert cost <= transfer.amount < cost + D("0.02")
    btc = trade(p, "BTC")
    assert btc.kind == "perp" and btc.phase == 2
    assert not p.summary.margin_scaled
    line = {a.coin: a for a in p.assets}
    assert abs(line["HYPE/USDC"].projected_weight - D("0.2")) < D("0.001")
    assert abs(line["USDC"].projected_weight - D("0.5")) < D("0.001")


def test_spot_sells_come_first_and_fund_perp_margin_with_a_transfer_to_perp() -> None:
    # All in spot (HYPE and USDC), little on the perp side: a BTC long needs margin moved to perp.
    doc = make_snapshot({}, cash="500", spot={"USDC": "20000", "HYPE": "2000"})
    p = run(doc, {"BTC": 0.5, "HYPE/USDC": 0.2}, leverage=2)
    hype = trade(p, "HYPE/USDC")
    assert (hype.phase, hype.side, hype.action) == (1, "sell", Action.REDUCE)
    (transfer,) = p.transfers
    assert transfer.to_perp is True
    btc = trade(p, "BTC")
    assert btc.notional / btc.leverage <= transfer.amount + D("500")


def test_spot_sells_never_exceed_the_free_balance() -> None:
    doc = make_snapshot({}, cash="10000", spot={"USDC": "0", "HYPE": "100"}, spot_hold={"HYPE": "60"})
    p = run(doc, {"HYPE/USDC": 0})
    sell = trade(p, "HYPE/USDC")
    assert sell.size == D("40") and sell.side == "sell"
    assert any("on hold" in w for w in p.warnings)


def test_sub_minimum_spot_trades_are_skipped_not_sent() -> None:
    doc = make_snapshot({}, cash="1000", spot={"USDC": "0", "HYPE": "0.2"})  # $7.68 of HYPE
    p = run(doc, {"HYPE/USDC": 0})
    assert not p.trades
    skip = next(s for s in p.skipped if s.coin == "HYPE/USDC")
    assert skip.code == "below_minimum" and "10 USDC" in skip.reason


def test_untargeted_spot_tokens_are_kept_unless_asked() -> None:
    doc = make_snapshot({"BTC": ("0.5", 10)}, cash="50000", spot={"USDC": "0", "HYPE": "200"})
    kept = run(doc, {"BTC": 0.4})
    assert "HYPE/USDC" not in {t.coin for t in kept.trades}
    assert any(s.coin == "HYPE/USDC" and s.code == "untargeted_kept" for s in kept.skipped)
    closed = run(doc, {"BTC": 0.4}, untargeted_spot="close")
    sell = trade(closed, "HYPE/USDC")
    assert sell.size == D("200") and sell.action == Action.CLOSE and not sell.reduce_only


def test_unified_accounts_need_no_transfer_and_share_one_pool() -> None:
    ntl = D("0.5") * D("85600")
    doc = make_snapshot({"BTC": ("0.5", 10)}, cash=str(-ntl), spot={"USDC": "90000"}, mode="unifiedAccount")
    p = run(doc, {"BTC": 0.4, "HYPE/USDC": 0.2})
    assert p.transfers == ()
    assert {t.coin for t in p.trades} == {"BTC", "HYPE/USDC"}
    assert p.summary.account_mode == "unified" and not p.summary.margin_scaled


def test_blocked_transfers_scale_spot_buys_and_name_what_the_owner_must_do() -> None:
    snap = Snapshot.from_raw(perp_only_100k())
    targets = weights_from_mapping({"BTC": 0.3, "HYPE/USDC": 0.2})
    p = plan(snap, targets, Policy(), allow_transfers=False)
    (t,) = p.transfers
    assert t.blocked and not t.to_perp
    assert "HYPE/USDC" not in {x.coin for x in p.trades}  # no spot USDC: nothing can be bought
    assert any("owner must transfer" in w for w in p.warnings)


@pytest.mark.parametrize(
    ("weights", "fragment"),
    [
        ({"HYPE/USDC": -0.1}, "cannot be negative"),
        ({"HYPE/USDC": 0.1, "@107": 0.1}, "same spot pair"),
        ({"PURR": 0.1}, "'PURR/USDC'"),
        ({"HYPE/USDT": 0.1}, "not traded"),
    ],
)
def test_spot_target_mistakes_are_bad_input(weights: dict[str, float], fragment: str) -> None:
    snap = Snapshot.from_raw(perp_only_100k())
    with pytest.raises(TargetFileError) as e:
        check_targets(snap, weights_from_mapping(weights), Policy())
    assert e.value.exit_code == ExitCode.BAD_INPUT and fragment in str(e.value)


def test_a_name_that_is_both_perp_and_spot_is_the_perp_unless_written_as_a_pair() -> None:
    doc = make_snapshot({}, cash="100000", spot={"USDC": "0"})
    p = run(doc, {"HYPE": 0.1})
    assert trade(p, "HYPE").kind == "perp"
    q = run(doc, {"@107": 0.1})
    assert trade(q, "HYPE/USDC").kind == "spot"


# --------------------------------------------------------------------------- properties


@st.composite
def spot_scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, D], Policy]:
    hype_price = draw(st.sampled_from(["38.41", "0.5123", "1234.5"]))
    purr_price = draw(st.sampled_from(["0.18123", "0.001234", "2.5"]))
    spot = {
        "USDC": str(D(draw(st.integers(0, 200_000)))),
        "HYPE": str(D(draw(st.integers(0, 500_000))) / 100),
        "PURR": str(D(draw(st.integers(0, 2_000_000)))),
    }
    hold = {"HYPE": str(D(draw(st.integers(0, 100))) / 100)} if draw(st.booleans()) else {}
    if D(hold.get("HYPE", "0")) > D(spot["HYPE"]):
        hold = {}
    perp_cash = str(D(draw(st.integers(0, 200_000))))
    doc = make_snapshot(
        {},
        cash=perp_cash,
        spot=spot,
        spot_hold=hold,
        spot_prices={"@107": hype_price, "PURR/USDC": purr_price},
    )
    w_hype = D(draw(st.integers(0, 50))) / 100
    w_purr = D(draw(st.integers(0, 30))) / 100
    w_btc = D(draw(st.integers(-30, 30))) / 100
    weights = {"HYPE/USDC": w_hype, "PURR/USDC": w_purr, "BTC": w_btc}
    policy = Policy(
        band=D(draw(st.sampled_from(["0", "0.02", "0.05"]))),
        untargeted_spot=draw(st.sampled_from(["keep", "close"])),
        slippage=D(draw(st.sampled_from(["0.002", "0.01"]))),
    )
    return doc, weights, policy


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spot_scenarios())
def test_spot_orders_are_valid_above_the_minimum_and_within_the_free_balance(
    s: tuple[dict[str, Any], dict[str, D], Policy],
) -> None:
    doc, weights, policy = s
    snap = Snapshot.from_raw(doc)
    if snap.equity <= 0:
        return
    p = plan(snap, weights_from_mapping(weights), policy)
    for t in p.trades:
        spot = t.kind == "spot"
        assert is_valid_size(t.size, t.sz_decimals)
        assert is_valid_price(t.limit_price, t.sz_decimals, spot=spot)
        if spot:
            assert not t.reduce_only
            assert t.notional >= MIN_ORDER_VALUE  # no spot dust exemption on the exchange
            if t.side == "sell":
                assert t.phase == 1
                token = t.coin.split("/")[0]
                assert t.size <= snap.spot_balances[token].free
            else:
                assert t.phase == 2
    assert plan(snap, weights_from_mapping(weights), policy) == p
    # transfers only ever move what the source side can spare
    for tr in p.transfers:
        assert tr.amount > 0


def test_the_gross_cap_counts_what_a_spot_buy_brings_after_its_fee() -> None:
    # A kept BTC long of half the equity and a 60% HYPE target: gross would reach 1.1, so the buy
    # is scaled to fit 1.0. What arrives is the size less the 0.07% fee, and the cap must be
    # judged on what arrives, or the scaled buy overshoots it.
    doc = make_snapshot({"BTC": ("0.58411", 10)}, cash="0", spot={"USDC": "50000"})
    p = run(doc, {"HYPE/USDC": 0.6}, untargeted="keep", max_leverage=1)
    hype = trade(p, "HYPE/USDC")
    assert p.summary.gross_capped
    equity = Snapshot.from_raw(doc).equity
    arrives = hype.size * (1 - SPOT_TAKER_FEE)
    gross_after = (D("0.58411") * D(85600) + arrives * D("38.41")) / equity
    assert gross_after <= 1
    assert gross_after > 1 - D("0.0001")  # and close to it: one lot of HYPE is $0.38


def test_a_spot_buy_is_grossed_up_for_its_fee_on_the_lot_grid() -> None:
    # 20% of $100,000 at 38.41 is 520.70 HYPE; the 0.07% fee is taken from the HYPE received, so
    # the order is 520.70 / 0.9993 = 521.0647.. rounded to the nearest lot
    p = run(perp_only_100k(), {"HYPE/USDC": 0.2})
    (hype,) = p.trades
    assert (hype.action, hype.side, hype.size, hype.limit_price) == (Action.OPEN, "buy", D("521.06"), D("38.602"))


def test_a_spot_sell_rounds_the_free_balance_down_and_says_what_is_on_hold() -> None:
    doc = make_snapshot({}, cash="10000", spot={"USDC": "0", "HYPE": "100.555"}, spot_hold={"HYPE": "60"})
    p = run(doc, {"HYPE/USDC": 0})
    (sell,) = p.trades
    # 40.555 is free: 40.55 can be sold (40.56 would be refused), and the rest stays
    assert (sell.action, sell.side, sell.size) == (Action.REDUCE, "sell", D("40.55"))
    assert p.warnings == ("HYPE/USDC: 60 HYPE is on hold (open orders) and cannot be sold now",)


@pytest.mark.parametrize(
    ("min_trade_value", "action", "size"),
    [("19.109", Action.REDUCE, "9.8"), ("19.11", Action.CLOSE, "10.3")],
)
def test_a_spot_sell_leaving_less_than_the_minimum_sells_it_all(
    min_trade_value: str, action: Action, size: str
) -> None:
    # 10.3 HYPE down to 0.5: what is left is worth 0.5 x 38.218 = $19.109 at the sell limit
    doc = make_snapshot({}, cash="10000", spot={"USDC": "0", "HYPE": "10.3"})
    equity = Snapshot.from_raw(doc).equity
    p = run(doc, {"HYPE/USDC": D("0.5") * D("38.41") / equity}, min_trade_value=min_trade_value, band=0)
    (sell,) = p.trades
    assert (sell.action, sell.side, sell.size, sell.limit_price) == (action, "sell", D(size), D("38.218"))


def test_spot_tokens_without_a_market_or_a_price_are_explained_and_left_out_of_equity() -> None:
    doc = make_snapshot({}, cash="10000", spot={"USDC": "1000", "PURR": "5000", "UBTC": "0.01", "HYPE": "10"})
    meta, ctxs = doc["spotMetaAndAssetCtxs"]
    listed = [i for i, pair in enumerate(meta["universe"]) if pair["name"] != "@142"]  # UBTC: no USDC pair
    meta["universe"] = [meta["universe"][i] for i in listed]
    doc["spotMetaAndAssetCtxs"][1] = [ctxs[i] for i in listed]
    purr = next(c for c in doc["spotMetaAndAssetCtxs"][1] if c["coin"] == "PURR/USDC")
    purr["markPx"] = purr["midPx"] = None  # PURR: a pair, but no price
    snap = Snapshot.from_raw(doc)
    assert snap.equity == D(10000) + D(1000) + D(10) * D("38.41")
    p = plan(snap, weights_from_mapping({"PURR/USDC": 0.1, "HYPE/USDC": 0.05}), Policy())
    assert [(t.coin, t.side) for t in p.trades] == [("HYPE/USDC", "buy")]
    assert [(s.coin, s.code, s.reason) for s in p.skipped] == [
        ("PURR/USDC", "no_price", "no usable price (no mid or mark)"),
        ("UBTC/USDC", "unknown", "no USDC market for this token"),
    ]
    lines = {a.coin: (a.kind, a.status, a.current_weight, a.target_weight, a.projected_weight) for a in p.assets}
    assert lines["PURR/USDC"] == ("spot", "skipped", 0, D("0.1"), 0)
    assert lines["UBTC/USDC"] == ("spot", "skipped", 0, None, 0)
    assert lines["USDC"][3] is None  # no cash target while a holding is left as it is
    assert p.warnings == ("spot tokens without a USDC price are not counted in equity: PURR, UBTC",)


# --------------------------------------------------------------------------- transfers to the cent


def test_a_shortfall_under_a_dollar_is_still_transferred_to_the_cent() -> None:
    # the HYPE buy costs $1,107.107753324 with its fee; spot holds $1,106.61: move $0.50
    doc = make_snapshot({}, cash=str(D(11000) - D("1106.61")), spot={"USDC": "1106.61"})
    p = run(doc, {"HYPE/USDC": 0.1})
    assert [(t.coin, t.size) for t in p.trades] == [("HYPE/USDC", D("28.66"))]
    assert [(t.amount, t.to_perp) for t in p.transfers] == [(D("0.50"), False)]
    assert not p.summary.margin_scaled
    # and to the perp side: ETH needs $0.50 more margin than perp USDC has after its fee
    p = run(make_snapshot({}, cash="1004.86", spot={"USDC": "995.14"}), {"ETH": 0.5})
    assert [(t.amount, t.to_perp) for t in p.transfers] == [(D("0.50"), True)]
    assert [(t.coin, t.size) for t in p.trades] == [("ETH", D("0.3278"))]


def test_what_the_other_side_can_spare_is_moved_rounded_down_to_the_cent() -> None:
    # perp USDC is $0.505: $0.51 would be more than it has, so $0.50 moves and the buy is scaled
    p = run(make_snapshot({}, cash="0.505", spot={"USDC": "1106"}), {"HYPE/USDC": 1})
    assert p.warnings == (
        "spot buys (spot USDC) need $1,113.67 but about $1,106.50 is free after phase 1 and fees: scaled to "
        "99.4% of plan",
    )
    # the transfer is then trimmed to what the scaled buy still needs, rounded up to the cent
    (transfer,) = p.transfers
    assert transfer.amount == D("0.34") and p.summary.spot_cash_required - 1106 <= transfer.amount


@pytest.mark.parametrize("allow", [True, False])
def test_less_than_a_cent_to_spare_is_no_transfer_at_all(allow: bool) -> None:
    snap = Snapshot.from_raw(make_snapshot({}, cash="0.004", spot={"USDC": "1106"}))
    p = plan(snap, weights_from_mapping({"HYPE/USDC": 1}), Policy(), allow_transfers=allow)
    assert p.transfers == ()
    assert p.warnings == (
        "spot buys (spot USDC) need $1,112.90 but about $1,106.00 is free after phase 1 and fees: scaled to "
        "99.4% of plan",
    )


def test_spot_cash_that_exactly_covers_the_buys_is_enough() -> None:
    cost = D("28.66") * D("38.602") * (1 + SPOT_TAKER_FEE)  # 1,107.107753324
    doc = make_snapshot({}, cash=str(D(11000) - cost), spot={"USDC": str(cost)})
    p = run(doc, {"HYPE/USDC": 0.1})
    assert [(t.coin, t.size) for t in p.trades] == [("HYPE/USDC", D("28.66"))]
    assert p.summary.spot_cash_required == p.summary.spot_cash_available == cost
    assert not p.summary.margin_scaled and p.summary.scale_factor == 1 and not p.warnings and not p.transfers


def test_a_unified_account_short_of_its_one_balance_scales_perps_and_spot_together() -> None:
    ntl = D("0.5") * D("85600")
    doc = make_snapshot({"BTC": ("0.5", 10)}, cash=str(-ntl), spot={"USDC": "5000"}, mode="unifiedAccount")
    p = run(doc, {"BTC": 0.5, "ETH": 3, "HYPE/USDC": 0.3}, max_leverage=5)
    assert p.warnings == (
        "increases (margin and cash) need $16,584.40 but about $4,725.04 is free after phase 1 and fees: scaled "
        "to 28.5% of plan",
        "execute will refuse this plan: turnover 900.0% of equity exceeds max_turnover 100.0% (raise "
        "--max-turnover if this much trading is intended)",  # a $40k BTC sell on $5k of equity
    )
    assert [(t.coin, t.size) for t in p.phase(2)] == [("ETH", D("1.401")), ("HYPE/USDC", D("11.13"))]


# --------------------------------------------------------------------------- which spot pairs are planned


def test_spot_limits_use_the_spot_grid_with_its_two_more_decimals() -> None:
    # PURR at 0.001234: 0.5% either side is 0.00124017 and 0.00122783, to five significant figures
    # 0.0012401 and 0.0012279: seven decimals, which spot allows (8 - 0) and a perp would not (6 - 0)
    for held, side, limit in (("2000000", "sell", "0.0012279"), ("10000", "buy", "0.0012401")):
        doc = make_snapshot(
            {}, cash="10000", spot={"USDC": "10000", "PURR": held}, spot_prices={"PURR/USDC": "0.001234"}
        )
        (t,) = run(doc, {"PURR/USDC": 0.05}).trades
        assert (t.side, t.limit_price) == (side, D(limit))


@pytest.mark.parametrize(("held", "goal"), [("10.006", "10.01"), ("10.004", "10")])
def test_a_spot_change_smaller_than_one_lot_is_not_an_order(held: str, goal: str) -> None:
    # balances need not sit on the lot grid (fees are paid in the token): 0.004 HYPE cannot be traded
    doc = make_snapshot({}, cash="10000", spot={"USDC": "1000", "HYPE": held})
    weight = D(goal) * D("38.41") / Snapshot.from_raw(doc).equity
    p = run(doc, {"HYPE/USDC": weight}, band=0, band_relative=None)
    assert not p.trades
    assert [(s.coin, s.code, s.reason) for s in p.skipped] == [
        ("HYPE/USDC", "below_lot", "the change is smaller than one lot")
    ]


def test_goals_of_a_later_round_trade_spot_pairs_held_or_not_once_each() -> None:
    doc = make_snapshot({}, cash="10000", spot={"USDC": "1000", "HYPE": "10", "PURR": "0"})
    snap = Snapshot.from_raw(doc)
    goals = {"HYPE/USDC": D(20), "UBTC/USDC": D("0.001"), "ETH": D("0.3732")}
    p = plan(snap, weights_from_mapping({"ETH": 0.1}), Policy(), goals=goals)
    assert [(t.coin, t.action, t.side, t.size) for t in p.trades] == [
        ("ETH", Action.OPEN, "buy", D("0.3732")),
        ("HYPE/USDC", Action.INCREASE, "buy", D("10.01")),  # 10 more to arrive, less the fee
        ("UBTC/USDC", Action.OPEN, "buy", D("0.001")),
    ]
    assert [a.coin for a in p.assets] == ["ETH", "HYPE/USDC", "UBTC/USDC", "USDC"]  # no line for 0 PURR
    assert p.skipped == ()


def test_every_token_held_is_planned_whatever_its_name_sorts_after() -> None:
    # WIF sorts after USDC: it is planned (here closed) like any other token
    doc = make_snapshot({}, cash="10000", spot={"USDC": "1000", "HYPE": "10"})
    meta, ctxs = doc["spotMetaAndAssetCtxs"]
    meta["tokens"].append({"name": "WIF", "szDecimals": 0, "weiDecimals": 8, "index": 300, "tokenId": "0x" + "3" * 32})
    meta["universe"].append({"tokens": [300, 0], "name": "@200", "index": 200, "isCanonical": False})
    ctxs.append({"coin": "@200", "prevDayPx": "2", "dayNtlVlm": "1", "markPx": "2", "midPx": "2"})
    doc["spotClearinghouseState"]["balances"].append({"coin": "WIF", "token": 300, "total": "500", "hold": "0"})
    p = run(doc, {"ETH": 0.1}, untargeted_spot="close")
    assert [(t.coin, t.action, t.size) for t in p.phase(1)] == [
        ("WIF/USDC", Action.CLOSE, D(500)),
        ("HYPE/USDC", Action.CLOSE, D(10)),
    ]
