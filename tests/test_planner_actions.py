"""Direct actions planned like targets: the orders a user expects, with the planner's own rules
(lots, reduce-only, flips, phases, minimums, margin) and a word wherever the plan differs from
the action as written."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from hlrebal.errors import TargetFileError
from hlrebal.market import is_valid_price, is_valid_size
from hlrebal.planner import Action, Plan, check_document, plan_document
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import parse_document

from factories import btc_80_20, make_snapshot


def actions_plan(doc: dict[str, Any], *actions: dict[str, Any], **policy: Any) -> Plan:
    snap = Snapshot.from_raw(doc)
    document = parse_document(json.dumps({"actions": list(actions)}), "actions.json")
    check_document(snap, document, Policy(**policy))
    p = plan_document(snap, document, Policy(**policy))
    for t in p.trades:  # every order is one the exchange takes
        assert is_valid_size(t.size, t.sz_decimals) and is_valid_price(t.limit_price, t.sz_decimals), t
    return p


def trades(p: Plan) -> list[tuple[Any, ...]]:
    return [(t.phase, t.coin, t.action, t.side, t.size, t.reduce_only) for t in p.trades]


def test_a_sell_of_part_of_a_long_and_a_buy_by_notional() -> None:
    p = actions_plan(
        btc_80_20(),
        {"action_type": "sell", "coin": "BTC", "size": 0.4},
        {"action_type": "buy", "coin": "ETH", "notional": 30000},
    )
    # $30,000 at the ETH mid 3,050.4 is 9.83477 ETH: the nearest lot of 0.0001
    assert trades(p) == [
        (1, "BTC", Action.REDUCE, "sell", D("0.4"), True),
        (2, "ETH", Action.OPEN, "buy", D("9.8348"), False),
    ]
    assert p.document == "actions" and p.warnings == ()
    btc = next(a for a in p.assets if a.coin == "BTC")
    assert btc.target_weight == btc.projected_weight == D("0.53458") * 85600 / 100000  # the goal, not 0


def test_a_close_takes_the_whole_position_reduce_only() -> None:
    p = actions_plan(make_snapshot({"DOGE": "20000", "BTC": "0.1"}), {"action_type": "close", "coin": "DOGE"})
    assert trades(p) == [(1, "DOGE", Action.CLOSE, "sell", D("20000"), True)]
    # BTC is not named: it is kept, and the plan says why it is not traded
    kept = {(k.coin, k.code, k.reason) for k in p.skipped}
    assert kept == {("BTC", "untargeted_kept", "not named by the actions; kept")}


def test_a_sell_beyond_a_long_is_split_like_a_flip() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "sell", "coin": "BTC", "size": 1.5})
    assert trades(p) == [
        (1, "BTC", Action.FLIP_CLOSE, "sell", D("0.93458"), True),  # capped at the position, reduce-only
        (2, "BTC", Action.FLIP_OPEN, "sell", D("0.56542"), False),  # the rest opens the short
    ]


def test_a_buy_of_a_short_is_reduce_only_and_capped() -> None:
    p = actions_plan(make_snapshot({"ETH": "-4.2"}), {"action_type": "buy", "coin": "ETH", "size": 1.2})
    assert trades(p) == [(1, "ETH", Action.REDUCE, "buy", D("1.2"), True)]


def test_a_size_below_one_lot_trades_nothing_and_says_so() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "sell", "coin": "BTC", "size": 0.000001})
    assert p.trades == ()
    [skip] = p.skipped
    assert (skip.coin, skip.code) == ("BTC", "below_lot")
    assert skip.reason == "sell 0.000001 BTC is smaller than one lot (0.00001 BTC)"


def test_rounding_to_the_lot_is_said() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "sell", "coin": "BTC", "size": 0.123456})
    assert trades(p) == [(1, "BTC", Action.REDUCE, "sell", D("0.12346"), True)]
    assert p.warnings == ("BTC: sell 0.123456 BTC rounded to 0.12346 (the lot is 0.00001)",)


def test_the_same_minimum_as_for_targets() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "buy", "coin": "ETH", "size": 0.001})  # about $3
    assert p.trades == ()
    assert [k.code for k in p.skipped if k.coin == "ETH"] == ["below_minimum"]


def test_a_reduction_leaving_dust_closes_and_says_why() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "sell", "coin": "BTC", "size": 0.9345})  # leaves $6.8
    assert trades(p) == [(1, "BTC", Action.CLOSE, "sell", D("0.93458"), True)]
    assert any("closes the whole position" in w for w in p.warnings)


def test_a_close_of_nothing_is_not_traded() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "close", "coin": "SOL"})
    assert p.trades == () and [(k.coin, k.code) for k in p.skipped if k.coin == "SOL"] == [("SOL", "nothing_to_close")]


def test_increases_fit_the_margin_and_the_gross_cap_like_any_plan() -> None:
    p = actions_plan(btc_80_20(), {"action_type": "buy", "coin": "ETH", "notional": 60000})
    [eth] = p.trades
    # 80% BTC + 60% ETH would be 140% gross against max_leverage 1: the buy is cut to the room left
    assert p.summary.gross_capped and eth.size * eth.reference_price <= D("20001")
    assert any("max_leverage" in w for w in p.warnings)


def test_spot_sells_are_capped_at_the_free_balance_and_buys_are_the_size_asked() -> None:
    doc = make_snapshot({}, cash="1000", spot={"USDC": "5000", "HYPE": "10"}, spot_hold={"HYPE": "4"})
    p = actions_plan(doc, {"action_type": "sell", "coin": "HYPE/USDC", "size": 8})
    [sell] = p.trades
    assert (sell.coin, sell.side, sell.size) == ("HYPE/USDC", "sell", D("6"))
    assert any("capped at the 6 HYPE free (4 on hold)" in w for w in p.warnings)
    [buy] = actions_plan(doc, {"action_type": "buy", "coin": "@107", "size": 2}).trades
    assert (buy.coin, buy.side, buy.size) == ("HYPE/USDC", "buy", D("2"))


def test_unknown_and_delisted_coins_are_refused_with_exit_2() -> None:
    with pytest.raises(TargetFileError, match=r"actions\[0\] \(btc\): is not traded.*'BTC'") as info:
        actions_plan(btc_80_20(), {"action_type": "buy", "coin": "btc", "size": 1})
    assert info.value.exit_code == 2
    delisted = make_snapshot({"ATOM": "100"}, extra_meta={"ATOM": {"isDelisted": True}})
    with pytest.raises(TargetFileError, match="is delisted: it can only be reduced or closed"):
        actions_plan(delisted, {"action_type": "buy", "coin": "ATOM", "size": 10})
    assert trades(actions_plan(delisted, {"action_type": "sell", "coin": "ATOM", "size": 10}))[0][2] == Action.REDUCE


def test_an_empty_list_plans_nothing() -> None:
    p = actions_plan(btc_80_20())
    assert p.trades == () and p.document == "actions"


def test_the_original_designs_answer_carries_its_strategy_into_the_plan() -> None:
    answer = '{"selected_strategy": "balanced-growth", "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}'
    p = plan_document(Snapshot.from_raw(btc_80_20()), parse_document(answer, "a.json"), Policy())
    assert p.strategy == "balanced-growth" and p.document == "targets"
    assert [(t.coin, t.side) for t in p.trades] == [("BTC", "sell"), ("ETH", "buy")]
