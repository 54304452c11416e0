"""Planner boundaries the suite did not pin, found by mutation testing (tests/mutation.py planner).

Increases scaled down below the minimum (but not to zero), an increase scaled to exactly the
minimum, a transfer to the perp side trimmed to what the scaled increase still needs, and trades to
the band's edge whose lot lands exactly on the other edge; direct actions that cannot trade.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from hlrebal.errors import ExitCode
from hlrebal.planner import EmptyAccountError, Plan, check_document, plan, plan_document
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import parse_document, weights_from_mapping

from factories import add_dex, make_snapshot


def run(doc: dict[str, Any], weights: dict[str, Any], **policy: Any) -> Plan:
    return plan(Snapshot.from_raw(doc), weights_from_mapping(weights), Policy(**policy))


def dex_account(dex_cash: str) -> dict[str, Any]:
    # XYZ100 at $100 on a builder dex whose own margin is only ``dex_cash``: the open is scaled to it
    return add_dex(make_snapshot({}, cash="90000"), "xyz", [("XYZ100", 2, 20, "100")], cash=dex_cash)


def test_an_increase_scaled_below_the_minimum_but_not_to_zero_is_dropped_with_its_value() -> None:
    p = run(dex_account("10"), {"xyz:XYZ100": 0.05})
    assert p.trades == ()
    assert [(s.coin, s.code, s.reason) for s in p.skipped] == [
        ("xyz:XYZ100", "scaled_below_minimum", "open scaled down to $7.04, below the minimum trade value $10.00")
    ]


def test_an_increase_scaled_to_exactly_the_minimum_is_kept() -> None:
    # about $10.96 free: 0.1 at the limit of $100.50 is $10.05, the minimum trade value itself
    p = run(dex_account("13"), {"xyz:XYZ100": 0.05}, min_trade_value=D("10.05"))
    assert [(t.coin, t.size, t.limit_price) for t in p.trades] == [("xyz:XYZ100", D("0.1"), D("100.5"))]
    assert p.skipped == ()


def test_a_transfer_to_the_perp_side_is_trimmed_to_what_the_scaled_increase_needs() -> None:
    # perp USDC $100 and spot USDC $50 cannot margin all of ETH at 1x: the increase is scaled, and the
    # transfer moves only what that scaled increase needs, not all $50 the spot side has.
    p = run(make_snapshot({}, cash="100", spot={"USDC": "50"}), {"ETH": 1})
    assert [(t.coin, t.size) for t in p.trades] == [("ETH", D("0.0489"))]
    assert [(t.amount, t.to_perp, t.blocked) for t in p.transfers] == [(D("49.98"), True, False)]


def edge_plan(position: str, cash: str, target: str, band: str) -> Plan:
    # AAA at $100, one lot a whole coin: on a $1,000 account one lot is 0.1 of weight, wider than the band
    doc = make_snapshot({"AAA": (position, 1)}, cash=cash, market=[("AAA", 0, 10, "100")])
    return run(doc, {"AAA": D(target)}, band=D(band), band_relative=None, trade_to="edge")


def test_a_sell_to_the_edge_landing_exactly_on_the_far_edge_still_aims_at_the_edge() -> None:
    # band 0.40..0.46 around 0.43: the upper edge rounded down a lot is 0.40, exactly the lower edge
    p = edge_plan("7", "300", "0.43", "0.03")
    assert [(t.side, t.size, t.projected_weight) for t in p.trades] == [("sell", D(3), D("0.4"))]
    assert (p.assets[0].coin, p.assets[0].goal) == ("AAA", D("0.46"))


def test_a_buy_to_the_edge_landing_exactly_on_the_far_edge_still_aims_at_the_edge() -> None:
    # band 0.370..0.400 around 0.385: the lower edge rounded up a lot is 0.40, exactly the upper edge
    p = edge_plan("1", "900", "0.385", "0.015")
    assert [(t.side, t.size, t.projected_weight) for t in p.trades] == [("buy", D(3), D("0.4"))]
    assert (p.assets[0].coin, p.assets[0].goal) == ("AAA", D("0.370"))


def test_an_increase_on_a_position_at_1x_stays_at_1x_without_a_policy_leverage() -> None:
    p = run(make_snapshot({"ETH": ("1", 1)}, cash="10000"), {"ETH": 0.5})
    assert [(t.coin, t.action.value, t.size, t.leverage) for t in p.trades] == [("ETH", "increase", D("1.1391"), 1)]


def test_a_long_remainder_worth_the_minimum_at_the_buy_back_limit_is_kept() -> None:
    # AAA long 0.5 (less than one coin) reduced to 0.1: $10.00 at the mid, $10.05 at the buy limit
    # that would reopen it, so the remainder is not dust: only 0.4 is sold, not the whole position.
    doc = make_snapshot({"AAA": ("0.5", 1)}, cash="1000", market=[("AAA", 2, 10, "100")])
    equity = Snapshot.from_raw(doc).equity
    p = run(doc, {"AAA": D(10) / equity}, band=D(0), band_relative=None)
    assert [(t.action.value, t.side, t.size, t.limit_price) for t in p.trades] == [
        ("reduce", "sell", D("0.4"), D("99.5"))
    ]


def test_a_spot_sell_down_to_exactly_one_token_keeps_that_token() -> None:
    doc = make_snapshot({}, cash="1000", spot={"HYPE": "3"})
    equity = Snapshot.from_raw(doc).equity
    p = run(doc, {"HYPE/USDC": D("38.41") / equity}, band=D(0), band_relative=None)  # one token at its mid
    assert [(t.coin, t.action.value, t.size) for t in p.trades] == [("HYPE/USDC", "reduce", D(2))]


def test_later_rounds_replan_direct_actions_as_the_weights_their_goals_are() -> None:
    from hlrebal.planner import planning_basis
    from hlrebal.targets import parse_document

    doc = make_snapshot({"BTC": "0.1"}, cash="10000")
    snap = Snapshot.from_raw(doc)
    actions = parse_document('{"actions": [{"action_type": "buy", "coin": "ETH", "size": 1.2}]}', "a.json")
    weights, policy = planning_basis(snap, actions, Policy())
    eth = next(m for m in snap.assets.values() if m.coin == "ETH")
    assert weights.weights == {"ETH": D("1.2") * eth.reference_price / snap.equity}
    assert policy.untargeted == "keep"  # BTC, which no action names, stays as it is
    targets = weights_from_mapping({"BTC": 0.5})
    assert planning_basis(snap, targets, Policy(band=D("0.01"))) == (targets, Policy(band=D("0.01")))


def test_a_sell_whose_limit_rounds_back_to_the_reference_is_refused() -> None:
    # AAA at 12.345 (a tick of 0.001) with a slippage of 0.001%: the sell limit 12.3448... rounds up to
    # 12.345 itself, which would not match as an IOC below the book: the close is not sent.
    doc = make_snapshot({"AAA": ("10", 1)}, cash="1000", market=[("AAA", 1, 10, "12.345")])
    p = run(doc, {"AAA": 0}, slippage=D("0.00001"))
    assert p.trades == ()
    assert [(s.coin, s.code) for s in p.skipped] == [("AAA", "tick_exceeds_slippage")]


def test_a_unified_account_margins_perps_with_its_spot_usdc() -> None:
    # a unified account: the $1,000 of USDC on the spot side margins the ETH open at 1x, unscaled
    p = run(make_snapshot({}, cash="100", spot={"USDC": "1000"}, mode="unifiedAccount"), {"ETH": 0.4}, leverage=1)
    assert [(t.coin, t.size, t.leverage) for t in p.trades] == [("ETH", D("0.1311"), 1)]
    assert not p.summary.margin_scaled and p.warnings == ()


# --------------------------------------------------------------------------- direct actions


def actions_plan(doc: dict[str, Any], *actions: dict[str, Any]) -> Plan:
    snap = Snapshot.from_raw(doc)
    document = parse_document(json.dumps({"actions": list(actions)}), "actions.json")
    check_document(snap, document, Policy())
    return plan_document(snap, document, Policy())


def test_actions_that_cannot_trade_say_why_beside_the_holdings_they_keep() -> None:
    doc = make_snapshot({"BTC": "0.1"}, cash="1000", spot={"USDC": "100", "HYPE": "4"}, spot_hold={"HYPE": "4"})
    p = actions_plan(
        doc,
        {"action_type": "sell", "coin": "HYPE/USDC", "size": 1},  # all 4 HYPE are on hold
        {"action_type": "buy", "coin": "ETH", "size": 0.00001},
    )
    assert p.trades == () and p.warnings == ()
    assert [(s.coin, s.code, s.reason) for s in p.skipped] == [
        ("HYPE/USDC", "nothing_to_sell", "sell 1 HYPE/USDC: no free HYPE to sell"),
        ("ETH", "below_lot", "buy 0.00001 ETH is smaller than one lot (0.0001 ETH)"),
        ("BTC", "untargeted_kept", "not named by the actions; kept"),
    ]
    assert p.document == "actions"


def test_actions_on_an_account_without_equity_are_refused() -> None:
    with pytest.raises(EmptyAccountError) as info:
        actions_plan(make_snapshot({}, cash="0"), {"action_type": "buy", "coin": "ETH", "size": 1})
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert info.value.message == f"account 0x{'1' * 40} has no equity (0 USDC) on testnet"
    assert info.value.hint == "an API wallet's address holds nothing: use the account's own address (--address)"


# ---- Plan.empty_reason: why a plan without trades has none (the run's last words say it)


def _empty_plan(statuses: list[tuple[str, str]], skips: list[str], document: str = "targets") -> Plan:
    from hlrebal.planner.models import AssetLine, Skip
    from hlrebal.snapshot import load_snapshot
    from hlrebal.targets import parse_targets

    base = plan(
        load_snapshot("hlrebal/data/demo_snapshot.json"),
        parse_targets('{"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}', "t"),
        Policy(min_trade_value=D("12.5")),
    )
    assets = tuple(
        AssetLine(coin=coin, kind="cash" if status == "cash" else "perp", current_weight=D(0), target_weight=D(0),
                  projected_weight=D(0), status=status)  # type: ignore[arg-type]
        for coin, status in statuses
    )  # fmt: skip
    skipped = tuple(Skip(coin=f"C{i}", code=code, reason="r") for i, code in enumerate(skips))
    return base.model_copy(update={"assets": assets, "skipped": skipped, "document": document, "trades": ()})


@pytest.mark.parametrize(
    ("statuses", "skips", "document", "code", "phrase"),
    [
        ([("USDC", "cash"), ("BTC", "flat"), ("ETH", "kept")], [], "targets", "at_targets",
         "the account is at its targets"),
        ([("USDC", "cash")], ["untargeted_kept"], "actions", "no_action", "the document asks for no action"),
        ([("BTC", "flat")], [], "actions", "no_action", "the document asks for no action"),
        ([("BTC", "skipped")], ["untargeted_kept", "below_lot"], "actions", "untradable",
         "none of the actions can be traded as asked"),
        ([("BTC", "within_band"), ("ETH", "within_band"), ("USDC", "cash")], [], "targets", "within_bands",
         "every asset is within its band"),
        ([("BTC", "within_band"), ("ETH", "skipped")], ["below_minimum"], "targets", "below_minimum",
         "what is left to trade is below the minimum trade value ($12.50)"),
        ([("ETH", "skipped")], ["scaled_below_minimum"], "targets", "below_minimum",
         "what is left to trade is below the minimum trade value ($12.50)"),
        ([("ETH", "skipped")], ["below_lot"], "targets", "below_lot", "what is left to trade is smaller than one lot"),
        ([("ETH", "skipped")], ["below_lot", "below_minimum"], "targets", "below_minimum",
         "what is left to trade is below the minimum trade value ($12.50)"),
        ([("ETH", "skipped")], ["unpriced"], "targets", "untradable", "no asset that is off its target can be traded"),
    ],
)  # fmt: skip
def test_an_empty_plan_says_why_it_is_empty(
    statuses: list[tuple[str, str]], skips: list[str], document: str, code: str, phrase: str
) -> None:
    assert _empty_plan(statuses, skips, document).empty_reason() == (code, phrase)
