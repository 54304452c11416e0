"""Hypothesis properties of the planner over a wide range of markets, accounts and policies."""

from __future__ import annotations

import os
from decimal import Decimal as D
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hlrebal.market import MIN_ORDER_VALUE, is_valid_price, is_valid_size, lot_size, round_size
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Targets, weights_from_mapping

from factories import make_snapshot

NAMES = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "kGGG", "HHH"]


@st.composite
def prices(draw: st.DrawFn, sz_decimals: int) -> D:
    """A price between 1e-6 and 1e6 with up to 6 significant digits (mids may be half-ticks).

    The lot (10**-szDecimals) is kept worth at most $10 and at least $1e-8, as on the exchange,
    where szDecimals are chosen so that one lot is a small amount of money.
    """
    lo = max(-6, -8 + sz_decimals)
    hi = min(6, 1 + sz_decimals)
    exponent = draw(st.integers(min_value=lo, max_value=hi - 1))
    digits = draw(st.integers(min_value=100_000, max_value=999_999))
    return (D(digits) * D(10) ** (exponent - 5)).normalize()


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], Targets, Policy]:
    n = draw(st.integers(min_value=1, max_value=len(NAMES)))
    names = NAMES[:n]
    market = []
    for name in names:
        szd = draw(st.integers(min_value=0, max_value=5))
        market.append((name, szd, draw(st.sampled_from([3, 5, 10, 20, 50])), str(draw(prices(szd)))))
    equity = D(draw(st.integers(min_value=20, max_value=10_000_000)))
    positions: dict[str, tuple[str, int, bool]] = {}
    invested = D(0)
    for name, szd, max_lev, px in market:
        if draw(st.booleans()):
            w = D(draw(st.integers(min_value=-150, max_value=150))) / 100
            size = round_size(w * equity / D(px), szd)
            if size != 0:
                lev = draw(st.integers(min_value=1, max_value=max_lev))
                positions[name] = (str(size), lev, draw(st.booleans()) or True)
                invested += size * D(px)
    max_leverage = D(draw(st.sampled_from(["1", "1.5", "2", "3"])))
    weights: dict[str, D] = {}
    for name, *_ in market:
        if draw(st.booleans()):
            weights[name] = D(draw(st.integers(min_value=-100, max_value=100))) / 100
    gross = sum((abs(w) for w in weights.values()), D(0))
    if gross > max_leverage:
        weights = {
            k: (v * max_leverage / gross).quantize(D("0.0001"), rounding="ROUND_DOWN") for k, v in weights.items()
        }
    if not weights:
        weights = {"USDC": D(1)}
    band = D(draw(st.sampled_from(["0", "0.01", "0.02", "0.05", "0.1"])))
    policy = Policy(
        band=band,
        band_relative=draw(st.sampled_from([None, D("0.1"), D("0.25"), D("1")])),
        trade_to=draw(st.sampled_from(["target", "edge"])),
        untargeted=draw(st.sampled_from(["close", "keep"])),
        min_trade_value=D(draw(st.sampled_from([10, 10, 25, 100]))),
        slippage=D(draw(st.sampled_from(["0.001", "0.005", "0.01", "0.02"]))),
        max_leverage=max_leverage,
        leverage=draw(st.sampled_from([None, 1, 3, 10])),
    )
    doc = make_snapshot(positions, cash=str(equity - invested), market=market)
    return doc, weights_from_mapping(weights), policy


# PLANNER_EXAMPLES=5000 pytest tests/test_planner_properties.py  for a longer search
COMMON = settings(
    max_examples=int(os.environ.get("PLANNER_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@COMMON
@given(scenarios())
def test_plans_are_deterministic(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    assert plan(Snapshot.from_raw(doc), targets, policy) == plan(Snapshot.from_raw(doc), targets, policy)


@COMMON
@given(scenarios())
def test_orders_are_on_the_exchange_grids(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    snap = Snapshot.from_raw(doc)
    for t in plan(snap, targets, policy).trades:
        assert is_valid_size(t.size, t.sz_decimals), t
        assert is_valid_price(t.limit_price, t.sz_decimals), t
        slip = policy.slippage
        # marketable, and never beyond the slippage bound
        if t.side == "buy":
            assert t.reference_price < t.limit_price <= t.reference_price * (1 + slip)
        else:
            assert t.reference_price * (1 - slip) <= t.limit_price < t.reference_price


@COMMON
@given(scenarios())
def test_reduce_only_never_exceeds_the_position(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    snap = Snapshot.from_raw(doc)
    for t in plan(snap, targets, policy).trades:
        if t.reduce_only:
            pos = snap.positions[t.coin]
            assert t.size <= abs(pos.szi)
            assert (t.side == "sell") == (pos.szi > 0)


@COMMON
@given(scenarios())
def test_phase_1_before_phase_2_largest_first(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    trades = plan(Snapshot.from_raw(doc), targets, policy).trades
    phases = [t.phase for t in trades]
    assert phases == sorted(phases)
    assert all(t.reduce_only == (t.phase == 1) for t in trades)
    for n in (1, 2):
        keys = [(-t.notional, t.coin) for t in trades if t.phase == n]
        assert keys == sorted(keys)


@COMMON
@given(scenarios())
def test_no_order_below_the_minimum_except_whole_closes(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    snap = Snapshot.from_raw(doc)
    for t in plan(snap, targets, policy).trades:
        if t.notional < policy.min_trade_value:
            assert t.reduce_only and t.size == abs(snap.positions[t.coin].szi), t
        assert t.dust == (t.notional < MIN_ORDER_VALUE)


@COMMON
@given(scenarios())
def test_gross_exposure_after_stays_within_max_leverage(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    snap = Snapshot.from_raw(doc)
    p = plan(snap, targets, policy)
    if p.phase(2):
        assert p.summary.gross_after <= policy.max_leverage
    else:
        # Only reductions: exposure never grows (positions inside their band or kept stay as they are,
        # and a reduction rounded to the nearest lot may leave up to half a lot above its target).
        assert p.summary.gross_after <= max(policy.max_leverage, p.summary.gross_before)


@COMMON
@given(scenarios())
def test_phase_2_fits_the_margin_left_after_phase_1(s: tuple[dict[str, Any], Targets, Policy]) -> None:
    doc, targets, policy = s
    p = plan(Snapshot.from_raw(doc), targets, policy)
    if p.phase(2):
        assert p.summary.margin_required <= max(p.summary.margin_available, D(0))


@COMMON
@given(scenarios())
def test_planning_again_from_the_projected_portfolio_gives_no_trades(
    s: tuple[dict[str, Any], Targets, Policy],
) -> None:
    doc, targets, policy = s
    snap = Snapshot.from_raw(doc)
    first = plan(snap, targets, policy)
    assume(not first.summary.margin_scaled and not first.summary.gross_capped)
    sizes = {c: p.szi for c, p in snap.positions.items()}
    levs = {c: (p.leverage, p.is_cross) for c, p in snap.positions.items()}
    for t in first.trades:
        sizes[t.coin] = sizes.get(t.coin, D(0)) + t.signed_size
        levs.setdefault(t.coin, (t.leverage or 1, t.is_cross))
    market = [(a.coin, a.sz_decimals, a.max_leverage, str(a.mid)) for a in snap.assets.values()]
    positions = {c: (str(sz), *levs[c]) for c, sz in sizes.items() if sz != 0}
    invested = sum((sz * snap.assets[c].mid for c, sz in sizes.items()), D(0))
    again_doc = make_snapshot(positions, cash=str(snap.equity - invested), market=market)
    again = plan(Snapshot.from_raw(again_doc), targets, policy)
    assert again.trades == (), (first.trades, again.trades)


@settings(max_examples=200, deadline=None)
@given(
    szd=st.integers(min_value=0, max_value=5),
    units=st.integers(min_value=1, max_value=10**9),
)
def test_lot_grid_rounding_error_is_at_most_half_a_lot(szd: int, units: int) -> None:
    raw = D(units) / D(997)  # arbitrary, off-grid
    rounded = round_size(raw, szd)
    assert abs(rounded - raw) <= lot_size(szd) / 2
