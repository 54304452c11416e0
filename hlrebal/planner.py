"""The planner: ``plan(snapshot, targets, policy) -> Plan``, pure and deterministic.

No network, no clock, no randomness: the same snapshot, targets and policy always give the same plan.
The plan is an ordered list of trades the exchange will accept:

* sizes on the lot grid, never a reduce-only order larger than the position;
* limit prices on the price grid, rounded toward the reference so the slippage bound holds;
* no order below the minimum value, except reduce-only closes of whole positions (dust closes);
* phase 1 holds every reducing trade (they free margin), phase 2 every increasing trade, each phase
  largest notional first; phase 2 is scaled down when it would not fit the margin left after phase 1
  or would take gross exposure above ``max_leverage``.

Weights are measured at the reference price (mid, else mark) against the whole account's equity
(perps and spot, see :attr:`Snapshot.equity`); the projected weights assume fills at the reference
price (fees and slippage are reported separately).

Spot holdings are named by their pair ("HYPE/USDC"); a spot sell is phase 1 (it frees USDC), a spot
buy phase 2. In standard accounts perp margin and spot buys draw on two separate USDC balances: the
plan moves cash between them with ``usdClassTransfer`` steps between the phases, keeping on the perp
side what the perp targets need. Unified accounts have one balance and need no transfer.
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
    SPOT_TAKER_FEE,
    Rounding,
    fmt_decimal,
    limit_price,
    round_size,
    round_to_step,
)
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, PerpPosition, Snapshot
from hlrebal.targets import CASH, Targets, check_gross, check_universe

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
    kind: Literal["perp", "spot"] = "perp"

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
    account_mode: str = "standard"
    spot_cash_available: Decimal = Decimal(0)
    """Standard accounts: spot USDC free for spot buys after phase 1 (before any transfer)."""
    spot_cash_required: Decimal = Decimal(0)
    """What phase 2's spot buys cost at their limits, with fees."""


class Transfer(BaseModel):
    """A move of USDC between the perp and the spot balances (standard accounts), between the phases."""

    model_config = _FROZEN

    amount: Decimal
    to_perp: bool
    reason: str
    blocked: bool = False
    """The signer may not move cash (an API wallet, or a vault): the account's owner must do it."""

    @property
    def direction(self) -> str:
        return "spot -> perp" if self.to_perp else "perp -> spot"


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
    transfers: tuple[Transfer, ...] = ()

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

    @property
    def received(self) -> Decimal:
        """The position change the leg brings: a spot buy arrives less its fee (paid in the token)."""
        if self.market.is_spot and self.is_buy:
            return self.size * (_ONE - SPOT_TAKER_FEE)
        return self.signed

    def fee_rate(self, policy: Policy) -> Decimal:
        return SPOT_TAKER_FEE if self.market.is_spot else policy.fee_rate


def _w(value: Decimal) -> str:
    return fmt_decimal(value.quantize(Decimal("0.0001")))


def check_targets(snapshot: Snapshot, targets: Targets, policy: Policy) -> None:
    """The checks of a target file that need the market: names, delisted coins, spot rules, gross."""
    check_universe(
        targets,
        snapshot.assets,
        (c for c, a in snapshot.assets.items() if a.is_delisted),
        snapshot.spot_aliases,
    )
    check_gross(targets, policy.max_leverage)


def plan(
    snapshot: Snapshot,
    targets: Targets,
    policy: Policy,
    *,
    goals: Mapping[str, Decimal] | None = None,
    count_phase1_margin: bool = True,
    allow_transfers: bool = True,
) -> Plan:
    """Turn the difference between the account and its targets into an ordered list of trades.

    ``goals`` pins assets to a position size (on the lot grid) whatever the band: later execution
    rounds finish what the first round started. ``count_phase1_margin=False`` sizes phase 2 against
    the margin and cash free *now*, for re-planning increases after phase 1 has run.
    ``allow_transfers=False`` (an API wallet or a vault signs) sizes phase 2 to the cash each side
    already has; the transfers that would have helped are listed as blocked, for the owner to make.
    """
    equity = snapshot.equity
    if equity <= 0:
        raise EmptyAccountError(
            f"account {snapshot.user} has no equity ({fmt_decimal(equity)} USDC) on {snapshot.network}",
            hint="an API wallet's address holds nothing: use the account's own address (--address)",
        )
    ctx = _Context(snapshot, targets, policy, goals or {}, equity)
    for coin in ctx.perp_coins():
        ctx.plan_perp(coin)
    for pair in ctx.spot_pairs():
        ctx.plan_spot(pair)
    return ctx.finish(count_phase1_margin, allow_transfers)


class _Context:
    """Working state of one planning pass (not shared, not kept)."""

    def __init__(
        self, snapshot: Snapshot, targets: Targets, policy: Policy, goals: Mapping[str, Decimal], equity: Decimal
    ) -> None:
        self.snapshot = snapshot
        self.targets = targets
        self.policy = policy
        self.goals = goals
        self.equity = equity
        self.legs: list[_Leg] = []
        self.skipped: list[Skip] = []
        self.lines: dict[str, AssetLine] = {}
        self.warnings: list[str] = []
        self.ref_of: dict[str, Decimal] = {}
        self.current: dict[str, Decimal] = {}
        self.kind_of: dict[str, Literal["perp", "spot"]] = {}
        # target keys resolved: perps by name, spot pairs by "BASE/USDC" (whatever alias was written)
        self.perp_targets: dict[str, Decimal] = {}
        self.spot_targets: dict[str, Decimal] = {}
        for key, weight in targets.weights.items():
            if key in snapshot.assets or key not in snapshot.spot_aliases:
                self.perp_targets[key] = weight
            else:
                self.spot_targets[snapshot.spot_aliases[key]] = weight

    # ------------------------------------------------------------------ asset lists

    def perp_coins(self) -> list[str]:
        coins = list(self.perp_targets)
        targeted = set(coins)
        coins += sorted(c for c in self.snapshot.positions if c not in targeted)
        coins += sorted(
            c for c in self.goals if c not in targeted and c not in self.snapshot.positions and "/" not in c
        )
        return coins

    def spot_pairs(self) -> list[str]:
        pairs = list(self.spot_targets)
        seen = set(pairs)
        for token, balance in sorted(self.snapshot.spot_balances.items()):
            if token == CASH or balance.total == 0:
                continue
            pair = f"{token}/{CASH}"
            if pair not in seen:
                pairs.append(pair)
                seen.add(pair)
        pairs += sorted(p for p in self.goals if "/" in p and p not in seen)
        return pairs

    # ------------------------------------------------------------------ perps

    def plan_perp(self, coin: str) -> None:
        snapshot, policy, equity = self.snapshot, self.policy, self.equity
        position = snapshot.positions.get(coin)
        szi = position.szi if position is not None else _ZERO
        market = snapshot.assets.get(coin)
        ref = market.reference_price if market is not None else None
        target = self.perp_targets.get(coin)
        if market is None or ref is None:
            why = "not in the exchange's universe" if market is None else "no usable price (no mid or mark)"
            self.skipped.append(Skip(coin=coin, code="no_price" if market else "unknown", reason=why))
            value = position.position_value if position is not None else _ZERO
            weight = (value if szi > 0 else -value) / equity
            self.lines[coin] = _line(coin, weight, target, weight, None, "skipped")
            return
        self.ref_of[coin] = ref
        self.current[coin] = szi
        self.kind_of[coin] = "perp"
        w0 = szi * ref / equity
        decided = self._decide(coin, market, szi, ref, w0, target, untargeted=policy.untargeted)
        if decided is None:
            return
        desired, target_weight, threshold, goal = decided
        new_legs = _legs_for(market, position, szi, desired, ref, policy)
        self._keep_legs(coin, market, new_legs, w0, target_weight, threshold, goal, ref)

    def _decide(
        self,
        coin: str,
        market: AssetMarket,
        size: Decimal,
        ref: Decimal,
        w0: Decimal,
        target: Decimal | None,
        *,
        untargeted: str,
    ) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
        """The size to trade to, or None (with the line and skip recorded) when nothing trades."""
        equity, policy = self.equity, self.policy
        kind = market.kind
        if coin in self.goals:
            # A later execution round finishing what round 1 started: trade to the size it aimed
            # at, whatever the band (and whatever fees did to equity since).
            desired = self.goals[coin]
            target_weight = target if target is not None else _ZERO
            goal = desired * ref / equity
            if desired == size:
                self.lines[coin] = _line(coin, w0, target_weight, w0, _ZERO, "within_band", goal, kind)
                return None
            return desired, target_weight, _ZERO, goal
        if target is not None:
            wt, explicit_zero = target, target == 0
            threshold = policy.threshold(wt)
        elif untargeted == "keep":
            what = "perp positions" if kind == "perp" else "spot tokens"
            self.skipped.append(
                Skip(coin=coin, code="untargeted_kept", reason=f"not in the targets; kept ({what} untargeted=keep)")
            )
            self.lines[coin] = _line(coin, w0, None, w0, None, "kept", None, kind)
            return None
        else:
            wt, explicit_zero, threshold = _ZERO, True, _ZERO
        if size == 0 and wt == 0:
            self.lines[coin] = _line(coin, w0, wt, w0, threshold, "flat", None, kind)
            return None
        if explicit_zero:
            return _ZERO, wt, threshold, wt
        drift = w0 - wt
        if abs(drift) <= threshold:
            self.skipped.append(
                Skip(
                    coin=coin,
                    code="within_band",
                    reason=f"within band: drift {_signed(drift)} is not beyond {_w(threshold)}",
                )
            )
            self.lines[coin] = _line(coin, w0, wt, w0, threshold, "within_band", None, kind)
            return None
        goal = wt
        desired = round_size(wt * equity / ref, market.sz_decimals, Rounding.NEAREST)
        if policy.trade_to == "edge" and threshold > 0:
            # Trade back only to the band's edge, rounding toward the target so that the projected
            # weight lands inside the band. When one lot is wider than the whole band no grid point
            # lies inside it: then trade to the lot nearest the target.
            edge_weight = wt + threshold if w0 > wt else wt - threshold
            if w0 > wt:
                edge = round_size(edge_weight * equity / ref, market.sz_decimals, Rounding.FLOOR)
                inside = edge * ref / equity >= wt - threshold
            else:
                edge = round_size(edge_weight * equity / ref, market.sz_decimals, Rounding.CEILING)
                inside = edge * ref / equity <= wt + threshold
            if inside:
                desired, goal = edge, edge_weight
        return desired, wt, threshold, goal

    def _keep_legs(
        self,
        coin: str,
        market: AssetMarket,
        new_legs: list[_Leg],
        w0: Decimal,
        target_weight: Decimal,
        threshold: Decimal,
        goal: Decimal,
        ref: Decimal,
    ) -> None:
        kind = market.kind
        if not new_legs:
            if coin not in self.lines:
                self.skipped.append(Skip(coin=coin, code="below_lot", reason="the change is smaller than one lot"))
            self.lines.setdefault(coin, _line(coin, w0, target_weight, w0, threshold, "skipped", None, kind))
            return
        kept: list[_Leg] = []
        min_value = self.policy.min_trade_value
        for leg in new_legs:
            if leg.limit <= 0 or (leg.limit <= ref if leg.is_buy else leg.limit >= ref):
                # The grid has no price between the reference and the slippage bound: an order at
                # the reference or behind it would not match, and one beyond would break the bound.
                self.skipped.append(
                    Skip(
                        coin=coin,
                        code="tick_exceeds_slippage",
                        reason=f"the exchange's price grid near {fmt_decimal(ref)} is coarser than the "
                        f"slippage of {fmt_decimal(self.policy.slippage)}: no valid limit price within it",
                    )
                )
                continue
            whole_close = leg.action in (Action.CLOSE, Action.FLIP_CLOSE) and not market.is_spot
            if leg.notional < min_value:
                if whole_close:
                    leg.dust = leg.notional < MIN_ORDER_VALUE
                else:
                    rule = (
                        " (the exchange refuses spot orders under 10 USDC)"
                        if market.is_spot and leg.notional < MIN_ORDER_VALUE
                        else ""
                    )
                    self.skipped.append(
                        Skip(
                            coin=coin,
                            code="below_minimum",
                            reason=f"{leg.action.value} of ${_usd(leg.notional)} is below the minimum "
                            f"trade value ${_usd(min_value)}{rule}",
                        )
                    )
                    continue
            kept.append(leg)
        self.legs.extend(kept)
        self.lines[coin] = _line(coin, w0, target_weight, w0, threshold, "trade" if kept else "skipped", goal, kind)

    # ------------------------------------------------------------------ spot

    def plan_spot(self, pair: str) -> None:
        snapshot, equity = self.snapshot, self.equity
        market = snapshot.spot_assets.get(pair)
        target = self.spot_targets.get(pair)
        token = pair.split("/")[0]
        balance = snapshot.spot_balances.get(token)
        total = balance.total if balance is not None else _ZERO
        free = balance.free if balance is not None else _ZERO
        ref = market.reference_price if market is not None else None
        if market is None or ref is None:
            why = "no USDC market for this token" if market is None else "no usable price (no mid or mark)"
            self.skipped.append(Skip(coin=pair, code="no_price" if market else "unknown", reason=why))
            self.lines[pair] = _line(pair, _ZERO, target, _ZERO, None, "skipped", None, "spot")
            return
        self.ref_of[pair] = ref
        self.current[pair] = total
        self.kind_of[pair] = "spot"
        w0 = total * ref / equity
        decided = self._decide(pair, market, total, ref, w0, target, untargeted=self.policy.untargeted_spot)
        if decided is None:
            return
        desired, target_weight, threshold, goal = decided
        legs = _spot_legs(market, total, free, desired, ref, self.policy)
        if desired < total and free < total and legs:
            self.warnings.append(
                f"{pair}: {fmt_decimal(total - free)} {token} is on hold (open orders) and cannot be sold now"
            )
        self._keep_legs(pair, market, legs, w0, target_weight, threshold, goal, ref)

    # ------------------------------------------------------------------ funding and totals

    def finish(self, count_phase1_margin: bool, allow_transfers: bool = True) -> Plan:
        snapshot, policy, equity = self.snapshot, self.policy, self.equity
        ref_of, current = self.ref_of, self.current
        phase1 = [leg for leg in self.legs if leg.phase == 1]
        phase2 = [leg for leg in self.legs if leg.phase == 2]
        scale = _ONE
        margin_scaled = gross_capped = False
        transfers: list[Transfer] = []

        funding = self._funding(phase1, phase2, count_phase1_margin)
        fitted: list[_Leg] = []
        factors: list[Decimal] = []

        def fit(legs: list[_Leg], need: Decimal, pool: Decimal, what: str) -> None:
            """Keep ``legs`` whole when ``need`` fits ``pool``; else scale them down to it and say so."""
            if legs and need > pool:
                factor = max(pool, _ZERO) / need
                factors.append(factor)
                legs = self._scale(legs, factor)
                self.warnings.append(
                    f"{what} need ${_usd(need)} but about ${_usd(max(pool, _ZERO))} is free after phase 1 and "
                    f"fees: scaled to {_pct(factor)} of plan"
                )
            fitted.extend(legs)

        # Builder dexes: each its own clearinghouse, never helped by the main account.
        for name in sorted({leg.market.dex for leg in phase2 if leg.market.dex}):
            fit(
                [leg for leg in phase2 if leg.market.dex == name],
                funding.dex_needs.get(name, _ZERO),
                funding.dex_pools.get(name, _ZERO),
                f"dex {name} increases (its own margin; hlrebal does not move collateral between dexes)",
            )
        for name, account in sorted(snapshot.dexes.items()):
            if account.collateral_token != 0:
                self.warnings.append(f"dex {name} is collateralised in token {account.collateral_token}, not USDC")
        main = [leg for leg in phase2 if not leg.market.dex]
        if snapshot.unified:
            # One balance for perp margin and spot buys alike.
            fit(
                main,
                funding.perp_need + funding.spot_need,
                funding.perp_pool + funding.spot_pool,
                "increases (margin and cash)",
            )
        else:
            transfer = _balancing_transfer(funding, allow_transfers)
            if transfer is not None:
                transfers.append(transfer)
            fit(
                [leg for leg in main if not leg.market.is_spot],
                funding.perp_need,
                funding.perp_pool,
                "perp increases (margin)",
            )
            fit(
                [leg for leg in main if leg.market.is_spot],
                funding.spot_need,
                funding.spot_pool,
                "spot buys (spot USDC)",
            )
        phase2 = fitted
        if factors:
            margin_scaled = True
            scale = min(factors)

        # Re-planning phase 2 after phase 1 ran (count_phase1_margin=False), reductions still in the
        # plan did not fill and will not before these increases: they cannot make room under the cap.
        reducing = phase1 if count_phase1_margin else []
        projected = self._projected(reducing + phase2)
        gross_after = _gross(projected, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity)
        if phase2 and gross_after > policy.max_leverage:
            gross_without_p2 = gross_after - sum((leg.size * leg.ref for leg in phase2), _ZERO) / equity
            room = policy.max_leverage - gross_without_p2
            added = gross_after - gross_without_p2
            factor = max(room, _ZERO) / added if added > 0 else _ZERO
            gross_capped = True
            phase2 = self._scale(phase2, factor)
            scale = scale * factor
            self.warnings.append(
                f"gross exposure after the plan would be {_w(gross_after)}, above max_leverage "
                f"{fmt_decimal(policy.max_leverage)}: increases scaled to {_pct(factor)}"
            )
            projected = self._projected(reducing + phase2)
            gross_after = _gross(projected, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity)
        projected = self._projected(phase1 + phase2)
        gross_after = _gross(projected, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity)
        if transfers and allow_transfers:
            transfers = self._trim_transfers(transfers, phase2, funding)
        for t in transfers:
            if t.blocked:
                self.warnings.append(
                    f"the signer cannot move cash: the account's owner must transfer ${_usd(t.amount)} USDC "
                    f"{t.direction} (usdClassTransfer) for the rest of the plan to fit"
                )

        # ---- order, freeze, summarise
        phase1.sort(key=lambda leg: (-leg.notional, leg.coin))
        phase2.sort(key=lambda leg: (-leg.notional, leg.coin))
        projected_w = {coin: size * ref_of[coin] / equity for coin, size in projected.items()}
        current_w = {coin: size * ref_of[coin] / equity for coin, size in current.items()}
        trades = tuple(
            _freeze(leg, current_w[leg.coin], self.lines[leg.coin].target_weight, projected_w[leg.coin])
            for leg in phase1 + phase2
        )
        asset_lines = tuple(
            line.model_copy(update={"projected_weight": projected_w[line.coin]}) if line.coin in projected_w else line
            for line in self.lines.values()
        )
        net_before = _net(current, ref_of, equity) + _unpriced_net(snapshot, ref_of, equity)
        net_after = _net(projected, ref_of, equity) + _unpriced_net(snapshot, ref_of, equity)
        # Spot tokens nobody trades or prices still count in equity: they are not cash.
        other = (
            sum(
                (
                    b.total * (snapshot.token_price(t) or _ZERO)
                    for t, b in snapshot.spot_balances.items()
                    if t != CASH and f"{t}/{CASH}" not in ref_of
                ),
                _ZERO,
            )
            / equity
        )
        cash_line = AssetLine.model_construct(
            coin=CASH,
            kind="cash",
            current_weight=_ONE - net_before - other,
            target_weight=self.targets.cash if not _has_kept(asset_lines) else None,
            projected_weight=_ONE - net_after - other,
            threshold=None,
            status="cash",
        )
        traded = sum((t.size * t.reference_price for t in trades), _ZERO)
        fees = sum((leg.notional * leg.fee_rate(policy) for leg in phase1 + phase2), _ZERO)
        required = sum((leg.notional / leg.leverage for leg in phase2 if leg.leverage), _ZERO)
        summary = Summary.model_construct(
            equity=equity,
            turnover=traded / equity,
            traded_notional=traded,
            estimated_fees=fees,
            worst_case_slippage=sum((t.size * abs(t.limit_price - t.reference_price) for t in trades), _ZERO),
            gross_before=_gross(current, ref_of, equity) + _unpriced_gross(snapshot, ref_of, equity),
            gross_after=gross_after,
            net_before=net_before,
            net_after=net_after,
            margin_available=funding.perp_pool_before_transfers,
            margin_required=required,
            scale_factor=scale,
            margin_scaled=margin_scaled,
            gross_capped=gross_capped,
            account_mode=snapshot.account_mode,
            spot_cash_available=funding.spot_pool_before_transfers,
            spot_cash_required=sum(
                (leg.notional * (_ONE + SPOT_TAKER_FEE) for leg in phase2 if leg.market.is_spot), _ZERO
            ),
        )
        if snapshot.open_orders:
            coins_traded = {t.coin for t in trades}
            busy = sorted({snapshot.spot_aliases.get(o.coin, o.coin) for o in snapshot.open_orders})
            clash = [c for c in busy if c in coins_traded]
            self.warnings.append(
                f"the account has {len(snapshot.open_orders)} open order(s) on {', '.join(busy)}: they hold "
                "margin and can fill during a rebalance"
                + (f" (traded coins among them: {', '.join(clash)})" if clash else "")
            )
        kept = [line for line in self.lines.values() if line.status == "kept" and line.current_weight != 0]
        if kept and self.targets.cash_given:
            kept_weight = sum((line.current_weight for line in kept), _ZERO)
            listed = ", ".join(f"{line.coin} {_pct(line.current_weight)}" for line in kept)
            self.warnings.append(
                f"holdings absent from the targets are kept ({listed}): "
                f"cash will end near {_pct(self.targets.cash - kept_weight)}, not the {_pct(self.targets.cash)} the "
                "targets name; add them to the targets or use untargeted=close / untargeted_spot=close"
            )
        if snapshot.unpriced_tokens:
            self.warnings.append(
                f"spot tokens without a USDC price are not counted in equity: {', '.join(snapshot.unpriced_tokens)}"
            )
        return Plan.model_construct(
            version=PLAN_VERSION,
            user=snapshot.user,
            network=snapshot.network,
            snapshot_time=snapshot.time,
            equity=equity,
            trades=trades,
            skipped=tuple(self.skipped),
            assets=(*asset_lines, cash_line),
            summary=summary,
            warnings=tuple(self.warnings),
            policy=policy,
            transfers=tuple(transfers),
        )

    def _projected(self, legs: Iterable[_Leg]) -> dict[str, Decimal]:
        projected = dict(self.current)
        for leg in legs:
            projected[leg.coin] += leg.received
        return projected

    def _scale(self, legs: list[_Leg], factor: Decimal) -> list[_Leg]:
        kept, dropped = _scale_legs(legs, factor, self.policy.min_trade_value)
        self.skipped.extend(dropped)
        return kept

    def _funding(self, phase1: list[_Leg], phase2: list[_Leg], count_phase1: bool) -> _Funding:
        """The USDC each side has for phase 2 and what phase 2 needs of it."""
        snapshot, policy = self.snapshot, self.policy
        after1 = {c: s for c, s in self.current.items() if self.kind_of.get(c) == "perp"}
        spot_proceeds = _ZERO
        if count_phase1:
            for leg in phase1:
                if leg.market.is_spot:
                    spot_proceeds += leg.notional * (_ONE - SPOT_TAKER_FEE)
                else:
                    after1[leg.coin] += leg.signed
        # The executor sets the policy leverage on coins phase 2 trades before sending them: their
        # whole position is margined at that leverage from then on, not only the increase.
        relevered = {leg.coin: Decimal(leg.leverage) for leg in phase2 if leg.leverage and policy.leverage is not None}
        margin_by_dex: dict[str, Decimal] = {}
        for coin, size in after1.items():
            if size != 0:
                market = snapshot.assets[coin]
                leverage = relevered.get(coin) or _position_leverage(snapshot.positions.get(coin), market)
                margin = abs(size) * _margin_price(market, self.ref_of[coin]) / leverage
                margin_by_dex[market.dex] = margin_by_dex.get(market.dex, _ZERO) + margin
        for coin, position in snapshot.positions.items():
            if coin not in after1:  # positions the plan does not look at (no price) still hold margin
                dex = coin.split(":", 1)[0] if ":" in coin else ""
                margin_by_dex[dex] = margin_by_dex.get(dex, _ZERO) + position.margin_used
        fees_by_dex: dict[str, Decimal] = {}
        need_by_dex: dict[str, Decimal] = {}
        for leg in phase1 + phase2:
            if not leg.market.is_spot:
                dex = leg.market.dex
                fees_by_dex[dex] = fees_by_dex.get(dex, _ZERO) + leg.notional * policy.fee_rate
                if leg.leverage and leg.phase == 2:
                    need_by_dex[dex] = need_by_dex.get(dex, _ZERO) + leg.notional / leg.leverage
        margin_used = margin_by_dex.get("", _ZERO)
        perp_fees = fees_by_dex.get("", _ZERO)
        perp_need = need_by_dex.get("", _ZERO)
        spot_need = sum((leg.notional * (_ONE + SPOT_TAKER_FEE) for leg in phase2 if leg.market.is_spot), _ZERO)
        # Builder dexes: each its own clearinghouse and collateral, nothing shared with the main dex.
        dex_pools = {
            name: account.account_value - fees_by_dex.get(name, _ZERO) - margin_by_dex.get(name, _ZERO)
            for name, account in snapshot.dexes.items()
        }
        usdc = snapshot.spot_balances.get(CASH)
        spot_free = usdc.free if usdc is not None else _ZERO
        if snapshot.unified:
            # One balance: the spot USDC total already holds the perp side's value.
            pool = snapshot.spot_usdc - margin_used - perp_fees + spot_proceeds
            return _Funding(pool, _ZERO, perp_need, spot_need, dex_pools, need_by_dex)
        perp_pool = snapshot.account_value - perp_fees - margin_used
        return _Funding(perp_pool, spot_free + spot_proceeds, perp_need, spot_need, dex_pools, need_by_dex)

    def _trim_transfers(self, transfers: list[Transfer], phase2: list[_Leg], funding: _Funding) -> list[Transfer]:
        """Shrink (or drop) a transfer to what the final, possibly scaled, phase 2 still needs."""
        spot_need = sum((leg.notional * (_ONE + SPOT_TAKER_FEE) for leg in phase2 if leg.market.is_spot), _ZERO)
        perp_need = sum((leg.notional / leg.leverage for leg in phase2 if leg.leverage and not leg.market.dex), _ZERO)
        kept = []
        for t in transfers:
            short = (
                perp_need - funding.perp_pool_before_transfers
                if t.to_perp
                else spot_need - funding.spot_pool_before_transfers
            )
            if short <= 0:
                continue
            amount = min(t.amount, _cents_up(short))
            kept.append(t if amount == t.amount else t.model_copy(update={"amount": amount}))
        return kept


class _Funding:
    """USDC pools for phase 2: the perp side (margin) and the spot side (buys)."""

    def __init__(
        self,
        perp_pool: Decimal,
        spot_pool: Decimal,
        perp_need: Decimal,
        spot_need: Decimal,
        dex_pools: dict[str, Decimal] | None = None,
        dex_needs: dict[str, Decimal] | None = None,
    ) -> None:
        self.dex_pools = dex_pools or {}
        self.dex_needs = {k: v for k, v in (dex_needs or {}).items() if k}
        self.perp_pool = perp_pool
        self.spot_pool = spot_pool
        self.perp_need = perp_need
        self.spot_need = spot_need
        self.perp_pool_before_transfers = perp_pool
        self.spot_pool_before_transfers = spot_pool


def _balancing_transfer(funding: _Funding, allow: bool) -> Transfer | None:
    """The usdClassTransfer that covers one side's shortfall from the other side's surplus.

    Rounded up to the cent, but never more than the surplus. When ``allow`` is false the transfer is
    returned as blocked (for the owner to make) and the pools are left as they are.
    """
    perp_short = funding.perp_need - funding.perp_pool
    spot_short = funding.spot_need - funding.spot_pool
    if spot_short > 0 and perp_short < 0:
        to_perp, short, surplus = False, spot_short, -perp_short
        reason = "spot buys need USDC the perp side can spare"
    elif perp_short > 0 and spot_short < 0:
        to_perp, short, surplus = True, perp_short, -spot_short
        reason = "perp margin needs USDC the spot side can spare"
    else:
        return None
    amount = _cents_up(min(short, surplus))
    if amount > surplus:
        amount = _cents_down(surplus)
    if amount <= 0:
        return None
    if allow:
        moved = amount if to_perp else -amount
        funding.perp_pool += moved
        funding.spot_pool -= moved
    return Transfer(amount=amount, to_perp=to_perp, reason=reason, blocked=not allow)


def _cents_up(value: Decimal) -> Decimal:
    return round_to_step(value, Decimal("0.01"), Rounding.CEILING)


def _cents_down(value: Decimal) -> Decimal:
    return round_to_step(value, Decimal("0.01"), Rounding.FLOOR)


def _legs_for(
    market: AssetMarket,
    position: PerpPosition | None,
    szi: Decimal,
    desired: Decimal,
    ref: Decimal,
    policy: Policy,
) -> list[_Leg]:
    """The legs that take a perp position from ``szi`` to ``desired`` (both on the lot grid)."""
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


def _spot_legs(
    market: AssetMarket, total: Decimal, free: Decimal, desired: Decimal, ref: Decimal, policy: Policy
) -> list[_Leg]:
    """The order that takes a spot balance from ``total`` to ``desired`` tokens.

    Sells never exceed the free balance (rounded down to the lot); a sell that would leave less than
    the minimum behind sells everything that is free instead.
    """
    szd = market.sz_decimals
    slip = policy.slippage
    if desired > total:
        # The spot fee is paid in the token received: buy enough that what arrives is the goal.
        size = round_size((desired - total) / (_ONE - SPOT_TAKER_FEE), szd, Rounding.NEAREST)
        if size <= 0:
            return []
        action = Action.OPEN if total == 0 else Action.INCREASE
        return [_Leg(market, action, True, size, ref, limit_price(ref, True, slip, szd, spot=True), None, True)]
    sellable = round_size(free, szd, Rounding.DOWN)
    size = min(round_size(total - desired, szd, Rounding.NEAREST), sellable)
    if size <= 0:
        return []
    sell_limit = limit_price(ref, False, slip, szd, spot=True)
    remainder = total - size
    if desired == 0 or remainder * sell_limit < policy.min_trade_value:
        size = sellable
    action = Action.CLOSE if size == total else Action.REDUCE
    return [_Leg(market, action, False, size, ref, sell_limit, None, True)]


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


def _scale_legs(legs: list[_Leg], factor: Decimal, min_value: Decimal) -> tuple[list[_Leg], list[Skip]]:
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
    kind: str = "perp",
) -> AssetLine:
    return AssetLine.model_construct(
        coin=coin,
        kind=kind,  # type: ignore[arg-type]
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
        reduce_only=leg.phase == 1 and not leg.market.is_spot,
        dust=leg.dust,
        current_weight=current,
        target_weight=target if target is not None else _ZERO,
        projected_weight=projected,
        leverage=leg.leverage,
        is_cross=leg.is_cross,
        sz_decimals=leg.market.sz_decimals,
        kind=leg.market.kind,
    )


def _signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "") + _w(value)


def _usd(value: Decimal) -> str:
    return f"{value:,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"
