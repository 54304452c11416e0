"""Hypothesis properties of the planner over the account shapes real users have.

The accounts drawn hold perps long and short, cross and isolated, at any leverage; often spot tokens
(some of them on hold for open orders) in a standard or a unified account; sometimes a position in a
coin without any usable price, resting orders, or a builder-deployed dex with its own clearinghouse.
Where a property needs margin or exposure it recomputes it on its own: margin by filling the plan on
the simulator's books (hlrebal.sim, written from the exchange's rules, not the planner's), exposure
from the snapshot's positions and the plan's trades, never from the plan's own summary.
"""

from __future__ import annotations

import os
from decimal import Decimal as D
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hlrebal.market import MIN_ORDER_VALUE, SPOT_TAKER_FEE, is_valid_price, is_valid_size, lot_size, round_size
from hlrebal.planner import Plan, plan
from hlrebal.policy import Policy
from hlrebal.sim import ledger
from hlrebal.sim.accounts import LeverageSetting
from hlrebal.sim.config import SimConfig
from hlrebal.sim.seed import build_engine
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Targets, weights_from_mapping

from factories import USER, add_dex, make_snapshot

NAMES = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "kGGG", "HHH"]
SPOT_PRICES = {"@107": ["38.41", "0.5123", "1234.5"], "PURR/USDC": ["0.18123", "0.001234", "2.5"]}
Scenario = tuple[dict[str, Any], Targets, Policy]


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
def perp_book(
    draw: st.DrawFn, names: list[str], equity: D
) -> tuple[list[tuple[str, int, int, str]], dict[str, tuple[str, int, bool]], D]:
    """A perp market of ``names`` and positions in some of them: long or short, cross or isolated."""
    market = []
    for name in names:
        szd = draw(st.integers(min_value=0, max_value=5))
        market.append((name, szd, draw(st.sampled_from([3, 5, 10, 20, 50])), str(draw(prices(szd)))))
    positions: dict[str, tuple[str, int, bool]] = {}
    invested = D(0)
    for name, szd, max_lev, px in market:
        if draw(st.booleans()):
            w = D(draw(st.integers(min_value=-150, max_value=150))) / 100
            size = round_size(w * equity / D(px), szd)
            if size != 0:
                lev = draw(st.integers(min_value=1, max_value=max_lev))
                positions[name] = (str(size), lev, draw(st.booleans()))
                invested += size * D(px)
    return market, positions, invested


@st.composite
def policies(draw: st.DrawFn, max_leverage: D) -> Policy:
    return Policy(
        band=D(draw(st.sampled_from(["0", "0.01", "0.02", "0.05", "0.1"]))),
        band_relative=draw(st.sampled_from([None, D("0.1"), D("0.25"), D("1")])),
        trade_to=draw(st.sampled_from(["target", "edge"])),
        untargeted=draw(st.sampled_from(["close", "keep"])),
        untargeted_spot=draw(st.sampled_from(["keep", "close"])),
        min_trade_value=D(draw(st.sampled_from([10, 10, 25, 100]))),
        slippage=D(draw(st.sampled_from(["0.001", "0.005", "0.01", "0.02"]))),
        max_leverage=max_leverage,
        leverage=draw(st.sampled_from([None, 1, 3, 10])),
    )


def _fit_gross(weights: dict[str, D], max_leverage: D) -> dict[str, D]:
    gross = sum((abs(w) for w in weights.values()), D(0))
    if gross <= max_leverage:
        return weights
    return {k: (v * max_leverage / gross).quantize(D("0.0001"), rounding="ROUND_DOWN") for k, v in weights.items()}


@st.composite
def accounts(draw: st.DrawFn) -> Scenario:
    """A whole account: perps, and often spot, an unpriced position, open orders or a builder dex."""
    names = NAMES[: draw(st.integers(min_value=1, max_value=len(NAMES) - 1))]
    equity = D(draw(st.integers(min_value=20, max_value=10_000_000)))
    market, positions, invested = draw(perp_book(names, equity))
    max_leverage = D(draw(st.sampled_from(["1", "1.5", "2", "3"])))
    weights: dict[str, D] = {}
    for name, *_ in market:
        if draw(st.booleans()):
            weights[name] = D(draw(st.integers(min_value=-100, max_value=100))) / 100

    # A coin the exchange lists without a mid or a mark (a target for it cannot trade; a position
    # in it is valued at what the clearinghouse reports), or a position in a coin it does not list
    # (still counted, at that value, in exposure and margin).
    odd = draw(st.sampled_from(["", "no_price", "unlisted"]))
    if odd:
        name = NAMES[-1]
        market.append((name, 2, 10, "50"))
        w = D(draw(st.integers(min_value=-60, max_value=60))) / 100
        size = round_size(w * equity / 50, 2)
        if size != 0 and (odd == "unlisted" or draw(st.booleans())):
            positions[name] = (str(size), draw(st.sampled_from([1, 5, 10])), draw(st.booleans()))
            invested += size * 50
        if odd == "no_price" and draw(st.booleans()):
            weights[name] = w

    spot: dict[str, str] | None = None
    hold: dict[str, str] = {}
    spot_prices: dict[str, str] = {}
    mode: str | None = None
    spot_usdc = D(0)
    if draw(st.booleans()):
        spot_prices = {wire: draw(st.sampled_from(options)) for wire, options in SPOT_PRICES.items()}
        hype = D(draw(st.integers(0, 20_000))) * equity / D(1_000_000) / D(spot_prices["@107"])
        purr = D(draw(st.integers(0, 20_000))) * equity / D(1_000_000) / D(spot_prices["PURR/USDC"])
        hype, purr = round_size(hype, 2), round_size(purr, 0)
        spot_usdc = D(draw(st.integers(0, 100))) * equity / 100
        spot = {"USDC": str(spot_usdc), "HYPE": str(hype), "PURR": str(purr)}
        if hype > 0 and draw(st.booleans()):
            hold["HYPE"] = str(round_size(hype * D(draw(st.integers(1, 100))) / 100, 2))
        if draw(st.booleans()):
            hold["USDC"] = str((spot_usdc * D(draw(st.integers(0, 50))) / 100).quantize(D("0.01"), "ROUND_DOWN"))
        for pair in ("HYPE/USDC", "PURR/USDC"):
            if draw(st.booleans()):
                weights[pair] = D(draw(st.integers(min_value=0, max_value=40))) / 100
        if draw(st.booleans()):
            mode = "unifiedAccount"

    open_orders = []
    if positions and draw(st.booleans()):
        coin = sorted(positions)[0]
        px = dict((m[0], m[3]) for m in market)[coin]
        open_orders.append({"coin": coin, "limitPx": px, "oid": 5, "side": "B", "sz": "1", "timestamp": 1})

    weights = _fit_gross(weights, max_leverage)
    # Unified accounts keep the perp side's value in the spot USDC balance; perp USDC reads ~0.
    perp_cash = -invested if mode else equity - invested - spot_usdc
    prices_now = {NAMES[-1]: None} if odd == "no_price" else None
    doc = make_snapshot(
        positions,
        cash=str(perp_cash),
        market=market,
        prices=prices_now,
        open_orders=open_orders,
        spot=spot,
        spot_prices=spot_prices,
        spot_hold=hold,
        mode=mode,
    )
    if odd == "no_price":
        doc["metaAndAssetCtxs"][1][len(market) - 1]["markPx"] = None  # no mark either
    elif odd == "unlisted":
        del doc["metaAndAssetCtxs"][0]["universe"][-1], doc["metaAndAssetCtxs"][1][-1]
    if draw(st.booleans()):
        dex_market = [("XYZ100", 2, 20, "25000"), ("GOLD", 3, 10, "2650.5")]
        dex_positions = {"XYZ100": ("0.2", 5, draw(st.booleans()))} if draw(st.booleans()) else {}
        add_dex(doc, "xyz", dex_market, dex_positions, cash=str(D(draw(st.integers(0, 20))) * equity / 100))
        for coin in ("xyz:XYZ100", "xyz:GOLD"):
            if draw(st.booleans()):
                weights[coin] = D(draw(st.integers(min_value=-20, max_value=20))) / 100
        weights = _fit_gross(weights, max_leverage)
    if not weights:
        weights = {"USDC": D(1)}
    return doc, weights_from_mapping(weights), draw(policies(max_leverage))


@st.composite
def perp_accounts(draw: st.DrawFn) -> Scenario:
    """Perps only (long and short, cross and isolated), for the properties that re-plan."""
    names = NAMES[: draw(st.integers(min_value=1, max_value=len(NAMES)))]
    equity = D(draw(st.integers(min_value=20, max_value=10_000_000)))
    market, positions, invested = draw(perp_book(names, equity))
    max_leverage = D(draw(st.sampled_from(["1", "1.5", "2", "3"])))
    weights = {
        name: D(draw(st.integers(min_value=-100, max_value=100))) / 100 for name, *_ in market if draw(st.booleans())
    }
    weights = _fit_gross(weights, max_leverage) or {"USDC": D(1)}
    doc = make_snapshot(positions, cash=str(equity - invested), market=market)
    return doc, weights_from_mapping(weights), draw(policies(max_leverage))


def planned(s: Scenario) -> tuple[Snapshot, Plan]:
    doc, targets, policy = s
    snap = Snapshot.from_raw(doc)
    assume(snap.equity > 0)
    return snap, plan(snap, targets, policy)


# PLANNER_EXAMPLES=5000 pytest tests/test_planner_properties.py  for a longer search
COMMON = settings(
    max_examples=int(os.environ.get("PLANNER_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@COMMON
@given(accounts())
def test_plans_are_deterministic(s: Scenario) -> None:
    _, p = planned(s)
    assert plan(Snapshot.from_raw(s[0]), s[1], s[2]) == p


@COMMON
@given(accounts())
def test_orders_are_on_the_exchange_grids_and_marketable_within_the_slippage(s: Scenario) -> None:
    snap, p = planned(s)
    slip = s[2].slippage
    for t in p.trades:
        spot = t.kind == "spot"
        assert is_valid_size(t.size, t.sz_decimals), t
        assert is_valid_price(t.limit_price, t.sz_decimals, spot=spot), t
        market = snap.market_of(t.coin)
        assert market is not None and t.sz_decimals == market.sz_decimals and t.asset_id == market.asset_id
        assert t.reference_price == market.reference_price
        if t.side == "buy":
            assert t.reference_price < t.limit_price <= t.reference_price * (1 + slip)
        else:
            assert t.reference_price * (1 - slip) <= t.limit_price < t.reference_price


@COMMON
@given(accounts())
def test_reductions_never_exceed_what_is_held(s: Scenario) -> None:
    snap, p = planned(s)
    for t in p.trades:
        if t.reduce_only:
            pos = snap.positions[t.coin]
            assert t.size <= abs(pos.szi)
            assert (t.side == "sell") == (pos.szi > 0)
        if t.kind == "spot" and t.side == "sell":
            token = t.coin.split("/")[0]
            assert t.size <= snap.spot_balances[token].free  # what open orders hold cannot be sold


@COMMON
@given(accounts())
def test_phase_1_before_phase_2_each_largest_first(s: Scenario) -> None:
    _, p = planned(s)
    trades = p.trades
    phases = [t.phase for t in trades]
    assert phases == sorted(phases)
    assert all(t.reduce_only == (t.phase == 1 and t.kind == "perp") for t in trades)
    for n in (1, 2):
        keys = [(-t.notional, t.coin) for t in trades if t.phase == n]
        assert keys == sorted(keys)


@COMMON
@given(accounts())
def test_no_order_below_the_minimum_except_whole_perp_closes(s: Scenario) -> None:
    snap, p = planned(s)
    for t in p.trades:
        assert t.notional == t.size * t.limit_price
        if t.notional < s[2].min_trade_value:
            assert t.kind == "perp" and t.reduce_only and t.size == abs(snap.positions[t.coin].szi), t
        assert t.dust == (t.notional < MIN_ORDER_VALUE)


def exposure(snap: Snapshot, p: Plan) -> dict[str, D]:
    """Gross and net exposure before and after the plan, from the snapshot and the trades: every
    position at its reference price (or, without a market, at the value the clearinghouse reports),
    every priced spot token at its pair's price; a spot buy arrives less its fee."""
    change: dict[str, D] = {}
    ref: dict[str, D] = {}
    for t in p.trades:
        received = t.size * (1 - SPOT_TAKER_FEE) if t.kind == "spot" and t.side == "buy" else t.signed_size
        change[t.coin] = change.get(t.coin, D(0)) + received
        ref[t.coin] = t.reference_price
    held: list[tuple[D, D, D | None]] = []  # (size before, size after, price; None: value as reported)
    for coin, pos in snap.positions.items():
        market = snap.assets.get(coin)
        price = market.reference_price if market is not None else None
        if price is None:
            signed = pos.position_value if pos.szi > 0 else -pos.position_value
            held.append((signed, signed, None))
        else:
            held.append((pos.szi, pos.szi + change.pop(coin, D(0)), price))
    for token, balance in snap.spot_balances.items():
        pair = snap.spot_assets.get(f"{token}/USDC")
        if token != "USDC" and pair is not None and pair.reference_price is not None:
            held.append((balance.total, balance.total + change.pop(pair.coin, D(0)), pair.reference_price))
    held += [(D(0), size, ref[coin]) for coin, size in change.items()]  # new positions
    out = dict.fromkeys(("gross_before", "gross_after", "net_before", "net_after"), D(0))
    for before, after, price in held:
        px = price if price is not None else D(1)
        out["gross_before"] += abs(before) * px
        out["gross_after"] += abs(after) * px
        out["net_before"] += before * px
        out["net_after"] += after * px
    return {k: v / snap.equity for k, v in out.items()}


@COMMON
@given(accounts())
def test_gross_exposure_after_stays_within_max_leverage(s: Scenario) -> None:
    snap, p = planned(s)
    seen = exposure(snap, p)
    for key, value in seen.items():  # the plan reports what it does
        assert abs(value - getattr(p.summary, key)) < D("1e-20"), key
    before, after = seen["gross_before"], seen["gross_after"]
    if p.phase(2):
        assert after <= s[2].max_leverage
    else:
        # Only reductions: exposure never grows (positions inside their band or kept stay as they are,
        # and a reduction rounded to the nearest lot may leave up to half a lot above its target).
        assert after <= max(s[2].max_leverage, before)


def fill_on_the_sim(doc: dict[str, Any], snap: Snapshot, p: Plan) -> tuple[dict[str, D], D]:
    """Fill every trade at its reference price on the simulator's books, the transfers between the
    phases; the margin each clearinghouse has left ("" the main one) and the spot USDC left free."""
    if snap.unified and "userAbstraction" not in doc:  # the mode the snapshot read from the balances
        doc = {**doc, "userAbstraction": "unifiedAccount"}
    # The simulator cannot hold a position in a coin it does not list: leave it out, and take the
    # margin the clearinghouse says it holds off what is available.
    unlisted = [c for c in snap.positions if c not in snap.assets]
    state = doc["clearinghouseState"]
    kept = [a for a in state["assetPositions"] if a["position"]["coin"] not in unlisted]
    doc = {**doc, "clearinghouseState": {**state, "assetPositions": kept}}
    engine = build_engine(doc, SimConfig(), clock=lambda: 0)
    acct = engine.account(USER)
    assert acct is not None
    market = engine.market

    def fill(t: Any) -> None:
        if t.kind == "spot":
            pair = market.pair_by_name[snap.spot_assets[t.coin].wire]
            rate = ledger.fee_rate(acct, engine.config, True, False)
            ledger.apply_spot(acct, pair, t.is_buy, t.size, t.reference_price, rate)
            return
        asset = market.perp_by_name[t.coin]
        book = engine.book(acct, asset)
        if t.leverage is not None:  # the executor sets the leverage the increase is margined at
            book.leverage[t.coin] = LeverageSetting(t.leverage, t.is_cross)
        rate = engine.perp_fee_rate(acct, asset, False)
        ledger.apply_perp(book, asset, t.is_buy, t.size, t.reference_price, rate, engine.config.default_leverage)

    for t in p.phase(1):
        fill(t)
    for transfer in p.transfers:
        if not transfer.blocked:
            moved = transfer.amount if transfer.to_perp else -transfer.amount
            acct.perp_raw += moved
            acct.spot["USDC"] = acct.spot.get("USDC", D(0)) - moved
    for t in p.phase(2):
        fill(t)
    # Resting orders are warned about, not margined by the plan: leave them out of the check.
    margin = {"": engine.available(acct, []) - sum((snap.positions[c].margin_used for c in unlisted), D(0))}
    for name in snap.dexes:
        book = acct.clearinghouse(name)
        assert book is not None
        margin[name] = engine.available(book, [])
    held = snap.spot_balances["USDC"].hold if "USDC" in snap.spot_balances else D(0)
    return margin, acct.spot.get("USDC", D(0)) - held


@COMMON
@given(accounts())
def test_the_simulator_has_the_margin_and_cash_for_phase_2(s: Scenario) -> None:
    """The exchange refuses an increase that leaves negative available margin; a spot buy needs
    the USDC. Filled on the simulator's books, the plan's phase 2 never runs short."""
    snap, p = planned(s)
    margin, spot_usdc = fill_on_the_sim(s[0], snap, p)
    perp_buys = {t.coin.split(":")[0] if ":" in t.coin else "" for t in p.phase(2) if t.kind == "perp"}
    for dex in perp_buys:
        assert margin[dex] >= 0, (dex, margin, p.trades)
    if any(t.kind == "spot" for t in p.phase(2)):
        if snap.unified:
            assert margin[""] >= 0, (margin, p.trades)
        else:
            assert spot_usdc >= 0, (spot_usdc, p.trades, p.transfers)


@COMMON
@given(accounts())
def test_transfers_move_only_what_the_other_side_can_spare(s: Scenario) -> None:
    snap, p = planned(s)
    assert len(p.transfers) <= 1
    for t in p.transfers:
        assert t.amount > 0 and t.amount == t.amount.quantize(D("0.01"))
        assert not snap.unified


@COMMON
@given(perp_accounts())
def test_planning_again_from_the_projected_portfolio_gives_no_trades(s: Scenario) -> None:
    _, targets, policy = s
    snap, first = planned(s)
    assume(not first.summary.margin_scaled and not first.summary.gross_capped)
    sizes = {c: p.szi for c, p in snap.positions.items()}
    levs = {c: (p.leverage, p.is_cross) for c, p in snap.positions.items()}
    for t in first.trades:
        sizes[t.coin] = sizes.get(t.coin, D(0)) + t.signed_size
        levs.setdefault(t.coin, (t.leverage or 1, t.is_cross))
    market = [(a.coin, a.sz_decimals, a.max_leverage, str(a.mid)) for a in snap.assets.values()]
    positions = {c: (str(sz), *levs[c]) for c, sz in sizes.items() if sz != 0}
    invested = sum((sz * snap.assets[c].mid for c, sz in sizes.items()), D(0))  # type: ignore[operator]
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
