"""The planner: ``plan(snapshot, targets, policy) -> Plan``, pure and deterministic.

No network, no clock, no randomness: the same snapshot, targets and policy always give the same plan.
The plan is an ordered list of trades the exchange will accept:

* sizes on the lot grid, never a reduce-only order larger than the position;
* limit prices on the price grid, rounded toward the reference so the slippage bound holds;
* no order below the minimum value, except reduce-only closes of whole positions (dust closes);
* phase 1 holds every reducing trade (they free margin), phase 2 every increasing trade, each phase
  largest notional first; phase 2 is scaled down when it would not fit the margin left after phase 1
  or would take gross exposure above ``max_leverage``.

Weights are measured at the reference price (mid, else mark) against the account's equity; the
projected weights assume fills at the reference price (fees and slippage are reported separately).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hlrebal.errors import BadInputError
from hlrebal.market import (
    MIN_ORDER_VALUE,
    Rounding,
    fmt_decimal,
    limit_price,
    round_size,
)
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, PerpPosition, Snapshot
from hlrebal.targets import CASH, Targets

PLAN_VERSION = 1
_ZERO = Decimal(0)
_ONE = Decimal(1)
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Action(StrEnum):
    """What a trade does to its position."""

    CLOSE = "close"  # reduce-only, the whole position
    REDUCE = "reduce"  # reduce-only, part of the position
    FLIP_CLOSE = "flip_close"  # reduce-only close ahead of an opposite open
    OPEN = "open"  # from no position
    INCREASE = "increase"  # same side, larger
    FLIP_OPEN = "flip_open"  # the opposite side, after the flip close


REDUCING = frozenset({Action.CLOSE, Action.REDUCE, Action.FLIP_CLOSE})


class Trade(BaseModel):
    """One order of the plan."""

    model_config = _FROZEN

    coin: str
    asset_id: int
    phase: Literal[1, 2]
    action: Action
    side: Literal["buy", "sell"]
    size: Decimal
    reference_price: Decimal
    limit_price: Decimal
    notional: Decimal
    """size x limit price: the value the exchange checks against its minimum."""
    reduce_only: bool
    dust: bool = False
    """A whole-position close below the exchange's $10 minimum (accepted or reported, never retried)."""
    current_weight: Decimal
    target_weight: Decimal
    projected_weight: Decimal
    leverage: int | None = None
    """Leverage the increase is margined at (phase 2), or None for reductions."""
    is_cross: bool = True
    sz_decimals: int = 0

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.side == "buy" else -self.size


class Skip(BaseModel):
    """An asset the plan does not trade, and why."""

    model_config = _FROZEN

    coin: str
    code: str
    reason: str


class AssetLine(BaseModel):
    """Weights of one asset (or cash) before, at target and after the plan."""

    model_config = _FROZEN

    coin: str
    kind: Literal["perp", "spot", "cash"] = "perp"
    current_weight: Decimal
    target_weight: Decimal | None
    """None for an untargeted position that is kept."""
    projected_weight: Decimal
    threshold: Decimal | None = None
    status: Literal["trade", "within_band", "skipped", "kept", "flat", "cash"] = "trade"
    goal: Decimal | None = None
    """The weight a traded asset aims at (the target, or the band edge in edge mode)."""

    @property
    def drift(self) -> Decimal | None:
        """Current minus target weight."""
        return None if self.target_weight is None else self.current_weight - self.target_weight

    @property
    def residual(self) -> Decimal | None:
        """Projected minus target weight: what the plan leaves."""
        return None if self.target_weight is None else self.projected_weight - self.target_weight


class Summary(BaseModel):
    """Totals of a plan."""

    model_config = _FROZEN

    equity: Decimal
    turnover: Decimal
    """Traded notional at reference prices / equity."""
    traded_notional: Decimal
    estimated_fees: Decimal
    worst_case_slippage: Decimal
    """What the trades cost if every one fills at its limit price, against the reference."""
    gross_before: Decimal
    gross_after: Decimal
    net_before: Decimal
    net_after: Decimal
    margin_available: Decimal
    """Equity, less estimated fees, less the margin positions hold after phase 1."""
    margin_required: Decimal
    """Initial margin phase 2 needs, at each trade's leverage."""
    scale_factor: Decimal
    """1 when phase 2 fits; below 1 when it was scaled down."""
    margin_scaled: bool
    gross_capped: bool


class Plan(BaseModel):
    """The ordered trades that bring the account to its targets, and everything said about them."""

    model_config = _FROZEN

    version: int = PLAN_VERSION
    user: str
    network: str
    snapshot_time: int
    equity: Decimal
    trades: tuple[Trade, ...]
    skipped: tuple[Skip, ...]
    assets: tuple[AssetLine, ...]
    summary: Summary
    warnings: tuple[str, ...] = ()
    policy: Policy

    @property
    def is_empty(self) -> bool:
        return not self.trades

    def phase(self, n: int) -> tuple[Trade, ...]:
        """The trades of phase ``n`` in execution order."""
        return tuple(t for t in self.trades if t.phase == n)


class EmptyAccountError(BadInputError):
    """The account has no equity: usually the address is an API wallet's, not the account's."""

    kind = "empty_account"


# --------------------------------------------------------------------------- planning


class _Leg:
    """A mutable working trade; frozen into a :class:`Trade` at the end."""

    __slots__ = ("action", "coin", "dust", "is_buy", "is_cross", "leverage", "limit", "market", "ref", "size")

    def __init__(
        self,
        market: AssetMarket,
        action: Action,
        is_buy: bool,
        size: Decimal,
        ref: Decimal,
        limit: Decimal,
        leverage: int | None,
        is_cross: bool,
    ) -> None:
        self.market = market
        self.coin = market.coin
        self.action = action
        self.is_buy = is_buy
        self.size = size
        self.ref = ref
        self.limit = limit
        self.leverage = leverage
        self.is_cross = is_cross
        self.dust = False

    @property
    def notional(self) -> Decimal:
        return self.size * self.limit

    @property
    def signed(self) -> Decimal:
        return self.size if self.is_buy else -self.size

    @property
    def phase(self) -> Literal[1, 2]:
        return 1 if self.action in REDUCING else 2


def _w(value: Decimal) -> str:
    return fmt_decimal(value.quantize(Decimal("0.0001")))


def plan(
    snapshot: Snapshot,
    targets: Targets,
    policy: Policy,
    *,
    goals: Mapping[str, Decimal] | None = None,
    count_phase1_margin: bool = True,
) -> Plan:
    """Turn the difference between the account and its targets into an ordered list of trades.

    ``goals`` pins coins to a position size (on the lot grid) whatever the band: later execution
    rounds finish what the first round started. ``count_phase1_margin=False`` sizes phase 2 against
    the margin free *now*, for re-planning increases after phase 1 has run.
    """
    equity = snapshot.equity
    if equity <= 0:
        raise EmptyAccountError(
            f"account {snapshot.user} has no equity ({fmt_decimal(equity)} USDC) on {snapshot.network}",
            hint="an API wallet's address holds nothing: use the account's own address (--address)",
        )
    goals = goals or {}
    fee_rate = policy.fee_rate
    min_value = policy.min_trade_value
    legs: list[_Leg] = []
    skipped: list[Skip] = []
    lines: dict[str, AssetLine] = {}
    warnings: list[str] = []

    coins = list(targets.weights)
    targeted = set(coins)
    coins += sorted(c for c in snapshot.positions if c not in targeted)
    coins += sorted(c for c in goals if c not in targeted and c not in snapshot.positions)

    ref_of: dict[str, Decimal] = {}
    current_size: dict[str, Decimal] = {}
    for coin in coins:
        position = snapshot.positions.get(coin)
        szi = position.szi if position is not None else _ZERO
        market = snapshot.assets.get(coin)
        ref = market.reference_price if market is not None else None
        target = targets.weights.get(coin)
        if market is None or ref is None:
            why = "not in the exchange's universe" if market is None else "no usable price (no mid or mark)"
            skipped.append(Skip(coin=coin, code="no_price" if market else "unknown", reason=why))
            value = position.position_value if position is not None else _ZERO
            weight = (value if szi > 0 else -value) / equity
            lines[coin] = _line(coin, weight, target, weight, None, "skipped")
            continue
        ref_of[coin] = ref
        current_size[coin] = szi
        w0 = szi * ref / equity

        if coin in goals:
            # A later execution round finishing what round 1 started: trade to the size it aimed
            # at, whatever the band (and whatever fees did to equity since).
            desired = goals[coin]
            target_weight = target if target is not None else _ZERO
            threshold = _ZERO
            goal: Decimal | None = desired * ref / equity
            if desired == szi:
                lines[coin] = _line(coin, w0, target_weight, w0, threshold, "within_band", goal)
                continue
        else:
            if target is not None:
                wt, explicit_zero = target, target == 0
                threshold = policy.threshold(wt)
                target_weight = wt
            elif policy.untargeted == "keep":
                skipped.append(
                    Skip(coin=coin, code="untargeted_kept", reason="not in the targets; kept (untargeted=keep)")
                )
                lines[coin] = _line(coin, w0, None, w0, None, "kept")
                continue
            else:
                wt, explicit_zero, threshold, target_weight = _ZERO, True, _ZERO, _ZERO
            goal = wt
            if szi == 0 and wt == 0:
                lines[coin] = _line(coin, w0, target_weight, w0, threshold, "flat")
                continue
            if explicit_zero:
                desired = _ZERO
            else:
                drift = w0 - wt
                if abs(drift) <= threshold:
                    skipped.append(
                        Skip(
                            coin=coin,
                            code="within_band",
                            reason=f"within band: drift {_signed(drift)} is not beyond {_w(threshold)}",
                        )
                    )
                    lines[coin] = _line(coin, w0, target_weight, w0, threshold, "within_band")
                    continue
                desired = round_size(wt * equity / ref, market.sz_decimals, Rounding.NEAREST)
                if policy.trade_to == "edge" and threshold > 0:
                    # Trade back only to the band's edge, rounding toward the target so that the
                    # projected weight lands inside the band. When one lot is wider than the whole
                    # band no grid point lies inside it: then trade to the lot nearest the target.
                    edge_weight = wt + threshold if w0 > wt else wt - threshold
                    if w0 > wt:
                        edge = round_size(edge_weight * equity / ref, market.sz_decimals, Rounding.FLOOR)
                        inside = edge * ref / equity >= wt - threshold
                    else:
                        edge = round_size(edge_weight * equity / ref, market.sz_decimals, Rounding.CEILING)
                        inside = edge * ref / equity <= wt + threshold
                    if inside:
                        desired, goal = edge, edge_weight

        new_legs = _legs_for(market, position, szi, desired, ref, policy)
        if not new_legs:
            skipped.append(Skip(coin=coin, code="below_lot", reason="the change is smaller than one lot"))
            lines[coin] = _line(coin, w0, target_weight, w0, threshold, "skipped")
            continue
        kept_legs: list[_Leg] = []
        for leg in new_legs:
            if leg.limit <= 0 or (leg.limit <= ref if leg.is_buy else leg.limit >= ref):
                # The grid has no price between the reference and the slippage bound: an order at
                # the reference or behind it would not match, and one beyond would break the bound.
                skipped.append(
                    Skip(
                        coin=coin,
                        code="tick_exceeds_slippage",
                        reason=f"the exchange's price grid near {fmt_decimal(ref)} is coarser than the "
                        f"slippage of {fmt_decimal(policy.slippage)}: no valid limit price within it",
                    )
                )
                continue
            whole_close = leg.action in (Action.CLOSE, Action.FLIP_CLOSE)
            if leg.notional < min_value:
                if whole_close:
                    leg.dust = leg.notional < MIN_ORDER_VALUE
                else:
                    skipped.append(
                        Skip(
                            coin=coin,
                            code="below_minimum",
                            reason=f"{leg.action.value} of ${_usd(leg.notional)} is below the minimum "
                            f"trade value ${_usd(min_value)}",
                        )
                    )
                    continue
            kept_legs.append(leg)
        legs.extend(kept_legs)
        lines[coin] = _line(coin, w0, target_weight, w0, threshold, "trade" if kept_legs else "skipped", goal)

    # ---- margin and gross exposure for phase 2
    phase1 = [leg for leg in legs if leg.phase == 1]
    phase2 = [leg for leg in legs if leg.phase == 2]
    after1 = dict(current_size)
    if count_phase1_margin:
        for leg in phase1:
            after1[leg.coin] += leg.signed
    margin_used_after1 = _ZERO
    for coin, size in after1.items():
        if size != 0:
            margin_used_after1 += (
                abs(size)
                * _margin_price(snapshot.assets[coin], ref_of[coin])
                / _position_leverage(snapshot.positions.get(coin), snapshot.assets[coin])
            )
    # positions the plan does not look at (no price) still hold margin
    for coin, position in snapshot.positions.items():
        if coin not in after1:
            margin_used_after1 += position.margin_used

    scale = _ONE
    margin_scaled = gross_capped = False
    fees = sum((leg.notional for leg in legs), _ZERO) * fee_rate
    available = equity - fees - margin_used_after1
    required = sum((leg.notional / leg.leverage for leg in phase2 if leg.leverage), _ZERO)
    if phase2 and required > available:
        scale = max(available, _ZERO) / required
        margin_scaled = True
        phase2, dropped = _scale_legs(phase2, scale, min_value, current_size)
        skipped.extend(dropped)
        warnings.append(
            f"phase 2 needs ${_usd(required)} of margin but about ${_usd(max(available, _ZERO))} is free after "
            f"phase 1 and fees: increases scaled to {_pct(scale)} of plan"
        )
        required = sum((leg.notional / leg.leverage for leg in phase2 if leg.leverage), _ZERO)

    projected = dict(current_size)
    for leg in phase1 + phase2:
        projected[leg.coin] += leg.signed
    gross_after = _gross(projected, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity)
    if phase2 and gross_after > policy.max_leverage:
        gross_without_p2 = gross_after - sum((leg.size * leg.ref for leg in phase2), _ZERO) / equity
        room = policy.max_leverage - gross_without_p2
        added = gross_after - gross_without_p2
        factor = max(room, _ZERO) / added if added > 0 else _ZERO
        gross_capped = True
        phase2, dropped = _scale_legs(phase2, factor, min_value, current_size)
        skipped.extend(dropped)
        scale = scale * factor
        warnings.append(
            f"gross exposure after the plan would be {_w(gross_after)}, above max_leverage "
            f"{fmt_decimal(policy.max_leverage)}: increases scaled to {_pct(factor)}"
        )
        required = sum((leg.notional / leg.leverage for leg in phase2 if leg.leverage), _ZERO)
        projected = dict(current_size)
        for leg in phase1 + phase2:
            projected[leg.coin] += leg.signed
        gross_after = _gross(projected, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity)

    # ---- order, freeze, summarise
    phase1.sort(key=lambda leg: (-leg.notional, leg.coin))
    phase2.sort(key=lambda leg: (-leg.notional, leg.coin))
    projected_w = {coin: size * ref_of[coin] / equity for coin, size in projected.items()}
    current_w = {coin: size * ref_of[coin] / equity for coin, size in current_size.items()}
    trades = tuple(
        _freeze(leg, current_w[leg.coin], lines[leg.coin].target_weight, projected_w[leg.coin])
        for leg in phase1 + phase2
    )
    asset_lines = tuple(
        line.model_copy(update={"projected_weight": projected_w[line.coin]}) if line.coin in projected_w else line
        for line in lines.values()
    )
    net_before = _net(current_size, ref_of, equity) + _unpriced_net(snapshot, ref_of, equity)
    net_after = _net(projected, ref_of, equity) + _unpriced_net(snapshot, ref_of, equity)
    cash_line = AssetLine.model_construct(
        coin=CASH,
        kind="cash",
        current_weight=_ONE - net_before,
        target_weight=targets.cash if not _has_kept(asset_lines) else None,
        projected_weight=_ONE - net_after,
        threshold=None,
        status="cash",
    )
    traded = sum((t.size * t.reference_price for t in trades), _ZERO)
    summary = Summary.model_construct(
        equity=equity,
        turnover=traded / equity,
        traded_notional=traded,
        estimated_fees=sum((t.notional for t in trades), _ZERO) * fee_rate,
        worst_case_slippage=sum((t.size * abs(t.limit_price - t.reference_price) for t in trades), _ZERO),
        gross_before=_gross(current_size, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity),
        gross_after=gross_after,
        net_before=net_before,
        net_after=net_after,
        margin_available=available,
        margin_required=required,
        scale_factor=scale,
        margin_scaled=margin_scaled,
        gross_capped=gross_capped,
    )
    if snapshot.open_orders:
        coins_traded = {t.coin for t in trades}
        busy = sorted({o.coin for o in snapshot.open_orders})
        clash = [c for c in busy if c in coins_traded]
        warnings.append(
            f"the account has {len(snapshot.open_orders)} open order(s) on {', '.join(busy)}: they hold "
            "margin and can fill during a rebalance"
            + (f" (traded coins among them: {', '.join(clash)})" if clash else "")
        )
    return Plan.model_construct(
        version=PLAN_VERSION,
        user=snapshot.user,
        network=snapshot.network,
        snapshot_time=snapshot.time,
        equity=equity,
        trades=trades,
        skipped=tuple(skipped),
        assets=(*asset_lines, cash_line),
        summary=summary,
        warnings=tuple(warnings),
        policy=policy,
    )


def _legs_for(
    market: AssetMarket,
    position: PerpPosition | None,
    szi: Decimal,
    desired: Decimal,
    ref: Decimal,
    policy: Policy,
) -> list[_Leg]:
    """The legs that take a position from ``szi`` to ``desired`` (both on the lot grid)."""
    if desired == szi:
        return []
    szd = market.sz_decimals
    slip = policy.slippage
    leverage, is_cross = _open_leverage(position, market, policy)

    def leg(action: Action, is_buy: bool, size: Decimal) -> _Leg:
        lev = leverage if action not in REDUCING else None
        return _Leg(market, action, is_buy, size, ref, limit_price(ref, is_buy, slip, szd), lev, is_cross)

    if szi == 0:
        return [leg(Action.OPEN, desired > 0, abs(desired))]
    if desired == 0:
        return [leg(Action.CLOSE, szi < 0, abs(szi))]
    if (szi > 0) != (desired > 0):
        return [leg(Action.FLIP_CLOSE, szi < 0, abs(szi)), leg(Action.FLIP_OPEN, desired > 0, abs(desired))]
    if abs(desired) > abs(szi):
        return [leg(Action.INCREASE, desired > szi, abs(desired - szi))]
    reduction = leg(Action.REDUCE, desired > szi, abs(szi - desired))
    # A remainder too small to trade on its own would be dust nobody can reduce later: close it all.
    reopen_limit = limit_price(ref, szi > 0, slip, szd)
    if abs(desired) * reopen_limit < policy.min_trade_value:
        return [leg(Action.CLOSE, szi < 0, abs(szi))]
    return [reduction]


def _open_leverage(position: PerpPosition | None, market: AssetMarket, policy: Policy) -> tuple[int, bool]:
    """Leverage and margin mode an increase is margined at."""
    is_cross = position.is_cross if position is not None else not market.only_isolated
    if market.only_isolated:
        is_cross = False
    if policy.leverage is not None:
        return max(1, min(policy.leverage, market.max_leverage)), is_cross
    if position is not None:
        return max(1, position.leverage), is_cross
    return 1, is_cross


def _position_leverage(position: PerpPosition | None, market: AssetMarket) -> Decimal:
    if position is not None and position.leverage > 0:
        return Decimal(position.leverage)
    return _ONE


def _margin_price(market: AssetMarket, ref: Decimal) -> Decimal:
    return market.mark if market.mark is not None and market.mark > 0 else ref


def _scale_legs(
    legs: list[_Leg], factor: Decimal, min_value: Decimal, current_size: Mapping[str, Decimal]
) -> tuple[list[_Leg], list[Skip]]:
    """Scale increasing legs down by ``factor`` (sizes rounded down), dropping those below the minimum."""
    kept: list[_Leg] = []
    dropped: list[Skip] = []
    for leg in legs:
        size = round_size(leg.size * factor, leg.market.sz_decimals, Rounding.DOWN)
        if size <= 0 or size * leg.limit < min_value:
            dropped.append(
                Skip(
                    coin=leg.coin,
                    code="scaled_below_minimum",
                    reason=f"{leg.action.value} scaled down to ${_usd(size * leg.limit)}, below the minimum "
                    f"trade value ${_usd(min_value)}",
                )
            )
            continue
        leg.size = size
        kept.append(leg)
    return kept, dropped


def _gross(sizes: Mapping[str, Decimal], ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return sum((abs(size) * ref_of[coin] for coin, size in sizes.items()), _ZERO) / equity


def _net(sizes: Mapping[str, Decimal], ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return sum((size * ref_of[coin] for coin, size in sizes.items()), _ZERO) / equity


def _unpriced_gross(snapshot: Snapshot, ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return sum((p.position_value for c, p in snapshot.positions.items() if c not in ref_of), _ZERO) / equity


def _unpriced_net(snapshot: Snapshot, ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return (
        sum(
            (
                p.position_value if p.szi > 0 else -p.position_value
                for c, p in snapshot.positions.items()
                if c not in ref_of
            ),
            _ZERO,
        )
        / equity
    )


def _has_kept(lines: Iterable[AssetLine]) -> bool:
    return any(line.status in ("kept", "skipped") and line.target_weight is None for line in lines)


def _line(
    coin: str,
    current: Decimal,
    target: Decimal | None,
    projected: Decimal,
    threshold: Decimal | None,
    status: Any,
    goal: Decimal | None = None,
) -> AssetLine:
    return AssetLine.model_construct(
        coin=coin,
        kind="perp",
        current_weight=current,
        target_weight=target,
        projected_weight=projected,
        threshold=threshold,
        status=status,
        goal=goal,
    )


def _freeze(leg: _Leg, current: Decimal, target: Decimal | None, projected: Decimal) -> Trade:
    return Trade.model_construct(
        coin=leg.coin,
        asset_id=leg.market.asset_id,
        phase=leg.phase,
        action=leg.action,
        side="buy" if leg.is_buy else "sell",
        size=leg.size,
        reference_price=leg.ref,
        limit_price=leg.limit,
        notional=leg.notional,
        reduce_only=leg.phase == 1,
        dust=leg.dust,
        current_weight=current,
        target_weight=target if target is not None else _ZERO,
        projected_weight=projected,
        leverage=leg.leverage,
        is_cross=leg.is_cross,
        sz_decimals=leg.market.sz_decimals,
    )


def _signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "") + _w(value)


def _usd(value: Decimal) -> str:
    return f"{value:,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"
