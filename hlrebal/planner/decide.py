"""Step 1, decide: per asset, whether it trades, to what size, and with which orders.

For every perp coin and spot pair the plan looks at (the targets, then held positions and tokens
the targets do not name, then the goals of a later execution round) this step measures the current
weight at the reference price, applies the band (or its relative form), picks the size to trade to
(the target, or the band's edge in ``edge`` mode, on the lot grid), and turns the change into legs:
an open, an increase, a reduction, a whole close (also of a remainder too small to trade later), or
a flip as a close plus an open. Legs below the minimum value are skipped with the reason, except a
reduce-only close of a whole perp position, which is kept and marked as dust below $10.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal, NamedTuple

from hlrebal.market import MIN_ORDER_VALUE, Rounding, fmt_decimal, round_size
from hlrebal.planner.legs import ZERO, Leg, perp_legs, signed_w4, spot_legs, usd, w4
from hlrebal.planner.models import Action, AssetLine, AssetStatus, Skip
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, Snapshot
from hlrebal.targets import CASH, Targets
from hlrebal.values import Value, value_class


@value_class
class Inputs(Value):
    """What every per-asset decision reads: the account, its targets, the policy, pinned goals."""

    snapshot: Snapshot
    policy: Policy
    equity: Decimal
    goals: Mapping[str, Decimal]
    perp_targets: Mapping[str, Decimal]
    spot_targets: Mapping[str, Decimal]
    """Spot targets keyed by "BASE/USDC", whatever alias the file used."""


class AssetDecision(NamedTuple):
    """What was decided for one asset: its weight line, its legs, and what was said about it."""

    line: AssetLine
    legs: tuple[Leg, ...] = ()
    skips: tuple[Skip, ...] = ()
    warnings: tuple[str, ...] = ()
    holding: Decimal | None = None
    """Position size or token balance, for assets with a usable price (None otherwise)."""
    ref: Decimal | None = None
    kind: Literal["perp", "spot"] = "perp"


class Decisions:
    """Every asset's decision, gathered in planning order (a plain class: a dataclass costs every
    start about 0.5 ms to build)."""

    def __init__(self) -> None:
        self.legs: list[Leg] = []
        self.skipped: list[Skip] = []
        self.lines: dict[str, AssetLine] = {}
        self.warnings: list[str] = []
        self.ref_of: dict[str, Decimal] = {}
        """Reference price of every priced asset the plan looked at."""
        self.current: dict[str, Decimal] = {}
        """Holding (perp size or spot balance) of every priced asset."""
        self.kind_of: dict[str, Literal["perp", "spot"]] = {}

    def add(self, coin: str, d: AssetDecision) -> None:
        self.lines[coin] = d.line
        self.legs.extend(d.legs)
        self.skipped.extend(d.skips)
        self.warnings.extend(d.warnings)
        if d.ref is not None and d.holding is not None:
            self.ref_of[coin] = d.ref
            self.current[coin] = d.holding
            self.kind_of[coin] = d.kind


class _Aim(NamedTuple):
    """The size an asset trades to, and the weights that explain it."""

    desired: Decimal
    target_weight: Decimal
    threshold: Decimal
    goal: Decimal


def decide(
    snapshot: Snapshot, targets: Targets, policy: Policy, goals: Mapping[str, Decimal], equity: Decimal
) -> Decisions:
    """Decide every asset: perps first (targets, then untargeted positions, then goals), then spot."""
    perp_targets, spot_targets = split_targets(snapshot, targets)
    inputs = Inputs(
        snapshot=snapshot,
        policy=policy,
        equity=equity,
        goals=goals,
        perp_targets=perp_targets,
        spot_targets=spot_targets,
    )
    out = Decisions()
    for coin in perp_coins(inputs):
        out.add(coin, decide_perp(inputs, coin))
    for pair in spot_pairs(inputs):
        out.add(pair, decide_spot(inputs, pair))
    return out


def split_targets(snapshot: Snapshot, targets: Targets) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Target weights by perp name and by spot pair ("BASE/USDC", whatever alias was written)."""
    perp: dict[str, Decimal] = {}
    spot: dict[str, Decimal] = {}
    for key, weight in targets.weights.items():
        if key in snapshot.assets or key not in snapshot.spot_aliases:
            perp[key] = weight
        else:
            spot[snapshot.spot_aliases[key]] = weight
    return perp, spot


def perp_coins(inputs: Inputs) -> list[str]:
    coins = list(inputs.perp_targets)
    targeted = set(coins)
    positions = inputs.snapshot.positions
    coins += sorted(c for c in positions if c not in targeted)
    coins += sorted(c for c in inputs.goals if c not in targeted and c not in positions and "/" not in c)
    return coins


def spot_pairs(inputs: Inputs) -> list[str]:
    pairs = list(inputs.spot_targets)
    seen = set(pairs)
    for token, balance in sorted(inputs.snapshot.spot_balances.items()):
        if token == CASH or balance.total == 0:
            continue
        pair = f"{token}/{CASH}"
        if pair not in seen:
            pairs.append(pair)
            seen.add(pair)
    pairs += sorted(p for p in inputs.goals if "/" in p and p not in seen)
    return pairs


def decide_perp(inputs: Inputs, coin: str) -> AssetDecision:
    """One perp coin: its line, and the legs that take it to its aim."""
    position = inputs.snapshot.positions.get(coin)
    szi = position.szi if position is not None else ZERO
    market = inputs.snapshot.assets.get(coin)
    ref = market.reference_price if market is not None else None
    target = inputs.perp_targets.get(coin)
    if market is None or ref is None:
        why = "not in the exchange's universe" if market is None else "no usable price (no mid or mark)"
        value = position.position_value if position is not None else ZERO
        weight = (value if szi > 0 else -value) / inputs.equity
        return AssetDecision(
            line=line(coin, weight, target, weight, None, "skipped"),
            skips=(Skip(coin=coin, code="no_price" if market else "unknown", reason=why),),
        )
    w0 = szi * ref / inputs.equity
    aim = _aim(inputs, coin, market, szi, ref, w0, target, untargeted=inputs.policy.untargeted)
    if not isinstance(aim, _Aim):
        return AssetDecision(line=aim.line, skips=aim.skips, holding=szi, ref=ref, kind="perp")
    legs = perp_legs(market, position, szi, aim.desired, ref, inputs.policy)
    return _admit(inputs.policy, coin, market, legs, w0, aim, ref, holding=szi)


def decide_spot(inputs: Inputs, pair: str) -> AssetDecision:
    """One spot pair: its line, and the buy or sell that takes the balance to its aim."""
    snapshot = inputs.snapshot
    market = snapshot.spot_assets.get(pair)
    target = inputs.spot_targets.get(pair)
    token = pair.split("/")[0]
    balance = snapshot.spot_balances.get(token)
    total = balance.total if balance is not None else ZERO
    free = balance.free if balance is not None else ZERO
    ref = market.reference_price if market is not None else None
    if market is None or ref is None:
        why = "no USDC market for this token" if market is None else "no usable price (no mid or mark)"
        return AssetDecision(
            line=line(pair, ZERO, target, ZERO, None, "skipped", None, "spot"),
            skips=(Skip(coin=pair, code="no_price" if market else "unknown", reason=why),),
        )
    w0 = total * ref / inputs.equity
    aim = _aim(inputs, pair, market, total, ref, w0, target, untargeted=inputs.policy.untargeted_spot)
    if not isinstance(aim, _Aim):
        return AssetDecision(line=aim.line, skips=aim.skips, holding=total, ref=ref, kind="spot")
    legs = spot_legs(market, total, free, aim.desired, ref, inputs.policy)
    warnings: tuple[str, ...] = ()
    if aim.desired < total and free < total and legs:
        warnings = (f"{pair}: {fmt_decimal(total - free)} {token} is on hold (open orders) and cannot be sold now",)
    decided = _admit(inputs.policy, pair, market, legs, w0, aim, ref, holding=total)
    return AssetDecision(
        line=decided.line,
        legs=decided.legs,
        skips=decided.skips,
        warnings=warnings,
        holding=total,
        ref=ref,
        kind="spot",
    )


def _aim(
    inputs: Inputs,
    coin: str,
    market: AssetMarket,
    size: Decimal,
    ref: Decimal,
    w0: Decimal,
    target: Decimal | None,
    *,
    untargeted: str,
) -> _Aim | AssetDecision:
    """The size to trade to, or the decision that the asset does not trade (with its line)."""
    kind = market.kind
    if coin in inputs.goals:
        # A later execution round finishing what round 1 started: trade to the size it aimed
        # at, whatever the band (and whatever fees did to equity since).
        desired = inputs.goals[coin]
        target_weight = target if target is not None else ZERO
        goal = desired * ref / inputs.equity
        if desired == size:
            return AssetDecision(line=line(coin, w0, target_weight, w0, ZERO, "within_band", goal, kind))
        return _Aim(desired, target_weight, ZERO, goal)
    if target is not None:
        wt, explicit_zero = target, target == 0
        threshold = inputs.policy.threshold(wt)
    elif untargeted == "keep":
        what = "perp positions" if kind == "perp" else "spot tokens"
        skip = Skip(coin=coin, code="untargeted_kept", reason=f"not in the targets; kept ({what} untargeted=keep)")
        return AssetDecision(line=line(coin, w0, None, w0, None, "kept", None, kind), skips=(skip,))
    else:
        wt, explicit_zero, threshold = ZERO, True, ZERO
    if size == 0 and wt == 0:
        return AssetDecision(line=line(coin, w0, wt, w0, threshold, "flat", None, kind))
    if explicit_zero:
        return _Aim(ZERO, wt, threshold, wt)
    drift = w0 - wt
    if abs(drift) <= threshold:
        reason = f"within band: drift {signed_w4(drift)} is not beyond {w4(threshold)}"
        return AssetDecision(
            line=line(coin, w0, wt, w0, threshold, "within_band", None, kind),
            skips=(Skip(coin=coin, code="within_band", reason=reason),),
        )
    desired = round_size(wt * inputs.equity / ref, market.sz_decimals, Rounding.NEAREST)
    if inputs.policy.trade_to == "edge" and threshold > 0:
        edge = _edge(market, ref, inputs.equity, w0, wt, threshold)
        if edge is not None:
            return _Aim(edge[0], wt, threshold, edge[1])
    return _Aim(desired, wt, threshold, wt)


def _edge(
    market: AssetMarket, ref: Decimal, equity: Decimal, w0: Decimal, wt: Decimal, threshold: Decimal
) -> tuple[Decimal, Decimal] | None:
    """The size at the band's edge and the edge weight, or None when no lot lies inside the band.

    The size is rounded toward the target so that the projected weight lands inside the band. When
    one lot is wider than the whole band no grid point lies inside it: then the caller trades to the
    lot nearest the target.
    """
    edge_weight = wt + threshold if w0 > wt else wt - threshold
    if w0 > wt:
        edge = round_size(edge_weight * equity / ref, market.sz_decimals, Rounding.FLOOR)
        inside = edge * ref / equity >= wt - threshold
    else:
        edge = round_size(edge_weight * equity / ref, market.sz_decimals, Rounding.CEILING)
        inside = edge * ref / equity <= wt + threshold
    return (edge, edge_weight) if inside else None


def _admit(
    policy: Policy,
    coin: str,
    market: AssetMarket,
    legs: list[Leg],
    w0: Decimal,
    aim: _Aim,
    ref: Decimal,
    *,
    holding: Decimal,
) -> AssetDecision:
    """Keep the legs the exchange would accept; skip the rest with the reason."""
    kind = market.kind
    if not legs:
        return AssetDecision(
            line=line(coin, w0, aim.target_weight, w0, aim.threshold, "skipped", None, kind),
            skips=(Skip(coin=coin, code="below_lot", reason="the change is smaller than one lot"),),
            holding=holding,
            ref=ref,
            kind=kind,
        )
    kept: list[Leg] = []
    skips: list[Skip] = []
    for leg in legs:
        refusal = _refusal(policy, market, leg, ref)
        if refusal is not None:
            skips.append(refusal)
            continue
        whole_close = leg.action in (Action.CLOSE, Action.FLIP_CLOSE) and not market.is_spot
        if whole_close and leg.notional < policy.min_trade_value:
            leg = leg._replace(dust=leg.notional < MIN_ORDER_VALUE)
        kept.append(leg)
    status: AssetStatus = "trade" if kept else "skipped"
    return AssetDecision(
        line=line(coin, w0, aim.target_weight, w0, aim.threshold, status, aim.goal, kind),
        legs=tuple(kept),
        skips=tuple(skips),
        holding=holding,
        ref=ref,
        kind=kind,
    )


def _refusal(policy: Policy, market: AssetMarket, leg: Leg, ref: Decimal) -> Skip | None:
    """Why the exchange would not take ``leg`` (no valid limit, below the minimum), or None."""
    if leg.limit <= 0 or (leg.limit <= ref if leg.is_buy else leg.limit >= ref):
        # The grid has no price between the reference and the slippage bound: an order at the
        # reference or behind it would not match, and one beyond would break the bound.
        return Skip(
            coin=leg.coin,
            code="tick_exceeds_slippage",
            reason=f"the exchange's price grid near {fmt_decimal(ref)} is coarser than the "
            f"slippage of {fmt_decimal(policy.slippage)}: no valid limit price within it",
        )
    whole_close = leg.action in (Action.CLOSE, Action.FLIP_CLOSE) and not market.is_spot
    min_value = policy.min_trade_value
    if leg.notional >= min_value or whole_close:
        return None
    rule = ""
    if market.is_spot and leg.notional < MIN_ORDER_VALUE:
        rule = " (the exchange refuses spot orders under 10 USDC)"
    return Skip(
        coin=leg.coin,
        code="below_minimum",
        reason=f"{leg.action.value} of ${usd(leg.notional)} is below the minimum trade value ${usd(min_value)}{rule}",
    )


def line(
    coin: str,
    current: Decimal,
    target: Decimal | None,
    projected: Decimal,
    threshold: Decimal | None,
    status: AssetStatus,
    goal: Decimal | None = None,
    kind: Literal["perp", "spot", "cash"] = "perp",
) -> AssetLine:
    """An asset's weight line (built without validation: every value is already checked)."""
    return AssetLine(
        coin=coin,
        kind=kind,
        current_weight=current,
        target_weight=target,
        projected_weight=projected,
        threshold=threshold,
        status=status,
        goal=goal,
    )
